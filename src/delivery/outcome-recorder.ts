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
  /** The write; runs in one transaction, through its `tx` only (never the store: it would wait for itself). */
  write: (tx: Store) => Promise<T>;
  /** In-memory follow-up once it is recorded (wake a lane, mark an edit due). */
  then?: (result: T) => void;
}

/** Thrown inside a transaction whose outcome must wait behind an earlier one that could not be recorded. */
const DEFERRED = Symbol('deferred behind an outcome that could not be recorded');

/** A queued outcome with its place in the order of `record` calls. */
// Each entry's `then` takes its own `write`'s result; the queue does not look inside.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Entry = { o: Outcome<any>; seq: number };

/**
 * Records the outcomes of requests already made to Discord. Such a write must not be lost: a delivery
 * whose message id is never recorded stays leased, cannot be edited by acks, and is posted a second
 * time after its lease. So a write that fails because the database cannot write now (busy, full) is
 * kept in memory, in order, and retried with backoff until it is recorded; nothing is sent again
 * meanwhile, and the lease sweep leaves what it holds alone (`holds`). A write failing for any other
 * reason (a bug) would fail forever: it is logged and dropped, and its lease expires and is reclaimed.
 *
 * `record` starts the outcome's transaction at once (the usual case): the store runs transactions in the
 * order they were started (SQLite: the connection gate), so outcomes commit in order and every store call
 * made after `record` returns sees the outcome committed, as when the write was synchronous. Once one cannot
 * be recorded, the transactions already started behind it write nothing (they are kept behind it, in order),
 * and later outcomes queue until the kept ones are recorded.
 */
export class OutcomeRecorder {
  /** Outcomes kept in memory (the database could not write), in the order they were recorded. */
  private queue: Entry[] = [];
  /** Outcomes whose first transaction is under way. */
  private readonly writing = new Map<Promise<void>, Outcome>();
  /** An outcome could not be recorded: every later one waits behind it until the queue is recorded. */
  private failing = false;
  private draining = false;
  private seq = 0;
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

  /** Writes now when nothing waits before it (the usual case: the transaction starts at once); else queues it behind. */
  record<T>(outcome: Outcome<T>): void {
    if (outcome.key !== undefined) this.queue = this.queue.filter((e) => e.o.key !== outcome.key);
    const entry: Entry = { o: outcome, seq: this.seq++ };
    if (this.failing || this.queue.length > 0) {
      this.queue.push(entry);
      return;
    }
    const done = this.db
      .transaction(async (tx) => {
        if (this.failing) throw DEFERRED;
        try {
          return await outcome.write(tx);
        } catch (err) {
          // Set inside the transaction, before the next one starts: those behind it wait (DEFERRED).
          if (isDbUnavailable(err)) this.failing = true;
          throw err;
        }
      })
      .then(
        (result) => this.followUp(outcome, result),
        (err: unknown) => {
          if (err !== DEFERRED) {
            if (!this.keep(outcome, err)) return;
            this.log.warn({ err, outcome: outcome.what }, 'could not record the outcome of a request already made; kept in memory and retried until recorded');
          }
          this.failing = true;
          this.keepInOrder(entry);
          this.timer.schedule(Date.now() + 100);
        },
      )
      .finally(() => this.writing.delete(done));
    this.writing.set(done, outcome as Outcome<unknown>);
  }

  /** How many outcomes wait to be recorded (kept in memory because the database could not write). */
  get pending(): number {
    return this.failing ? Math.max(1, this.queue.length) : this.queue.length;
  }

  /** Deliveries and operations whose outcome waits here: their leases must not be reclaimed. */
  holds(): { deliveries: Set<number>; ops: Set<number> } {
    const deliveries = new Set<number>();
    const ops = new Set<number>();
    const add = (o: Outcome) => {
      for (const id of o.deliveryIds ?? []) deliveries.add(id);
      for (const id of o.opIds ?? []) ops.add(id);
    };
    for (const e of this.queue) add(e.o);
    for (const o of this.writing.values()) add(o);
    return { deliveries, ops };
  }

  /** At shutdown: one last try; resolves to how many outcomes could not be recorded (their sends repeat after restart). */
  async flush(): Promise<number> {
    this.timer.clear();
    await Promise.allSettled([...this.writing.keys()]);
    this.timer.clear();
    try {
      await this.drainQueue();
    } catch {
      /* counted below */
    }
    return this.queue.length;
  }

  /** A kept outcome goes to its place in the order of `record` calls (transactions started together settle in any order). */
  private keepInOrder(entry: Entry): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.seq > entry.seq) i--;
    this.queue.splice(i, 0, entry);
  }

  /** Records queued outcomes in order; stops at the first that still fails (the database is still unavailable). */
  private async drainQueue(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    let drained = 0;
    try {
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        let result: unknown;
        let recorded = false;
        try {
          result = await this.db.transaction((tx) => next.o.write(tx));
          recorded = true;
        } catch (err) {
          if (this.keep(next.o, err)) throw err; // the guard logs it once per streak and retries with backoff
        }
        const at = this.queue.indexOf(next);
        if (at >= 0) this.queue.splice(at, 1);
        drained++;
        if (recorded) this.followUp(next.o, result);
      }
      this.failing = false;
    } finally {
      this.draining = false;
      if (drained > 0) this.log.info({ outcomes: drained }, 'outcomes kept in memory are recorded now');
    }
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
