import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { isDbUnavailable } from '../store/sqlite/health.js';
import type { Guard } from '../guard.js';
import { WakeTimer } from './wake-timer.js';

/** One write that records what already happened (a message posted, an edit made, a retry decided). */
export interface Outcome<T = unknown> {
  /** For the log: "recording the send of deliveries 4, 5". */
  what: string;
  /** Deliveries and message operations this write settles: they stay leased until it is recorded. */
  deliveryIds?: readonly number[];
  opIds?: readonly number[];
  /** A later outcome with the same key replaces a pending one (a webhook's breaker state: the latest wins). */
  key?: string;
  /** The write; runs in one transaction. */
  write: () => T;
  /** In-memory follow-up once it is recorded (wake a lane, mark an edit due). */
  then?: (result: T) => void;
}

/**
 * Records the outcomes of requests already made to Discord. Such a write must not be lost: a delivery
 * whose message id is never recorded stays leased, cannot be edited by acks, and is posted a second
 * time after its lease. So a write that fails because the database cannot write now (busy, full) is
 * kept in memory, in order, and retried with backoff until it is recorded; nothing is sent again
 * meanwhile, and the lease sweep leaves what it holds alone (`holds`). A write failing for any other
 * reason (a bug) would fail forever: it is logged and dropped, and its lease expires and is reclaimed.
 */
export class OutcomeRecorder {
  // Each entry's `then` takes its own `write`'s result; the queue does not look inside.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private queue: Outcome<any>[] = [];
  private readonly timer: WakeTimer;
  private readonly drain: () => void;

  constructor(
    /** Each outcome's writes commit in one store transaction. */
    private readonly db: Pick<Store, 'transaction'>,
    private readonly log: Logger,
    guard: Guard,
  ) {
    this.drain = guard.wrap('recording delivery outcomes', () => this.drainQueue(), { retry: (ms) => this.timer.schedule(Date.now() + ms) });
    this.timer = new WakeTimer(this.drain);
  }

  /** Writes now when nothing waits before it (the usual case: synchronous, as a plain write); else queues it behind. */
  record<T>(outcome: Outcome<T>): void {
    if (outcome.key !== undefined) this.queue = this.queue.filter((o) => o.key !== outcome.key);
    if (this.queue.length > 0) {
      this.queue.push(outcome);
      return;
    }
    let result: T;
    try {
      result = this.db.transaction(() => outcome.write());
    } catch (err) {
      if (!this.keep(outcome, err)) return;
      this.log.warn({ err, outcome: outcome.what }, 'could not record the outcome of a request already made; kept in memory and retried until recorded');
      this.queue.push(outcome);
      this.timer.schedule(Date.now() + 100);
      return;
    }
    this.followUp(outcome, result);
  }

  /** How many outcomes wait to be recorded. */
  get pending(): number {
    return this.queue.length;
  }

  /** Deliveries and operations whose outcome waits here: their leases must not be reclaimed. */
  holds(): { deliveries: Set<number>; ops: Set<number> } {
    const deliveries = new Set<number>();
    const ops = new Set<number>();
    for (const o of this.queue) {
      for (const id of o.deliveryIds ?? []) deliveries.add(id);
      for (const id of o.opIds ?? []) ops.add(id);
    }
    return { deliveries, ops };
  }

  /** At shutdown: one last try; returns how many outcomes could not be recorded (their sends repeat after restart). */
  flush(): number {
    this.timer.clear();
    try {
      this.drainQueue();
    } catch {
      /* counted below */
    }
    return this.queue.length;
  }

  /** Records queued outcomes in order; stops at the first that still fails (the database is still unavailable). */
  private drainQueue(): void {
    let drained = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      let result: unknown;
      let recorded = false;
      try {
        result = this.db.transaction(() => next.write());
        recorded = true;
      } catch (err) {
        if (this.keep(next, err)) throw err; // the guard logs it once per streak and retries with backoff
      }
      this.queue.shift();
      drained++;
      if (recorded) this.followUp(next, result);
    }
    if (drained > 0) this.log.info({ outcomes: drained }, 'outcomes kept in memory are recorded now');
  }

  /** The in-memory follow-up runs once, after the commit; its failure must not make the write run again. */
  private followUp<T>(o: Outcome<T>, result: T): void {
    try {
      o.then?.(result);
    } catch (err) {
      this.log.error({ err, outcome: o.what }, 'follow-up of a recorded outcome failed');
    }
  }

  /** True when the write should be retried; false (logged) when retrying cannot help. */
  private keep(o: Pick<Outcome, 'what'>, err: unknown): boolean {
    if (isDbUnavailable(err)) return true;
    this.log.error({ err, outcome: o.what }, 'recording an outcome failed for a reason retrying cannot fix; dropped (its lease expires and the delivery is retried)');
    return false;
  }
}
