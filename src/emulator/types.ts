import type { Logger } from 'pino';

/**
 * The emulator's public types. They live here (not in index.ts) so the internal modules can import
 * them without a cycle through the entry point; index.ts re-exports them unchanged.
 */
export interface EmulatorOptions {
  host?: string;
  port?: number;
  /** Per-webhook bucket: `limit` requests per fixed window of `windowMs` starting at the first request. */
  webhookBucket?: { limit: number; windowMs: number };
  /** Discord's hidden per-channel cap on webhook messages, over a sliding window. */
  channelCap?: { limit: number; windowMs: number };
  logger?: Logger | false;
  /** The only token the bot REST API and the gateway accept. Default: a random `emu.`-prefixed one. */
  botToken?: string;
  /** op 10 HELLO's heartbeat_interval (Discord: 41250 ms); tests shrink it. */
  heartbeatIntervalMs?: number;
  /** Discord's 3-second rule: an interaction not answered by then is gone (10062). Tests may shrink it. */
  interactionDeadlineMs?: number;
  /** How long runCommand/pressButton wait, after dispatch, for a deferred answer's first edit (default 10 s). */
  deferredEditWaitMs?: number;
  /** The bot's global limit (Discord: 50 requests per second; interaction callbacks and webhooks exempt). */
  botGlobalLimit?: { limit: number; windowMs: number };
  /**
   * Whether a thread's webhook messages count against its parent channel's hidden cap (default true: the
   * cautious assumption, since Discord does not say). False: each thread has a cap bucket of its own.
   */
  threadMessagesCountAgainstParent?: boolean;
}

/** Discord's channel types the emulator models (resources/channel.mdx): GUILD_TEXT, GUILD_FORUM, PUBLIC_THREAD. */
export const CHANNEL_TYPE = { text: 0, forum: 15, publicThread: 11 } as const;
/** The channel types a guild channel (not a thread) can be made with. */
export type GuildChannelType = typeof CHANNEL_TYPE.text | typeof CHANNEL_TYPE.forum;
/** Minutes of inactivity before a thread leaves the channel list: the only values Discord takes. */
export const AUTO_ARCHIVE_DURATIONS = [60, 1440, 4320, 10080] as const;
export type AutoArchiveDuration = (typeof AUTO_ARCHIVE_DURATIONS)[number];

export interface EmulatedChannel {
  id: string;
  name: string;
  guildId: string;
  /** 0 text, 15 forum (a forum holds only threads, its "posts"). */
  type: GuildChannelType;
}

/** A public thread (type 11) in a text channel (started from a message) or a forum (a post). */
export interface EmulatedThread {
  /** For a thread started from a message, that message's id (as on Discord); for a forum post, also its first message's id. */
  id: string;
  type: typeof CHANNEL_TYPE.publicThread;
  name: string;
  guildId: string;
  /** The text or forum channel it belongs to. */
  parentId: string;
  /** Who started it: the bot user, a webhook (forum post by thread_name) or a person. */
  ownerId: string;
  archived: boolean;
  /** Locked: only someone with Manage Threads may unarchive it, and nobody else posts in it. */
  locked: boolean;
  autoArchiveDuration: AutoArchiveDuration;
  /** When `archived` last changed (or the thread was made), epoch ms. */
  archiveTimestamp: number;
  createdAt: number;
}

export interface EmulatedWebhook {
  id: string;
  token: string;
  channelId: string;
  name: string;
  applicationOwned: boolean;
  /** `${emulator.url}/webhooks/${id}/${token}` */
  url: string;
}

export interface EmulatedMessage {
  id: string;
  channelId: string;
  /** Who posted it: a webhook (Herald's deliveries), the bot (POST /channels/{id}/messages) or an interaction answer. */
  kind: 'webhook' | 'bot' | 'interaction';
  /** The posting webhook; for an interaction answer the application id (as Discord's webhook_id); absent for the bot. */
  webhookId?: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
  username?: string;
  allowedMentions?: unknown;
  createdAt: number;
  editedAt?: number;
  deleted: boolean;
  /** Set when the message is in a thread: `channelId` stays the thread's parent channel. */
  threadId?: string;
  /** Interaction answers only: the interaction it answers (absent for the component message a press updated). */
  interactionId?: string;
}

export interface EmulatedRole {
  id: string;
  name: string;
  /** Bitfield as a decimal string, like Discord. */
  permissions: string;
}

export interface EmulatedMember {
  id: string;
  username: string;
  roles: string[];
  /** Extra permission bits granted to this member alone (as a channel overwrite would), decimal string. */
  permissions: string;
}

export interface EmulatedCommand {
  id: string;
  name: string;
  description: string;
  type: number;
  options?: unknown[];
  /** Absent for a global command. */
  guildId?: string;
  defaultMemberPermissions: string | null;
}

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: unknown[];
  focused?: boolean;
}

export interface InteractionResult {
  /** The interaction's id (the control API's GET /_emulator/interactions/:id shows its later state). */
  interactionId: string;
  /** The callback type the bot used first (4 reply, 5 deferred reply, 6 deferred update, 7 update message, 8 autocomplete). */
  type: number;
  /** What the person sees as the answer: the reply after every edit of @original (or, for 6/7, the message as updated). */
  content: string;
  embeds: unknown[];
  components: unknown[];
  ephemeral: boolean;
  /** The @original message's id, once there is one (for 6/7 the message the button was on). */
  messageId?: string;
  followups: Array<{ id: string; content: string; embeds: unknown[]; ephemeral: boolean }>;
}

export interface GatewayStats {
  /** Open WebSocket connections (identified or not). */
  connections: number;
  identifies: number;
  resumes: number;
  /** Sessions that can still be resumed (connected or dropped). */
  sessions: number;
}

interface FaultTarget {
  count?: number;
  webhookId?: string;
  channelId?: string;
}

export type Fault =
  | ({ kind: 'error'; status?: 500 | 502 | 503 | 504 } & FaultTarget)
  | ({ kind: 'slow'; delayMs: number } & FaultTarget)
  /** afterSave: the request takes effect (a message is stored) but no answer ever comes: a lost reply. */
  | ({ kind: 'hang'; afterSave?: boolean } & FaultTarget);

export interface EmulatorStats {
  requests: number;
  byStatus: Record<string, number>;
  rateLimited: { user: number; shared: number; global: number };
  invalidRequests10m: number;
  messagesCreated: number;
}

export interface Emulator {
  /** e.g. 'http://127.0.0.1:PORT/api': what Herald gets as DISCORD_API_URL. */
  readonly url: string;
  readonly port: number;
  /** `guildId`: a guild made with createGuild (default: the home guild, `guildId`). `type`: 0 text (default) or 15 forum. */
  createChannel(opts?: { name?: string; id?: string; guildId?: string; type?: GuildChannelType }): EmulatedChannel;
  /**
   * A thread someone in the server starts in a text channel (THREAD_CREATE): from `messageId` (the thread
   * then has its id) or without a message. Forum posts come from a webhook's thread_name or the bot.
   */
  createThread(opts: { channelId: string; name: string; messageId?: string; autoArchiveDuration?: AutoArchiveDuration }): EmulatedThread;
  /** As a moderator does (THREAD_UPDATE): archive, lock, rename. */
  updateThread(threadId: string, patch: { archived?: boolean; locked?: boolean; name?: string; autoArchiveDuration?: AutoArchiveDuration }): EmulatedThread;
  /** A channel's threads in creation order, archived ones included; throws for an unknown channel. */
  threads(channelId: string): EmulatedThread[];
  thread(threadId: string): EmulatedThread | undefined;
  /** `restore`: the id and token a webhook had in an earlier run of the emulator (nothing else survives a restart). */
  createWebhook(channelId: string, opts?: { name?: string; applicationOwned?: boolean; restore?: { id: string; token: string } }): EmulatedWebhook;
  /** Afterwards Discord answers 404 Unknown Webhook (10015). */
  deleteWebhook(webhookId: string): void;
  channels(): EmulatedChannel[];
  /**
   * In creation order, deleted ones included (flagged `deleted`); throws for an unknown channel. Webhook,
   * bot and public interaction messages; ephemeral answers are only seen by their person (see message(id)).
   * A channel's list includes the messages of its threads (each with `threadId`); a thread's id lists only its own.
   */
  messages(channelId: string): EmulatedMessage[];
  /** `count` omitted = until clearFaults(). */
  injectFault(f: Fault): void;
  clearFaults(): void;
  stats(): EmulatorStats;
  resetStats(): void;
  /** Never hangs on 'hang' faults: open connections are destroyed. */
  close(): Promise<void>;

  // The bot's side: gateway, bot REST, acting as a person.
  readonly botToken: string;
  /** Also the bot user's id, as on Discord. */
  readonly applicationId: string;
  readonly guildId: string;
  /** ws://host:port/gateway, what GET /gateway/bot answers. */
  readonly gatewayUrl: string;
  /**
   * permissions: Discord permission bit names (e.g. ['ManageGuild'], comma-separated) or a bitfield string.
   * `id`: a fixed role id (so HERALD_ONCALL_ROLE_IDS can name it in advance). `guildId`: default the home guild.
   */
  createRole(opts: { name: string; permissions?: string | string[]; id?: string; guildId?: string }): EmulatedRole;
  createMember(opts?: { username?: string; roles?: string[]; permissions?: string | string[]; guildId?: string }): EmulatedMember;
  /** The people of a guild (the home one by default), the bot left out. */
  members(opts?: { guildId?: string }): EmulatedMember[];
  /** Gives a member a role, as a server admin does (PUT /guilds/{guild}/members/{user}/roles/{role}). */
  addMemberRole(opts: { userId: string; roleId: string; guildId?: string }): EmulatedMember;
  /**
   * Another server the bot is in (announced with GUILD_CREATE): its channels, members and roles are made
   * with `guildId`; interactions from there carry its id. A public bot can be added to any server.
   */
  createGuild(opts?: { name?: string }): { id: string; name: string };
  /**
   * A server admin's overrides of one command (Server Settings → Integrations): type 1 role (the guild id
   * is @everyone), 2 user, 3 channel. They decide before default_member_permissions.
   */
  setCommandPermissions(opts: { name: string; guildId?: string; permissions: Array<{ id: string; type: 1 | 2 | 3; permission: boolean }> }): void;
  /** Application commands registered by the bot; without scope the global ones, with guildId that guild's. */
  commands(scope?: { guildId?: string }): EmulatedCommand[];
  /**
   * Acts as a person: sends INTERACTION_CREATE to the connected bot, resolves once it answered (and, for a
   * deferred answer, once it first edited it). The result object stays live: later edits and follow-ups show in it.
   */
  runCommand(opts: { userId: string; channelId: string; name: string; options?: CommandOption[] | unknown[] }): Promise<InteractionResult>;
  pressButton(opts: { userId: string; channelId: string; messageId: string; customId: string }): Promise<InteractionResult>;
  /** options: the command's options with the one being typed marked `focused: true`. */
  autocomplete(opts: { userId: string; channelId: string; name: string; options: CommandOption[] | unknown[] }): Promise<Array<{ name: string; value: string | number }>>;
  /**
   * Drops every gateway connection: close code 4000 by default (or `code`), `abrupt`: no close frame at all,
   * `reconnect`: op 7 (the client closes and resumes). Sessions stay resumable unless the close code is 1000/1001.
   */
  dropGateway(opts?: { code?: number; abrupt?: boolean; reconnect?: boolean }): void;
  gatewayStats(): GatewayStats;
  /** Any stored message by id (deleted ones flagged; ephemeral answers included), or undefined. */
  message(id: string): EmulatedMessage | undefined;
}
