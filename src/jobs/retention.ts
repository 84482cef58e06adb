import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { addCounts, noCounts, type RetentionBatch, type RetentionCounts, type RetentionStore } from '../store/retention.js';

const DAY_MS = 86_400_000;
/** An Idempotency-Key answers retries of one request: a day covers any sender's retry policy. */
export const IDEMPOTENCY_KEEP_MS = DAY_MS;

export interface RetentionOptions {
  /** Resolved and retracted alerts, and admin events, are kept this many days (at least 1: the digest reads the last day). */
  days: number;
  /** node-cron pattern, in `timezone`. */
  cron: string;
  timezone: string;
  /** Alerts looked at per transaction (default 250); idempotency keys and events go 4 times as many at once. */
  batchSize?: number;
}

export interface RetentionResult extends RetentionCounts {
  /** False when `stop` ended the run between two batches. */
  complete: boolean;
}

/**
 * The daily retention job: deletes what Herald no longer needs so that the database stops growing
 * (the rules of what may go are in store/retention.ts). It works in short transactions of a few hundred
 * alerts and yields to the event loop between them, so ingest, delivery and the bot keep their turns.
 * Nothing runs until `start` (main.ts starts it with the other workers); `run` is also callable directly
 * (tests move time forward with its `now`).
 */
export class RetentionJob {
  private task: ScheduledTask | undefined;
  private current: Promise<RetentionResult> | undefined;
  private stopped = false;

  constructor(
    private readonly store: RetentionStore,
    private readonly opts: RetentionOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    if (this.task) return;
    this.task = cron.schedule(this.opts.cron, () => this.fire(), { timezone: this.opts.timezone, name: 'retention', noOverlap: true });
    this.task.unref();
  }

  /** What is scheduled (for tests and a later admin view). */
  describe(): { pattern: string; timezone: string; next_run_at: number | null } | null {
    if (!this.task) return null;
    return { pattern: this.task.getPattern(), timezone: this.opts.timezone, next_run_at: this.task.getNextRun()?.getTime() ?? null };
  }

  /**
   * The cron task's body. A failure (a busy or locked database, a full disk) is logged in one line and
   * left to the next run, which starts over: every batch is its own transaction, so nothing is half done.
   * Its own catch rather than src/guard.ts's wrapper: node-cron's `noOverlap` (and the tests) await the
   * run's promise, which the guard's fire-and-forget wrapper does not give back.
   */
  async fire(now = Date.now()): Promise<void> {
    try {
      await this.run(now);
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'retention run failed; the next run retries');
    }
  }

  /** One whole run at `now` (a second call while one is running gets the same run). Logs a line with the counts. */
  run(now = Date.now()): Promise<RetentionResult> {
    this.current ??= this.runAll(now).finally(() => (this.current = undefined));
    return this.current;
  }

  /** Ends a run in progress before its next batch and unschedules the job. */
  stop(): void {
    this.stopped = true;
    if (this.task) void this.task.destroy();
    this.task = undefined;
  }

  private async runAll(now: number): Promise<RetentionResult> {
    const started = Date.now();
    const cutoff = now - this.opts.days * DAY_MS;
    const alertsPerBatch = this.opts.batchSize ?? 250;
    const rowsPerBatch = alertsPerBatch * 4;
    const counts = noCounts();
    let complete = await this.batches(counts, (after) => this.store.deleteAlertBatch(after, alertsPerBatch, cutoff, now));
    complete &&= await this.batches(counts, (after) => this.store.deleteDeliveriesWithoutAlertBatch(after, rowsPerBatch, cutoff));
    complete &&= await this.batches(counts, async () => {
      const n = await this.store.deleteIdempotencyKeys(now - IDEMPOTENCY_KEEP_MS, rowsPerBatch);
      return { next: n < rowsPerBatch ? null : 0, counts: { idempotencyKeys: n } };
    });
    complete &&= await this.batches(counts, async () => {
      const n = await this.store.deleteEvents(cutoff, rowsPerBatch);
      return { next: n < rowsPerBatch ? null : 0, counts: { events: n } };
    });
    this.log.info({ removed: counts, cutoff, complete, ms: Date.now() - started }, 'retention run');
    return { ...counts, complete };
  }

  /** Runs `batch` until it says there is no next one, yielding to the event loop before each. False if stopped meanwhile. */
  private async batches(counts: RetentionCounts, batch: (after: number) => Promise<RetentionBatch>): Promise<boolean> {
    let after: number | null = 0;
    while (after !== null) {
      await yieldToEventLoop();
      if (this.stopped) return false;
      const r = await batch(after);
      addCounts(counts, r.counts);
      after = r.next;
    }
    return true;
  }
}
