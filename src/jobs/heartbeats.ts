import type { Logger } from 'pino';
import { PassTimer } from '../delivery/wake-timer.js';
import type { Guard } from '../guard.js';
import type { Heartbeats } from '../services/heartbeats.js';

export interface HeartbeatRunnerDeps {
  heartbeats: Pick<Heartbeats, 'raiseDue' | 'finishResolves' | 'nextDueAt'>;
  /** One auto-resolve sweep (services/auto-resolve.ts resolveStaleAlerts); returns how many it resolved. */
  resolveStale: (now: number) => Promise<number>;
  /** The longest the runner sleeps: a declaration is noticed, and a miss raised, at most this late. */
  pollMs: number;
  /** How often stale alerts are swept (their scan has no index: rarely). */
  sweepMs: number;
  /** The wall clock heartbeats and staleness are judged by (tests move it). */
  clock?: () => number;
  /** The pass is guarded: a failure is logged and the pass retried with backoff. */
  guard: Guard;
  log: Logger;
}

/**
 * The timer behind heartbeats and auto-resolve: one pass raises every heartbeat due (services/
 * heartbeats.ts), finishes resolves a crash interrupted, and now and then sweeps stale alerts. It
 * sleeps until the next heartbeat falls due, at most `pollMs`. Started with delivery (after the
 * leases of a previous run are recovered, as a raise queues deliveries), and its first pass judges
 * what fell due while Herald was down by the stored times: a heartbeat is missed only if no beat was
 * committed in time (a beat is committed before its 202).
 */
export class HeartbeatRunner {
  private readonly timer: PassTimer;
  private readonly clock: () => number;
  private running = false;
  /** A wake-up came during a pass: run again right after it. */
  private again = false;
  private nextSweepAt = 0;

  constructor(private readonly deps: HeartbeatRunnerDeps) {
    this.clock = deps.clock ?? Date.now;
    const pass = deps.guard.wrap('heartbeat pass', () => this.run(), { retry: (ms) => this.schedule(Date.now() + ms) });
    this.timer = new PassTimer(pass);
  }

  start(): void {
    this.timer.start();
  }

  stop(): void {
    this.timer.stop();
  }

  /** Wake now (tests; after a declaration that is due sooner than the timer). */
  poke(): void {
    this.schedule(Date.now());
  }

  private schedule(at: number): void {
    this.timer.schedule(at);
  }

  private async run(): Promise<void> {
    if (this.timer.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.deps.heartbeats.finishResolves();
      const now = this.clock();
      await this.deps.heartbeats.raiseDue(now);
      if (this.timer.stopped) return;
      if (now >= this.nextSweepAt) {
        this.nextSweepAt = now + this.deps.sweepMs;
        const n = await this.deps.resolveStale(now);
        if (n) this.deps.log.info({ resolved: n }, 'stale alerts auto-resolved');
      }
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      return this.schedule(Date.now());
    }
    // The next due time is on the heartbeats' clock: turned into a wait from the process clock.
    const due = await this.deps.heartbeats.nextDueAt();
    const wait = Math.min(this.deps.pollMs, due === null ? Infinity : Math.max(0, due - this.clock()));
    this.schedule(Date.now() + wait);
  }
}
