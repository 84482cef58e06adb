import { sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import { reportTo } from './report.js';

/**
 * Notifications between instances sharing a database (issue 12), over PostgreSQL's LISTEN/NOTIFY:
 * - `herald_wake`, payload a channel id: something was queued for that channel's lane; its owner (leases.ts) wakes it.
 * - `herald_cache`, payload a cache's name (`routes`, `mutes`, …: the store module that owns it): another instance
 *   changed what that cache holds; refresh it.
 * A NOTIFY sent inside a transaction is delivered when the transaction commits, and never if it rolls back, so a
 * notice cannot run ahead of the rows it is about. An instance receives its own notices too.
 */
export const CHANNELS = { wake: 'herald_wake', cache: 'herald_cache' } as const;

export type Notice = { kind: 'wake'; channelId: number } | { kind: 'cache'; cache: string };

/** What `notify` writes with: a drizzle database or transaction (node-postgres). */
export interface Executor {
  execute(query: SQL): PromiseLike<unknown>;
}

/** Sends `notice` in `db`'s transaction (delivered at its commit), or at once outside one. */
export async function notify(db: Executor, notice: Notice): Promise<void> {
  const [channel, payload] =
    notice.kind === 'wake'
      ? [CHANNELS.wake, Number.isSafeInteger(notice.channelId) ? String(notice.channelId) : fail(`a wake needs a channel id, not ${notice.channelId}`)]
      : [CHANNELS.cache, notice.cache !== '' ? notice.cache : fail('a cache notice needs the cache’s name')];
  await db.execute(sql`SELECT pg_notify(${channel}, ${payload})`);
}

const fail = (message: string): never => {
  throw new Error(message);
};

export interface ListenerHandlers {
  onWake(channelId: number): void;
  onCache(cache: string): void;
  /** Listening again after the connection dropped: notices sent meanwhile are lost, so look once (poll, refresh). */
  onMissed(): void;
  /** The connection failed (it is tried again), a reconnect failed, a payload made no sense, or a handler threw. */
  onError?(err: Error): void;
}

export interface ListenerOptions {
  /** The first wait before reconnecting; doubled after each failure, up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * One instance's listening connection: a dedicated client (outside the pool, which would hand the connection to
 * others) that LISTENs to Herald's channels. When it drops, it reconnects with backoff (each wait between half and
 * all of the doubled delay, so instances cut off together do not come back in step) and reports `onMissed`.
 */
export class Listener {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(
    /** A new, unconnected client of the database (`PgHandle.client`). */
    private readonly newClient: () => pg.Client,
    private readonly handlers: ListenerHandlers,
    private readonly opts: ListenerOptions = {},
  ) {}

  /** Whether it is listening now (false between a drop and the reconnect). */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Connects and listens; rejects if that first connection fails (as opening the database would). */
  async start(): Promise<void> {
    await this.listen();
  }

  private async listen(): Promise<void> {
    const client = this.newClient();
    client.on('notification', (msg) => this.received(msg.channel, msg.payload));
    client.on('error', (err) => this.dropped(client, err));
    client.on('end', () => this.dropped(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNELS.wake}; LISTEN ${CHANNELS.cache}`);
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private received(channel: string, payload: string | undefined): void {
    try {
      if (channel === CHANNELS.wake) {
        const id = Number(payload);
        if (payload === undefined || !/^\d+$/.test(payload) || !Number.isSafeInteger(id)) throw new Error(`ignored a ${CHANNELS.wake} notification whose payload is not a channel id`);
        this.handlers.onWake(id);
      } else if (channel === CHANNELS.cache) {
        if (!payload) throw new Error(`ignored a ${CHANNELS.cache} notification without a cache name`);
        this.handlers.onCache(payload);
      }
    } catch (err) {
      this.report(err);
    }
  }

  private dropped(client: pg.Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    if (err) this.report(err);
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const min = this.opts.minBackoffMs ?? 100;
    const max = this.opts.maxBackoffMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** this.failures);
    this.timer = setTimeout(() => void this.reconnect(), delay * (0.5 + Math.random() / 2));
    this.timer.unref();
  }

  private async reconnect(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    try {
      await this.listen();
    } catch (err) {
      this.failures++;
      this.report(err);
      this.schedule();
      return;
    }
    if (this.closed) return;
    this.failures = 0;
    try {
      this.handlers.onMissed();
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    reportTo((e) => this.handlers.onError?.(e), err);
  }

  /** Stops listening and reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }
}
