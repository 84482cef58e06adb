/**
 * Discord's message limits (discord-api-docs: resources/message, resources/webhook).
 * One table, read by the renderer (never produce what Discord rejects) and by the emulator
 * (reject what Discord rejects), so the two cannot drift apart.
 */
export const MESSAGE_LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** Sum of title, description, field names and values, footer text and author name over all embeds. */
  embedsTotal: 6000,
  username: 80,
  actionRows: 5,
  buttonsPerRow: 5,
  customId: 100,
} as const;

/** Words Discord refuses in a webhook username (case-insensitive). */
/** Webhooks one channel may have (Discord answers 30007 beyond it). */
export const MAX_WEBHOOKS_PER_CHANNEL = 15;

export const FORBIDDEN_USERNAME = /discord|clyde/i;

/** Message flag: post without a push/desktop notification. */
export const SUPPRESS_NOTIFICATIONS = 1 << 12;

/** Discord JSON error codes that Herald and the emulator speak. */
export const DISCORD_ERROR = {
  unknownWebhook: 10015,
  unknownMessage: 10008,
  invalidWebhookToken: 50027,
  emptyMessage: 50006,
  invalidFormBody: 50035,
  /** A thread id (`?thread_id=`, a channel id) Discord does not know: the thread was deleted. */
  unknownChannel: 10003,
  /** Posting into a thread that is archived and locked. */
  threadArchived: 50083,
  /** Posting into a locked thread. */
  threadLocked: 160005,
  /** A thread was already started from this message. */
  threadAlreadyCreated: 160004,
} as const;

/** Longest thread name Discord takes. */
export const THREAD_NAME_MAX = 100;

export interface Embed {
  title?: string;
  description?: string;
  url?: string;
  color?: number;
  timestamp?: string;
  footer?: { text: string };
  author?: { name: string };
  fields?: { name: string; value: string; inline?: boolean }[];
}

/** The characters an embed counts towards the 6000 total. */
export function embedLength(e: Embed): number {
  let n = (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.author?.name.length ?? 0);
  for (const f of e.fields ?? []) n += f.name.length + f.value.length;
  return n;
}
