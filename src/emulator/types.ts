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
}

export interface EmulatedChannel {
  id: string;
  name: string;
  guildId: string;
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
  webhookId: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
  username?: string;
  allowedMentions?: unknown;
  createdAt: number;
  editedAt?: number;
  deleted: boolean;
  threadId?: string;
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
  createChannel(opts?: { name?: string; id?: string }): EmulatedChannel;
  createWebhook(channelId: string, opts?: { name?: string; applicationOwned?: boolean }): EmulatedWebhook;
  /** Afterwards Discord answers 404 Unknown Webhook (10015). */
  deleteWebhook(webhookId: string): void;
  channels(): EmulatedChannel[];
  /** In creation order, deleted ones included (flagged `deleted`); throws for an unknown channel. */
  messages(channelId: string): EmulatedMessage[];
  /** `count` omitted = until clearFaults(). */
  injectFault(f: Fault): void;
  clearFaults(): void;
  stats(): EmulatorStats;
  resetStats(): void;
  /** Never hangs on 'hang' faults: open connections are destroyed. */
  close(): Promise<void>;
}
