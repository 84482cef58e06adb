import type { Client } from 'discord.js';
import type { Logger } from 'pino';
import { scrubSecrets } from '../log.js';
import { watchShards, type ConnectionState } from './health.js';

export type { ConnectionState };

/**
 * Keeps the bot connected to Discord's gateway. discord.js resumes a dropped session by itself, but it
 * gives up for good when login fails (Discord unreachable at start), and when the gateway stays
 * unreachable it retries in a tight loop without any wait. So: each attempt is a fresh client (a
 * destroyed one cannot log in again); a failed attempt, or a lost connection that does not come back,
 * is retried with capped, jittered exponential backoff; only a refusal no retry can change (a wrong token,
 * a fatal close such as 4004) stops it for good.
 */

export interface Backoff {
  /** The first wait; each failed attempt doubles it. */
  baseMs: number;
  maxMs: number;
}

export interface ReconnectOptions extends Backoff {
  /** An attempt that is not connected by then is abandoned (and retried). */
  connectTimeoutMs: number;
  /** A lost connection that discord.js has not brought back by then is dropped and made anew. */
  resumeGraceMs: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = { baseMs: 1000, maxMs: 60_000, connectTimeoutMs: 45_000, resumeGraceMs: 20_000 };

/** Failed reconnects in a row (without a ready in between) after which the session is made anew. */
const FAILED_RECONNECTS = 3;

/** The wait before attempt `attempt + 1`: doubling from baseMs, capped at maxMs, the second half random (so many bots do not retry in step). */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface ConnectionOptions {
  token: string;
  log: Logger;
  /** A new client with the bot's handlers on it, not logged in. */
  makeClient(): Client;
  reconnect: ReconnectOptions;
}

/** A login failure no retry can fix: Discord refused the token. */
function isTokenRefused(message: string): boolean {
  return /401|Unauthorized|TokenInvalid|invalid token/i.test(message);
}

export class BotConnection {
  private current: Client;
  private state: ConnectionState = { kind: 'connecting', attempt: 1 };
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  /** The attempt in progress rejects through this when its connection fails before it is ready. */
  private failAttempt: ((err: Error) => void) | undefined;

  constructor(private readonly o: ConnectionOptions) {
    this.current = this.newClient();
  }

  get client(): Client {
    return this.current;
  }

  status(): ConnectionState {
    return this.state;
  }

  /** Resolves after the first attempt, connected or not (retries then go on in the background). */
  start(): Promise<void> {
    return this.attempt(1, undefined, this.current);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    this.state = { kind: 'closed' };
    await this.current.destroy().catch(() => undefined);
  }

  private newClient(): Client {
    const client = this.o.makeClient();
    let failedReconnects = 0;
    let grace: NodeJS.Timeout | undefined;
    watchShards(
      client,
      this.o.log,
      {
        fatal: (problem) => {
          clearTimeout(grace);
          this.state = { kind: 'fatal', problem };
          this.failAttempt?.(new Error(problem));
        },
        lost: () => {
          if (client !== this.current) return;
          if (this.state.kind !== 'connected') return this.failAttempt?.(new Error('the gateway connection closed before the bot was ready'));
          failedReconnects++;
          grace ??= setTimeout(() => this.renew(client, 'the connection was lost and did not come back'), this.o.reconnect.resumeGraceMs);
          // discord.js retries a refused gateway at once, again and again: past a few, wait like any other attempt.
          if (failedReconnects >= FAILED_RECONNECTS) this.renew(client, `the connection was lost and ${failedReconnects} reconnects failed`);
        },
        ready: () => {
          failedReconnects = 0;
          clearTimeout(grace);
          grace = undefined;
        },
      },
      () => this.closing || client !== this.current,
    );
    return client;
  }

  private async attempt(n: number, lastError: string | undefined, client: Client): Promise<void> {
    this.state = lastError === undefined ? { kind: 'connecting', attempt: n } : { kind: 'connecting', attempt: n, lastError };
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.login(this.o.token),
        new Promise<never>((_, reject) => {
          this.failAttempt = reject;
          timeout = setTimeout(() => reject(new Error(`not connected after ${Math.round(this.o.reconnect.connectTimeoutMs / 1000)} s`)), this.o.reconnect.connectTimeoutMs);
        }),
      ]);
      if (this.closing) return;
      this.state = { kind: 'connected' };
      if (n > 1) this.o.log.info({ attempt: n }, 'bot reconnected to Discord');
    } catch (err) {
      if (this.closing) return;
      const message = scrubSecrets((err as Error).message);
      await client.destroy().catch(() => undefined);
      if (this.status().kind === 'fatal') return; // a fatal close during the attempt: already said
      if (isTokenRefused(message)) {
        const problem = 'Discord refused the bot token (401): check DISCORD_TOKEN; the bot is not running. Webhook delivery goes on.';
        this.state = { kind: 'fatal', problem };
        this.o.log.error(problem);
        return;
      }
      this.retryLater(n, message);
    } finally {
      clearTimeout(timeout);
      this.failAttempt = undefined;
    }
  }

  private retryLater(failed: number, lastError: string): void {
    const wait = backoffDelay(failed, this.o.reconnect);
    this.state = { kind: 'waiting', attempt: failed + 1, lastError };
    this.o.log.warn({ attempt: failed, retryInMs: wait, error: lastError }, 'the bot could not connect to Discord; trying again (webhook delivery goes on)');
    this.timer = setTimeout(() => {
      if (this.closing) return;
      this.current = this.newClient();
      void this.attempt(failed + 1, lastError, this.current);
    }, wait);
  }

  /** Drops a connection discord.js could not bring back, and connects anew after a wait. */
  private renew(client: Client, why: string): void {
    if (this.closing || client !== this.current || this.state.kind !== 'connected') return;
    this.o.log.warn({ why }, 'Discord gateway connection not coming back; connecting anew');
    // Mark it first: the closes its destruction causes are not news.
    this.state = { kind: 'waiting', attempt: 1, lastError: why };
    this.current = this.newClient();
    void client.destroy().catch(() => undefined);
    const next = this.current;
    const wait = backoffDelay(1, this.o.reconnect);
    this.timer = setTimeout(() => {
      if (!this.closing && next === this.current) void this.attempt(1, why, next);
    }, wait);
  }
}
