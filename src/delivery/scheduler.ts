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
  /** Lanes being built (their first reads under way): a second wake meanwhile waits for the same one. */
  private readonly building = new Map<number, Promise<Lane>>();
  private stopped = false;
  /**
   * True while `start` recovers the leases a previous run left: a lane built meanwhile (for a request handled while
   * `start` awaits) could lease a row the recovery then releases, and send it twice. `start` wakes every channel
   * with pending work once it is done, so a wake ignored meanwhile is not lost. (On SQLite the recovery's awaits
   * settle within one turn, so no request can come in between; a driver that awaits the network makes room for one.)
   */
  private recovering = false;
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
      const lane = this.lanes.get(channelId);
      // The usual case, on every commit: the lane is there and no wake was missed (no await).
      if (lane && !this.missedWakes.has(channelId)) return lane.wake(added, onlyLow);
      return this.wakeBuilt(channelId, added, onlyLow);
    });
    this.wakeOpsGuarded = deps.guard.wrap('waking a delivery lane for edits', (channelId: number) => {
      const lane = this.lanes.get(channelId);
      if (!lane) return this.wakeOpsBuilt(channelId);
      lane.opsChanged();
      lane.schedule();
      return undefined;
    });
  }

  /** Recovers leases of a previous process and starts every channel that has work queued. */
  async start(): Promise<void> {
    this.recovering = true;
    try {
      const recovered = await this.deps.outbox.recoverLeases();
      if (recovered > 0) this.deps.log.warn({ recovered }, 'released deliveries leased by a previous run; they will be sent again');
      const recoveredOps = await this.deps.ops.recoverLeases();
      if (recoveredOps > 0) this.deps.log.warn({ recovered: recoveredOps }, 'released message edits leased by a previous run; they will be made again');
    } finally {
      // From here on a wake builds its lane; what was committed before is read just below.
      this.recovering = false;
    }
    for (const [channelId, n] of await this.deps.outbox.pendingByChannel()) this.wake(channelId, n);
    for (const channelId of (await this.deps.ops.pendingByChannel()).keys()) this.wakeOps(channelId);
    this.sweepTimer = setInterval(this.deps.guard.wrap('reclaiming expired leases', () => this.sweep()), LEASE_SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** New work for a channel (after it is committed). Never throws: a lane that cannot be built now is woken by the sweep. */
  wake(channelId: number, added = 0, onlyLow = false): void {
    if (this.stopped || this.recovering) return;
    this.wakeGuarded(channelId, added, onlyLow);
  }

  /** Edits or deletes of sent messages were queued for a channel (after they are committed). */
  wakeOps(channelId: number): void {
    if (this.stopped || this.recovering) return;
    this.wakeOpsGuarded(channelId);
  }

  /** The channel's webhooks changed (added, removed, restored): rebuild its pool and try again. */
  async reloadPool(channelId: number): Promise<void> {
    const lane = this.lanes.get(channelId);
    if (!lane) return;
    await lane.reloadPool();
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
  async sweep(now = Date.now()): Promise<void> {
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
    const reclaimed = await this.deps.outbox.reclaimExpiredLeases(now, held.deliveries);
    for (const [channelId, n] of reclaimed) this.wake(channelId, n);
    const opsChannels = await this.deps.ops.reclaimExpiredLeases(now, [...this.lanes.keys()], held.ops);
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
    const unrecorded = await this.recorder.flush();
    if (unrecorded > 0) this.deps.log.error({ outcomes: unrecorded }, 'outcomes of requests made could not be recorded before shutdown; those deliveries are sent again at restart');
    if (unfinished.length) {
      // Discord may still post these: like a crash mid-send, this is where a duplicate can come from.
      try {
        await this.deps.outbox.release(unfinished, { availableAt: Date.now(), countAttempt: false });
        this.deps.log.warn({ deliveries: unfinished.length }, 'requests still in flight at shutdown; released to the queue');
      } catch (err) {
        this.deps.log.error({ err, deliveries: unfinished.length }, 'requests still in flight at shutdown could not be released; they are released at the next start');
      }
    }
  }

  /**
   * A wake of a channel whose lane is not built yet, or one that missed a wake: counted in `missedWakes` until the
   * lane is there (a build that fails leaves it for the sweep).
   */
  private async wakeBuilt(channelId: number, added: number, onlyLow: boolean): Promise<void> {
    this.missedWakes.set(channelId, (this.missedWakes.get(channelId) ?? 0) + added);
    const lane = await this.lane(channelId);
    // A wake that came during the same build took the count already (0: it only makes the lane look).
    const missed = this.missedWakes.get(channelId) ?? 0;
    this.missedWakes.delete(channelId);
    // A wake missed earlier (the lane could not be built) may have been about P0/P1: not "only low" then.
    lane.wake(missed, onlyLow && missed === added);
  }

  private async wakeOpsBuilt(channelId: number): Promise<void> {
    this.missedWakes.set(channelId, this.missedWakes.get(channelId) ?? 0);
    const lane = await this.lane(channelId);
    this.missedWakes.delete(channelId);
    lane.opsChanged();
    lane.schedule();
  }

  private async lane(channelId: number): Promise<Lane> {
    const lane = this.lanes.get(channelId);
    if (lane) return lane;
    let building = this.building.get(channelId);
    if (!building) {
      building = Lane.open(channelId, this.deps).then(
        (built) => {
          this.lanes.set(channelId, built);
          this.building.delete(channelId);
          return built;
        },
        (err: unknown) => {
          this.building.delete(channelId);
          throw err;
        },
      );
      this.building.set(channelId, building);
    }
    return building;
  }
}
