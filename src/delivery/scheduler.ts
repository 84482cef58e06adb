import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { Lane } from './lane.js';
import type { LaneDeps } from './lane-deps.js';
import { OutcomeRecorder } from './outcome-recorder.js';

/** How often expired leases are looked for while running (a lease lasts the request timeout + 30 s). */
const LEASE_SWEEP_MS = 5000;

/**
 * The one owner of Discord's budgets: a lane per channel, created on first use. Ingest wakes a lane
 * after its commit; lanes wake themselves by timer when budgets free up. Outcomes of requests are
 * recorded through one OutcomeRecorder (retried until recorded when the database cannot write), and a
 * sweep hands back leases that nothing in this process holds any more.
 */
export class Scheduler {
  private readonly lanes = new Map<number, Lane>();
  private stopped = false;
  readonly recorder: OutcomeRecorder;
  private readonly deps: LaneDeps & { log: Logger };
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Channels whose wake failed (the lane could not be built: its first reads failed); the sweep wakes them. */
  private readonly missedWakes = new Map<number, number>();
  private readonly wakeGuarded: (channelId: number, added: number, onlyLow: boolean) => void;
  private readonly wakeOpsGuarded: (channelId: number) => void;

  constructor(deps: Omit<LaneDeps, 'recorder'> & { transactions: Pick<Store, 'transaction'>; log: Logger }) {
    this.recorder = new OutcomeRecorder(deps.transactions, deps.log, deps.guard);
    this.deps = { ...deps, recorder: this.recorder };
    this.wakeGuarded = deps.guard.wrap('waking a delivery lane', (channelId: number, added: number, onlyLow: boolean) => {
      this.missedWakes.set(channelId, (this.missedWakes.get(channelId) ?? 0) + added);
      const lane = this.lane(channelId);
      const missed = this.missedWakes.get(channelId)!;
      this.missedWakes.delete(channelId);
      // A wake missed earlier (the lane could not be built) may have been about P0/P1: not "only low" then.
      lane.wake(missed, onlyLow && missed === added);
    });
    this.wakeOpsGuarded = deps.guard.wrap('waking a delivery lane for edits', (channelId: number) => {
      this.missedWakes.set(channelId, this.missedWakes.get(channelId) ?? 0);
      const lane = this.lane(channelId);
      this.missedWakes.delete(channelId);
      lane.opsChanged();
      lane.schedule();
    });
  }

  /** Recovers leases of a previous process and starts every channel that has work queued. */
  start(): void {
    const recovered = this.deps.outbox.recoverLeases();
    if (recovered > 0) this.deps.log.warn({ recovered }, 'released deliveries leased by a previous run; they will be sent again');
    const recoveredOps = this.deps.ops.recoverLeases();
    if (recoveredOps > 0) this.deps.log.warn({ recovered: recoveredOps }, 'released message edits leased by a previous run; they will be made again');
    for (const [channelId, n] of this.deps.outbox.pendingByChannel()) this.wake(channelId, n);
    for (const channelId of this.deps.ops.pendingByChannel().keys()) this.wakeOps(channelId);
    this.sweepTimer = setInterval(this.deps.guard.wrap('reclaiming expired leases', () => this.sweep()), LEASE_SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** New work for a channel (after it is committed). Never throws: a lane that cannot be built now is woken by the sweep. */
  wake(channelId: number, added = 0, onlyLow = false): void {
    if (this.stopped) return;
    this.wakeGuarded(channelId, added, onlyLow);
  }

  /** Edits or deletes of sent messages were queued for a channel (after they are committed). */
  wakeOps(channelId: number): void {
    if (this.stopped) return;
    this.wakeOpsGuarded(channelId);
  }

  /** The channel's webhooks changed (added, removed, restored): rebuild its pool and try again. */
  reloadPool(channelId: number): void {
    const lane = this.lanes.get(channelId);
    if (!lane) return;
    lane.reloadPool();
    lane.schedule();
  }

  laneStates() {
    return [...this.lanes.values()].map((l) => ({ channelId: l.channelId, backlog: l.backlog, webhooks: l.pool.size, budget: l.budget.state }));
  }

  /**
   * While running: leases that expired with nothing in this process holding them (no request in flight,
   * no outcome waiting to be recorded) go back to the queue, and their lanes are woken; so are lanes whose
   * wake failed. Without this a stranded lease waited for the next restart.
   */
  sweep(now = Date.now()): void {
    if (this.stopped) return;
    const missed = [...this.missedWakes];
    this.missedWakes.clear();
    for (const [channelId, n] of missed) this.wake(channelId, n);
    const held = this.recorder.holds();
    for (const lane of this.lanes.values()) {
      const h = lane.held();
      for (const id of h.deliveries) held.deliveries.add(id);
      for (const id of h.ops) held.ops.add(id);
    }
    const reclaimed = this.deps.outbox.reclaimExpiredLeases(now, held.deliveries);
    for (const [channelId, n] of reclaimed) this.wake(channelId, n);
    const opsChannels = this.deps.ops.reclaimExpiredLeases(now, [...this.lanes.keys()], held.ops);
    for (const channelId of opsChannels) this.wakeOps(channelId);
    const total = [...reclaimed.values()].reduce((a, b) => a + b, 0);
    if (total > 0 || opsChannels.size > 0) this.deps.log.warn({ deliveries: total, opsChannels: opsChannels.size }, 'reclaimed expired leases; those deliveries and edits go out again');
  }

  /** Graceful stop: no new sends; requests in flight get until `timeoutMs` to finish and be recorded. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    const deadline = Date.now() + timeoutMs;
    const unfinished = (await Promise.all([...this.lanes.values()].map((l) => l.stop(deadline)))).flat();
    const unrecorded = this.recorder.flush();
    if (unrecorded > 0) this.deps.log.error({ outcomes: unrecorded }, 'outcomes of requests made could not be recorded before shutdown; those deliveries are sent again at restart');
    if (unfinished.length) {
      // Discord may still post these: like a crash mid-send, this is where a duplicate can come from.
      try {
        this.deps.outbox.release(unfinished, { availableAt: Date.now(), countAttempt: false });
        this.deps.log.warn({ deliveries: unfinished.length }, 'requests still in flight at shutdown; released to the queue');
      } catch (err) {
        this.deps.log.error({ err, deliveries: unfinished.length }, 'requests still in flight at shutdown could not be released; they are released at the next start');
      }
    }
  }

  private lane(channelId: number): Lane {
    let lane = this.lanes.get(channelId);
    if (!lane) {
      lane = new Lane(channelId, this.deps);
      this.lanes.set(channelId, lane);
    }
    return lane;
  }
}
