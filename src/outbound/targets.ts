import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../store/sqlite/open.js';
import { outboundDeliveries, outboundTargets } from '../store/sqlite/schema.js';
import type { OutboundEvent } from './render.js';

const p = sql.placeholder;

/**
 * Outbound targets by route, in memory (the ingest path is hot), and the enqueueing of their deliveries.
 * `enqueue` runs inside the ingest transaction, so an accepted alert's outbound messages are committed
 * with it (docs/delivery.md, guarantee 1); `onEnqueued` wakes the worker after that (at worst it finds nothing yet).
 */
export class OutboundTargets {
  private byRoute = new Map<number, number[]>();
  private readonly insert;
  private readonly priorTargets;
  onEnqueued: () => void = () => {};

  constructor(private readonly db: Db) {
    // Guarded by the target's existence: a cache a moment stale must never fail an ingest transaction.
    const insert = db.$client.prepare(
      `insert into outbound_deliveries (target_id, alert_id, event, available_at, created_at)
       select @targetId, @alertId, @event, @now, @now where exists (select 1 from outbound_targets where id = @targetId)`,
    );
    this.insert = { run: (v: { targetId: number; alertId: number; event: OutboundEvent; now: number }) => insert.run(v) };
    this.priorTargets = db
      .selectDistinct({ targetId: outboundDeliveries.targetId })
      .from(outboundDeliveries)
      .where(and(eq(outboundDeliveries.alertId, p('alertId')), eq(outboundDeliveries.event, 'alert.firing')))
      .prepare();
    this.reload();
  }

  reload(): void {
    const m = new Map<number, number[]>();
    for (const t of this.db.select({ id: outboundTargets.id, routeId: outboundTargets.routeId }).from(outboundTargets).all()) {
      m.set(t.routeId, [...(m.get(t.routeId) ?? []), t.id]);
    }
    this.byRoute = m;
  }

  /** Queues the alert's message to every target of the matched routes (each target once). Returns how many. */
  enqueue(alertId: number, routeIds: readonly number[], event: OutboundEvent, now: number): number {
    if (this.byRoute.size === 0 || routeIds.length === 0) return 0;
    const targets = new Set<number>();
    for (const r of routeIds) for (const t of this.byRoute.get(r) ?? []) targets.add(t);
    for (const targetId of targets) this.insert.run({ targetId, alertId, event, now });
    if (targets.size) setImmediate(() => this.onEnqueued());
    return targets.size;
  }

  /**
   * Queues a follow-up (resolved, acknowledged) to the targets that were sent the alert's firing message.
   * For the lifecycle services: call inside the transaction that changed the alert.
   */
  enqueueFollowUp(alertId: number, event: OutboundEvent, now: number): number {
    const targets = this.priorTargets.all({ alertId });
    for (const { targetId } of targets) this.insert.run({ targetId, alertId, event, now });
    if (targets.length) setImmediate(() => this.onEnqueued());
    return targets.length;
  }
}
