import type { GuildDirectory } from './guild.js';
import type { EmulatorState, WebhookRecord } from './state.js';
import type { MessageInput } from './validate.js';
import { CHANNEL_TYPE, type EmulatedChannel, type EmulatedMessage, type EmulatedThread } from './types.js';

/**
 * Discord's object shapes as the API and the gateway send them, built from the emulator's records in one
 * place, so REST answers, READY/GUILD_CREATE and INTERACTION_CREATE agree on every field.
 */

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

/** A message flag: this message has a thread started from it. */
const HAS_THREAD = 1 << 5;

/** A guild text or forum channel (resources/channel.mdx). */
export function channelObject(c: EmulatedChannel, position = 0): Record<string, unknown> {
  return {
    id: c.id,
    type: c.type,
    guild_id: c.guildId,
    name: c.name,
    position,
    permission_overwrites: [],
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
    flags: 0,
    ...(c.type === CHANNEL_TYPE.forum
      ? { available_tags: [], default_reaction_emoji: null, default_sort_order: null, default_forum_layout: 0, default_thread_rate_limit_per_user: 0 }
      : {}),
  };
}

/**
 * A thread as a channel object: `parent_id` its channel, `owner_id` who started it, `thread_metadata`.
 * `message_count` leaves out the first message of a forum post and deleted ones; `total_message_sent` does not.
 */
export function threadObject(t: EmulatedThread, state: EmulatorState): Record<string, unknown> {
  const inThread = state.messages(t.id);
  const sent = inThread.filter((m) => m.id !== t.id);
  const last = inThread.filter((m) => !m.deleted).at(-1);
  return {
    id: t.id,
    type: t.type,
    guild_id: t.guildId,
    parent_id: t.parentId,
    owner_id: t.ownerId,
    name: t.name,
    last_message_id: last?.id ?? null,
    rate_limit_per_user: 0,
    flags: 0,
    message_count: sent.filter((m) => !m.deleted).length,
    total_message_sent: sent.length,
    member_count: 1,
    thread_metadata: {
      archived: t.archived,
      auto_archive_duration: t.autoArchiveDuration,
      archive_timestamp: iso(t.archiveTimestamp),
      locked: t.locked,
      create_timestamp: iso(t.createdAt),
    },
    ...(state.channel(t.parentId)?.type === CHANNEL_TYPE.forum ? { applied_tags: [] } : {}),
  };
}

/**
 * A message object (resources/message.mdx). The author follows who posted it: a webhook's messages carry
 * the webhook as author (plus `application_id` when the webhook is the application's), the bot's and
 * interaction answers carry the bot user, answers also `webhook_id` = the application id, as on Discord.
 */
/** A message the bot posts (in a channel, or a thread's first or later message), from validated input. */
export function botMessage(input: MessageInput, at: { id: string; channelId: string; threadId?: string; now: number }): EmulatedMessage {
  const m: EmulatedMessage = {
    id: at.id,
    channelId: at.channelId,
    ...(at.threadId !== undefined ? { threadId: at.threadId } : {}),
    kind: 'bot',
    content: input.content ?? '',
    embeds: input.embeds ?? [],
    components: input.components ?? [],
    flags: input.flags ?? 0,
    createdAt: at.now,
    deleted: false,
  };
  if (input.allowedMentions !== undefined) m.allowedMentions = input.allowedMentions;
  return m;
}

export function messageObject(m: EmulatedMessage, state: EmulatorState, guild: GuildDirectory): Record<string, unknown> {
  const hook: WebhookRecord | undefined = m.kind === 'webhook' && m.webhookId ? state.webhook(m.webhookId) : undefined;
  const author =
    m.kind === 'webhook'
      ? { id: m.webhookId, username: m.username ?? hook?.name ?? 'Captain Hook', avatar: null, discriminator: '0000', public_flags: 0, flags: 0, bot: true, global_name: null }
      : guild.userObject(guild.botUserId);
  const appOwned = m.kind !== 'webhook' || hook?.applicationOwned === true;
  // A message a thread was started from carries it (and the HAS_THREAD flag); a forum post's first message is in its thread.
  const started = m.threadId === undefined ? state.thread(m.id) : undefined;
  return {
    id: m.id,
    type: m.interactionId ? 20 : 0,
    content: m.content,
    channel_id: m.threadId ?? m.channelId,
    author,
    attachments: [],
    embeds: m.embeds.map((e) => ({ type: 'rich', ...(e as object) })),
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: iso(m.createdAt),
    edited_timestamp: m.editedAt === undefined ? null : iso(m.editedAt),
    flags: started ? m.flags | HAS_THREAD : m.flags,
    components: m.components,
    ...(m.webhookId !== undefined ? { webhook_id: m.webhookId } : {}),
    ...(appOwned ? { application_id: state.applicationId } : {}),
    ...(m.threadId ? { position: 0 } : {}),
    ...(started ? { thread: threadObject(started, state) } : {}),
  };
}

/**
 * A webhook object. Fetched by token (`GET /webhooks/{id}/{token}`) it has no `user`; fetched or created
 * by the bot it names its creator, and application-owned ones carry the application id.
 */
export function webhookObject(w: WebhookRecord, state: EmulatorState, guild?: GuildDirectory): Record<string, unknown> {
  return {
    application_id: w.applicationOwned ? state.applicationId : null,
    avatar: null,
    channel_id: w.channelId,
    guild_id: state.guildId,
    id: w.id,
    name: w.name,
    type: 1,
    token: w.token,
    // The emulator's own URL (Discord answers a discord.com one): a client that stores `url` posts here, never to Discord.
    ...(guild ? { url: state.publicWebhook(w).url } : {}),
    ...(guild && w.applicationOwned ? { user: guild.userObject(guild.botUserId) } : {}),
  };
}
