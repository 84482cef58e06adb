import { DISCORD_ID_DIGITS } from './ids.js';

/** What a mention changes in a webhook message (any message shape with these fields will do). */
export interface MentionableMessage {
  content?: string;
  allowed_mentions: { parse: never[]; roles?: string[]; users?: string[] };
  flags?: number;
}

/** An escalation step's mention as stored on its delivery: `role:<id>` or `user:<id>`. */
export type Mention = `role:${string}` | `user:${string}`;

const MENTION = new RegExp(`^(role|user):(${DISCORD_ID_DIGITS})$`);

/**
 * Stored in a delivery's `mention` for a page that names nobody: an incident member whose severity rose to
 * P0/P1 (docs/incidents.md). It pings no one (`mentionMarkup` knows it not); the message notifies as any post.
 */
export const RAISED_PAGE = 'page:raised';

export const mentionOf = (kind: 'role' | 'user', id: string): Mention => `${kind}:${id}`;

/** `<@&id>` for a role, `<@id>` for a user; undefined for anything else. */
export function mentionMarkup(mention: string): string | undefined {
  const m = MENTION.exec(mention);
  if (!m) return undefined;
  return m[1] === 'role' ? `<@&${m[2]}>` : `<@${m[2]}>`;
}

/**
 * Puts the mention in the message's content and allows exactly it to ping (a webhook's default parses
 * users only, and a role must be named explicitly; nothing else in the message may ping). A silent
 * (P3) card is no longer silent: the point of the step is to notify someone.
 */
export function withMention<M extends MentionableMessage>(message: M, mention: string): M {
  const markup = mentionMarkup(mention);
  if (!markup) return message;
  const id = mention.slice(mention.indexOf(':') + 1);
  message.content = markup;
  message.allowed_mentions = mention.startsWith('role:') ? { parse: [], roles: [id] } : { parse: [], users: [id] };
  delete message.flags;
  return message;
}
