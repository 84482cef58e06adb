import type { CommitSignals } from '../delivery/signals.js';
import type { OutboundEvent, OutboundStore } from '../store/outbound.js';

/** The outbound store of the transaction the messages are queued in (its `tx.outbound`). */
export type OutboundTx = { outbound: Pick<OutboundStore, 'firingTargets' | 'enqueue'> };

/**
 * Queues alert events to the outbound targets of their routes (the outbound store keeps the targets by
 * route in memory). `enqueue` runs inside the ingest transaction, so an accepted alert's outbound messages
 * are committed with it (docs/delivery.md, guarantee 1); `outboundQueued` wakes the worker on the next
 * turn, after that commit (at worst it finds nothing yet). Both methods write through the transaction's
 * store they are given (`tx`), never this one's (that call would wait for the transaction it is in).
 */
export class OutboundTargets {
  constructor(
    /** The targets by route (a cache: read outside any transaction, at once). */
    private readonly store: Pick<OutboundStore, 'targetsOf'>,
    private readonly signals: Pick<CommitSignals, 'outboundQueued'>,
  ) {}

  /** Queues the alert's message to every target of the matched routes (each target once). Returns how many. */
  async enqueue(tx: OutboundTx, alertId: number, routeIds: readonly number[], event: OutboundEvent, now: number): Promise<number> {
    if (routeIds.length === 0) return 0;
    const targets = this.store.targetsOf(routeIds);
    for (const targetId of targets) await tx.outbound.enqueue(targetId, alertId, event, now);
    if (targets.size) setImmediate(() => this.signals.outboundQueued());
    return targets.size;
  }

  /**
   * Queues a follow-up (resolved, acknowledged) to the targets that were sent the alert's firing message.
   * For the lifecycle services: call inside the transaction that changed the alert, with its `tx`.
   */
  async enqueueFollowUp(tx: OutboundTx, alertId: number, event: OutboundEvent, now: number): Promise<number> {
    const targets = await tx.outbound.firingTargets(alertId);
    for (const targetId of targets) await tx.outbound.enqueue(targetId, alertId, event, now);
    if (targets.length) setImmediate(() => this.signals.outboundQueued());
    return targets.length;
  }
}
