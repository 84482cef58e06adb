import type { CommitSignals } from '../delivery/signals.js';
import type { OutboundEvent, OutboundStore } from '../store/outbound.js';

/**
 * Queues alert events to the outbound targets of their routes (the outbound store keeps the targets by
 * route in memory). `enqueue` runs inside the ingest transaction, so an accepted alert's outbound messages
 * are committed with it (docs/delivery.md, guarantee 1); `outboundQueued` wakes the worker on the next
 * turn, after that commit (at worst it finds nothing yet).
 */
export class OutboundTargets {
  constructor(
    private readonly store: Pick<OutboundStore, 'targetsOf' | 'firingTargets' | 'enqueue'>,
    private readonly signals: Pick<CommitSignals, 'outboundQueued'>,
  ) {}

  /** Queues the alert's message to every target of the matched routes (each target once). Returns how many. */
  enqueue(alertId: number, routeIds: readonly number[], event: OutboundEvent, now: number): number {
    if (routeIds.length === 0) return 0;
    const targets = this.store.targetsOf(routeIds);
    for (const targetId of targets) this.store.enqueue(targetId, alertId, event, now);
    if (targets.size) setImmediate(() => this.signals.outboundQueued());
    return targets.size;
  }

  /**
   * Queues a follow-up (resolved, acknowledged) to the targets that were sent the alert's firing message.
   * For the lifecycle services: call inside the transaction that changed the alert.
   */
  enqueueFollowUp(alertId: number, event: OutboundEvent, now: number): number {
    const targets = this.store.firingTargets(alertId);
    for (const targetId of targets) this.store.enqueue(targetId, alertId, event, now);
    if (targets.length) setImmediate(() => this.signals.outboundQueued());
    return targets.length;
  }
}
