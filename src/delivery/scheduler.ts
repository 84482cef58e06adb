import type { Logger } from 'pino';
import { Lane, type LaneDeps } from './lane.js';

/**
 * The one owner of Discord's budgets: a lane per channel, created on first use. Ingest wakes a lane
 * after its commit; lanes wake themselves by timer when budgets free up.
 */
export class Scheduler {
  private readonly lanes = new Map<number, Lane>();
  private stopped = false;

  /** `onStarted`: workers that queue deliveries themselves (escalation) start after the leases are recovered. */
  constructor(private readonly deps: LaneDeps & { log: Logger; onStarted?: () => void }) {}

  /** Recovers leases of a previous process and starts every channel that has work queued. */
  start(): void {
    const recovered = this.deps.outbox.recoverLeases();
    if (recovered > 0) this.deps.log.warn({ recovered }, 'released deliveries leased by a previous run; they will be sent again');
    const recoveredOps = this.deps.ops.recoverLeases();
    if (recoveredOps > 0) this.deps.log.warn({ recovered: recoveredOps }, 'released message edits leased by a previous run; they will be made again');
    for (const [channelId, n] of this.deps.outbox.pendingByChannel()) this.wake(channelId, n);
    for (const channelId of this.deps.ops.pendingByChannel().keys()) this.wakeOps(channelId);
    this.deps.onStarted?.();
  }

  /** New work for a channel (after it is committed). */
  wake(channelId: number, added = 0): void {
    if (this.stopped) return;
    const lane = this.lane(channelId);
    lane.backlog += added;
    lane.schedule();
  }

  /** Edits or deletes of sent messages were queued for a channel (after they are committed). */
  wakeOps(channelId: number): void {
    if (this.stopped) return;
    const lane = this.lane(channelId);
    lane.opsChanged();
    lane.schedule();
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

  /** Graceful stop: no new sends; requests in flight get until `timeoutMs` to finish and be recorded. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const deadline = Date.now() + timeoutMs;
    const unfinished = (await Promise.all([...this.lanes.values()].map((l) => l.stop(deadline)))).flat();
    if (unfinished.length) {
      // Discord may still post these: like a crash mid-send, this is where a duplicate can come from.
      this.deps.outbox.release(unfinished, { availableAt: Date.now(), countAttempt: false });
      this.deps.log.warn({ deliveries: unfinished.length }, 'requests still in flight at shutdown; released to the queue');
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
