/**
 * The body of Discord's execute-webhook and edit-message calls, as Herald sends them
 * (discord-api-docs: resources/webhook). The embeds' limits are in `limits.ts`.
 */
import type { Embed } from './limits.js';

/** A message component row (type 1) of buttons (type 2), as Discord takes it. */
export interface ActionRow {
  type: 1;
  components: { type: 2; style: number; label: string; custom_id: string }[];
}

export interface WebhookMessage {
  content?: string;
  username?: string;
  embeds: Embed[];
  allowed_mentions: { parse: never[]; roles?: string[]; users?: string[] };
  flags?: number;
  /** In a forum channel: the post (thread) this message opens, named so (the webhook's `thread_name`). */
  thread_name?: string;
  /** Only for application-owned webhooks (others' are ignored by Discord); `[]` clears buttons on an edit. */
  components?: ActionRow[];
}
