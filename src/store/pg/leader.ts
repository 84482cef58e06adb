import type pg from 'pg';
import { LOCK_KEYS, LOCK_SPACE } from './locks.js';
import { reportTo } from './report.js';

export interface LeaderOptions {
  /** Told when the instance becomes leader (true) or stops being it (false: resigned, or its connection died). */
  onChange?: (leading: boolean) => void;
  /** A connection failed or a check did not answer: why leadership was lost or could not be tried. */
  onError?: (err: Error) => void;
  /** How long the leader's check (`tryLead` while leading) waits for an answer before it counts as lost (default 5 s). */
  checkTimeoutMs?: number;
}

/**
 * Bot leadership (issue 12): of several instances, the one holding a session-level advisory lock (`pg_try_advisory_lock`)
 * on its own dedicated connection runs the Discord bot. The database releases the lock when that session ends, however
 * it ends (the process killed, the connection cut, `pg_terminate_backend`), so another instance's next `tryLead` gets it.
 *
 * The leader learns it lost the lock from its connection: an `error` or `end` event, or a check that does not answer in
 * time, ends the client and sets `isLeader` false (`onChange(false)`). The caller calls `tryLead()` on a timer: while not
 * leading it tries to take the lock (on a new connection if the old one died); while leading it checks that the
 * connection still answers, so a connection that hangs without closing is noticed within a check's timeout.
 */
export class Leader {
  private client: pg.Client | null = null;
  private leading = false;
  private closed = false;
  /** One try at a time: two overlapping tries on one session would take the lock twice, and one unlock would not free it. */
  private pending: Promise<boolean> | null = null;

  constructor(
    /** A new, unconnected client of the database (`PgHandle.client`). */
    private readonly newClient: () => pg.Client,
    private readonly opts: LeaderOptions = {},
    private readonly key: number = LOCK_KEYS.bot,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** True when this instance leads after the call. Never rejects: a failure is `onError` and false. */
  tryLead(): Promise<boolean> {
    this.pending ??= this.attempt().finally(() => (this.pending = null));
    return this.pending;
  }

  private async attempt(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const client = await this.connected();
      if (this.leading) {
        await answersWithin(client, this.opts.checkTimeoutMs ?? 5_000);
        return this.leading;
      }
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_SPACE, this.key]);
      // The connection may have died while the answer was on its way: then the lock went with it.
      if (r.rows[0]?.ok === true && this.client === client && !this.closed) this.set(true);
      return this.leading;
    } catch (err) {
      this.lost(this.client, err);
      return false;
    }
  }

  private async connected(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = this.newClient();
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    this.client = client;
    await client.connect();
    return client;
  }

  /** The session `client` is gone (or no longer to be trusted): drop it, and with it the lead. */
  private lost(client: pg.Client | null, err: unknown): void {
    if (client === null || this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    if (err) this.report(err);
    this.set(false);
  }

  private set(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    try {
      this.opts.onChange?.(leading);
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    reportTo((e) => this.opts.onError?.(e), err);
  }

  /** Gives the lead up (at stop): the lock is released and the connection ended; another instance may lead at once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pending?.catch(() => {});
    const client = this.client;
    this.client = null;
    this.set(false);
    if (client) await client.end().catch(() => {});
  }
}

/** A connection that does not answer in time is taken as gone: a cut network may leave it open for minutes. */
async function answersWithin(client: pg.Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the leader's connection did not answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([client.query('SELECT 1'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
