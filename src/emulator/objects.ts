import type { GuildDirectory } from './guild.js';
import type { EmulatorState, WebhookRecord } from './state.js';
import type { EmulatedChannel, EmulatedMessage } from './types.js';

/**
 * Discord's object shapes as the API and the gateway send them, built from the emulator's records in one
 * place, so REST answers, READY/GUILD_CREATE and INTERACTION_CREATE agree on every field.
 */

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

/** A guild text channel (resources/channel.mdx). */
export function channelObject(c: EmulatedChannel, position = 0): Record<string, unknown> {
  return {
    id: c.id,
    type: 0,
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
  };
}

/**
 * A message object (resources/message.mdx). The author follows who posted it: a webhook's messages carry
 * the webhook as author (plus `application_id` when the webhook is the application's), the bot's and
 * interaction answers carry the bot user, answers also `webhook_id` = the application id, as on Discord.
 */
export function messageObject(m: EmulatedMessage, state: EmulatorState, guild: GuildDirectory): Record<string, unknown> {
  const hook: WebhookRecord | undefined = m.kind === 'webhook' && m.webhookId ? state.webhook(m.webhookId) : undefined;
  const author =
    m.kind === 'webhook'
      ? { id: m.webhookId, username: m.username ?? hook?.name ?? 'Captain Hook', avatar: null, discriminator: '0000', public_flags: 0, flags: 0, bot: true, global_name: null }
      : guild.userObject(guild.botUserId);
  const appOwned = m.kind !== 'webhook' || hook?.applicationOwned === true;
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
    flags: m.flags,
    components: m.components,
    ...(m.webhookId !== undefined ? { webhook_id: m.webhookId } : {}),
    ...(appOwned ? { application_id: state.applicationId } : {}),
    ...(m.threadId ? { position: 0 } : {}),
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
