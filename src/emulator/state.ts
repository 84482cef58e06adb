import { randomBytes } from 'node:crypto';
import { FORBIDDEN_USERNAME, MESSAGE_LIMITS } from '../discord/limits.js';
import { isDiscordId, WEBHOOK_TOKEN_CHARS } from '../discord/ids.js';
import { snowflake } from '../discord/snowflake.js';
import { AUTO_ARCHIVE_DURATIONS, CHANNEL_TYPE, type AutoArchiveDuration, type EmulatedChannel, type EmulatedMessage, type EmulatedThread, type EmulatedWebhook, type GuildChannelType } from './types.js';
import { MAX_WEBHOOKS_PER_CHANNEL } from '../discord/limits.js';

/** Discord refuses a 16th webhook in a channel (error 30007). */
const WEBHOOK_TOKEN = new RegExp(`^${WEBHOOK_TOKEN_CHARS}$`);

/** Discord's JSON error code for a second thread from one message. */
const THREAD_ALREADY_CREATED = 160004;

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
  /** Threads apart from channels, as Discord lists them (GUILD_CREATE has `channels` and `threads`). */
  private readonly threadsById = new Map<string, EmulatedThread>();
  /** Called with each channel created (the gateway announces it with CHANNEL_CREATE). */
  onChannelCreated: (channel: EmulatedChannel) => void = () => {};
  /** Called with each thread created and each change of one (THREAD_CREATE, THREAD_UPDATE). */
  onThreadCreated: (thread: EmulatedThread) => void = () => {};
  onThreadUpdated: (thread: EmulatedThread) => void = () => {};

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
  createChannel(opts: { name?: string; id?: string; guildId?: string; type?: GuildChannelType } = {}): EmulatedChannel {
    const guildId = opts.guildId ?? this.guildId;
    if (guildId !== this.guildId && !this.otherGuilds.has(guildId)) throw new EmulatorError(404, `unknown guild ${guildId} (create it with createGuild first)`, 10004);
    if (opts.id !== undefined) {
      if (!isDiscordId(opts.id)) throw new EmulatorError(400, `channel id must be a snowflake (17 to 20 digits), got ${JSON.stringify(opts.id)}`);
      const existing = this.channelsById.get(opts.id);
      if (existing) return { ...existing };
    }
    const name = opts.name ?? `channel-${this.channelsById.size + 1}`;
    if (name.length < 1 || name.length > 100) throw new EmulatorError(400, 'channel name must be 1 to 100 characters');
    const type = opts.type ?? CHANNEL_TYPE.text;
    if (type !== CHANNEL_TYPE.text && type !== CHANNEL_TYPE.forum) throw new EmulatorError(400, `channel type must be ${CHANNEL_TYPE.text} (text) or ${CHANNEL_TYPE.forum} (forum), got ${JSON.stringify(type)}`);
    if (opts.id !== undefined && this.threadsById.has(opts.id)) throw new EmulatorError(400, `${opts.id} is a thread's id`);
    const channel: EmulatedChannel = { id: opts.id ?? snowflake(), name, guildId, type };
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

  /**
   * `ephemeral`: only the person who ran the interaction sees it, so it is not in the channel's list. A
   * message in a thread is listed in the thread and in its parent channel (flagged by `threadId`), so
   * whoever reads a channel sees everything posted through its webhooks.
   */
  addMessage(m: EmulatedMessage, opts: { ephemeral?: boolean } = {}): void {
    if (!opts.ephemeral) {
      this.messagesByChannel.get(m.channelId)?.push(m);
      if (m.threadId !== undefined) this.messagesByChannel.get(m.threadId)?.push(m);
    }
    this.messagesById.set(m.id, m);
  }

  /**
   * A public thread in `parentId`. `id`: the message it starts from (Discord gives the thread that id, so
   * a message has at most one thread: 160004 for a second).
   */
  createThread(opts: { parentId: string; name: string; ownerId: string; id?: string; autoArchiveDuration?: AutoArchiveDuration }, now = Date.now()): EmulatedThread {
    const parent = this.channelsById.get(opts.parentId);
    if (!parent) throw new EmulatorError(404, `unknown channel ${opts.parentId}`, 10003);
    if (opts.id !== undefined && this.threadsById.has(opts.id)) throw new EmulatorError(400, 'A thread has already been created for this message', THREAD_ALREADY_CREATED);
    if (typeof opts.name !== 'string' || opts.name.length < 1 || opts.name.length > 100) throw new EmulatorError(400, 'thread name must be 1 to 100 characters', 50035);
    const duration = opts.autoArchiveDuration ?? 4320; // Discord's default when none is given: 3 days
    if (!AUTO_ARCHIVE_DURATIONS.includes(duration)) throw new EmulatorError(400, `auto_archive_duration must be one of ${AUTO_ARCHIVE_DURATIONS.join(', ')}`, 50035);
    const thread: EmulatedThread = {
      id: opts.id ?? snowflake(now),
      type: CHANNEL_TYPE.publicThread,
      name: opts.name,
      guildId: parent.guildId,
      parentId: parent.id,
      ownerId: opts.ownerId,
      archived: false,
      locked: false,
      autoArchiveDuration: duration,
      archiveTimestamp: now,
      createdAt: now,
    };
    this.threadsById.set(thread.id, thread);
    this.messagesByChannel.set(thread.id, []);
    this.onThreadCreated({ ...thread });
    return { ...thread };
  }

  /** Changes a thread (archive, lock, rename); `archiveTimestamp` moves when `archived` or the duration changes, as on Discord. */
  updateThread(id: string, patch: { archived?: boolean; locked?: boolean; name?: string; autoArchiveDuration?: AutoArchiveDuration }, now = Date.now()): EmulatedThread {
    const t = this.threadsById.get(id);
    if (!t) throw new EmulatorError(404, `unknown thread ${id}`, 10003);
    if (patch.name !== undefined && (patch.name.length < 1 || patch.name.length > 100)) throw new EmulatorError(400, 'thread name must be 1 to 100 characters', 50035);
    if (patch.autoArchiveDuration !== undefined && !AUTO_ARCHIVE_DURATIONS.includes(patch.autoArchiveDuration)) {
      throw new EmulatorError(400, `auto_archive_duration must be one of ${AUTO_ARCHIVE_DURATIONS.join(', ')}`, 50035);
    }
    const moved = (patch.archived !== undefined && patch.archived !== t.archived) || (patch.autoArchiveDuration !== undefined && patch.autoArchiveDuration !== t.autoArchiveDuration);
    if (patch.archived !== undefined) t.archived = patch.archived;
    if (patch.locked !== undefined) t.locked = patch.locked;
    if (patch.name !== undefined) t.name = patch.name;
    if (patch.autoArchiveDuration !== undefined) t.autoArchiveDuration = patch.autoArchiveDuration;
    if (moved) t.archiveTimestamp = now;
    this.onThreadUpdated({ ...t });
    return { ...t };
  }

  /** A channel id or a thread's: the channel (a thread's parent) and the thread, if it is one; undefined when unknown. */
  place(id: string): { channel: EmulatedChannel; thread?: EmulatedThread } | undefined {
    const thread = this.threadsById.get(id);
    const channel = this.channelsById.get(thread ? thread.parentId : id);
    if (!channel) return undefined;
    return thread ? { channel: { ...channel }, thread: { ...thread } } : { channel: { ...channel } };
  }

  thread(id: string): EmulatedThread | undefined {
    const t = this.threadsById.get(id);
    return t && { ...t };
  }

  /** In creation order; all of them (archived ones too) or one channel's. */
  threads(parentId?: string): EmulatedThread[] {
    return [...this.threadsById.values()].filter((t) => parentId === undefined || t.parentId === parentId).map((t) => ({ ...t }));
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

  /** A channel's messages (its threads' included) or, for a thread's id, that thread's. */
  messages(channelId: string): EmulatedMessage[] {
    const list = this.messagesByChannel.get(channelId);
    if (!list) throw new EmulatorError(404, `unknown channel ${channelId}`, 10003);
    return list.map((m) => ({ ...m }));
  }
}
