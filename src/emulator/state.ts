import { randomBytes } from 'node:crypto';
import { FORBIDDEN_USERNAME, MESSAGE_LIMITS } from '../discord/limits.js';
import { isDiscordId, WEBHOOK_TOKEN_CHARS } from '../discord/ids.js';
import { snowflake } from '../discord/snowflake.js';
import type { EmulatedChannel, EmulatedMessage, EmulatedWebhook } from './types.js';
import { MAX_WEBHOOKS_PER_CHANNEL } from '../discord/limits.js';

/** Discord refuses a 16th webhook in a channel (error 30007). */
const WEBHOOK_TOKEN = new RegExp(`^${WEBHOOK_TOKEN_CHARS}$`);

/** A control-side mistake (bad id, unknown channel...), with the HTTP status and Discord code to answer it with. */
export class EmulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 0,
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}

export interface WebhookRecord {
  id: string;
  token: string;
  channelId: string;
  name: string;
  applicationOwned: boolean;
}

/**
 * Everything the emulated Discord knows, in memory: one guild, its channels, their webhooks and messages.
 * Nothing survives a restart (as documented for the demo mode). Readers get copies, so a test holding an
 * old array sees a snapshot and cannot corrupt the emulator by mutating it.
 */
export class EmulatorState {
  /** Every channel lives in one emulated guild; the gateway half will announce it. */
  readonly guildId = snowflake();
  /** Same for every webhook: an application-owned webhook carries it as `application_id`. */
  readonly applicationId = snowflake();
  private readonly channelsById = new Map<string, EmulatedChannel>();
  private readonly webhooksById = new Map<string, WebhookRecord>();
  private readonly messagesByChannel = new Map<string, EmulatedMessage[]>();
  private readonly messagesById = new Map<string, EmulatedMessage>();
  /** Called with each channel created (the gateway announces it with CHANNEL_CREATE). */
  onChannelCreated: (channel: EmulatedChannel) => void = () => {};

  /** Base of webhook URLs (`http://host:port/api`); known only once the server listens. */
  constructor(private readonly apiUrl: () => string) {}

  /** Guilds besides the home one that channels may be made in (Guilds.create adds them). */
  private readonly otherGuilds = new Set<string>();

  addGuild(id: string): void {
    this.otherGuilds.add(id);
  }

  /**
   * An existing id returns that channel unchanged, so a restarted demo can seed the same channel again.
   * `guildId`: another guild the bot is in (default: the home guild).
   */
  createChannel(opts: { name?: string; id?: string; guildId?: string } = {}): EmulatedChannel {
    const guildId = opts.guildId ?? this.guildId;
    if (guildId !== this.guildId && !this.otherGuilds.has(guildId)) throw new EmulatorError(404, `unknown guild ${guildId} (create it with createGuild first)`, 10004);
    if (opts.id !== undefined) {
      if (!isDiscordId(opts.id)) throw new EmulatorError(400, `channel id must be a snowflake (17 to 20 digits), got ${JSON.stringify(opts.id)}`);
      const existing = this.channelsById.get(opts.id);
      if (existing) return { ...existing };
    }
    const name = opts.name ?? `channel-${this.channelsById.size + 1}`;
    if (name.length < 1 || name.length > 100) throw new EmulatorError(400, 'channel name must be 1 to 100 characters');
    const channel: EmulatedChannel = { id: opts.id ?? snowflake(), name, guildId };
    this.channelsById.set(channel.id, channel);
    this.messagesByChannel.set(channel.id, []);
    this.onChannelCreated({ ...channel });
    return { ...channel };
  }

  hasChannel(id: string): boolean {
    return this.channelsById.has(id);
  }

  channels(): EmulatedChannel[] {
    return [...this.channelsById.values()].map((c) => ({ ...c }));
  }

  /**
   * `restore` brings back a webhook with the id and token it had before this emulator started (a
   * restarted demo keeps the webhook Herald already stores), as long as nothing holds that id now.
   */
  createWebhook(channelId: string, opts: { name?: string; applicationOwned?: boolean; restore?: { id: string; token: string } } = {}): EmulatedWebhook {
    if (!this.channelsById.has(channelId)) throw new EmulatorError(404, `unknown channel ${channelId}`, 10003);
    if (opts.restore) {
      if (!isDiscordId(opts.restore.id) || !WEBHOOK_TOKEN.test(opts.restore.token)) throw new EmulatorError(400, 'a restored webhook needs a snowflake id and a webhook token');
      if (this.webhooksById.has(opts.restore.id)) throw new EmulatorError(400, `webhook ${opts.restore.id} exists already`);
    }
    const name = opts.name ?? 'Captain Hook'; // Discord's default name for a new webhook
    if (name.length < 1 || name.length > MESSAGE_LIMITS.username) throw new EmulatorError(400, `webhook name must be 1 to ${MESSAGE_LIMITS.username} characters`, 50035);
    if (FORBIDDEN_USERNAME.test(name)) throw new EmulatorError(400, 'webhook name may not contain "discord" or "clyde"', 50035);
    let inChannel = 0;
    for (const w of this.webhooksById.values()) if (w.channelId === channelId) inChannel++;
    if (inChannel >= MAX_WEBHOOKS_PER_CHANNEL) {
      throw new EmulatorError(400, `Maximum number of webhooks reached (${MAX_WEBHOOKS_PER_CHANNEL})`, 30007);
    }
    // 68 url-safe characters, like Discord's tokens: discord.js parses and buckets URLs by that shape.
    const record: WebhookRecord = {
      id: opts.restore?.id ?? snowflake(),
      token: opts.restore?.token ?? randomBytes(51).toString('base64url'),
      channelId,
      name,
      applicationOwned: opts.applicationOwned ?? false,
    };
    this.webhooksById.set(record.id, record);
    return this.publicWebhook(record);
  }

  /** A deleted webhook is forgotten: Discord answers 404 Unknown Webhook from then on. */
  deleteWebhook(webhookId: string): boolean {
    return this.webhooksById.delete(webhookId);
  }

  webhook(id: string): WebhookRecord | undefined {
    return this.webhooksById.get(id);
  }

  publicWebhook(w: WebhookRecord): EmulatedWebhook {
    return { ...w, url: `${this.apiUrl()}/webhooks/${w.id}/${w.token}` };
  }

  /** `ephemeral`: only the person who ran the interaction sees it, so it is not in the channel's list. */
  addMessage(m: EmulatedMessage, opts: { ephemeral?: boolean } = {}): void {
    if (!opts.ephemeral) this.messagesByChannel.get(m.channelId)?.push(m);
    this.messagesById.set(m.id, m);
  }

  webhooksIn(channelId?: string): WebhookRecord[] {
    return [...this.webhooksById.values()].filter((w) => channelId === undefined || w.channelId === channelId);
  }

  channel(id: string): EmulatedChannel | undefined {
    const c = this.channelsById.get(id);
    return c && { ...c };
  }

  /** The live record (handlers edit it in place); undefined when unknown. */
  message(id: string): EmulatedMessage | undefined {
    return this.messagesById.get(id);
  }

  messages(channelId: string): EmulatedMessage[] {
    const list = this.messagesByChannel.get(channelId);
    if (!list) throw new EmulatorError(404, `unknown channel ${channelId}`, 10003);
    return list.map((m) => ({ ...m }));
  }
}
