import { and, asc, desc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import { conflict, notFound } from '../../domain/errors.js';
import type { ClaimedOutbound, OutboundDeliveryRow, OutboundEvent, OutboundStore, OutboundTargetRow } from '../outbound.js';
import type { PgExecutor } from './open.js';
import { outboundDeliveries, outboundTargets, routes } from './schema.js';

/** The targets by route, cached: one per store, shared by the pool's module and each transaction's. */
export interface OutboundTargetsCache {
  byRoute: Map<number, number[]>;
}

/**
 * `../outbound.ts` on PostgreSQL: the same statements as plain queries, without `load()` (SQLite's synchronous
 * re-read for better-sqlite3's transactions): `refresh()` re-reads the targets, and this module's own writes await
 * it. The cache starts empty: whoever builds the store calls `refresh()` once before the ingest path reads it.
 * Where SQLite's one writer needs nothing, transactions here run side by side: the claim skips rows another
 * transaction has locked (`for update skip locked`), so two workers claiming at once lease different rows; and
 * `enqueue`'s guard waits for a delete of its target not yet committed (`for key share`), so that delete never fails
 * an ingest transaction on the foreign key.
 */
export class PgOutboundStore implements Pick<OutboundStore, Exclude<keyof OutboundStore, 'load'>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly cache: OutboundTargetsCache,
  ) {}

  async refresh(): Promise<void> {
    const m = new Map<number, number[]>();
    for (const t of await this.db.select({ id: outboundTargets.id, routeId: outboundTargets.routeId }).from(outboundTargets)) {
      m.set(t.routeId, [...(m.get(t.routeId) ?? []), t.id]);
    }
    this.cache.byRoute = m;
  }

  // --- the ingest path (inside the ingest transaction) ---

  /** The targets of these routes (cached), each once. */
  targetsOf(routeIds: readonly number[]): Set<number> {
    const targets = new Set<number>();
    if (this.cache.byRoute.size === 0) return targets;
    for (const r of routeIds) for (const t of this.cache.byRoute.get(r) ?? []) targets.add(t);
    return targets;
  }

  /**
   * Targets that were queued the alert's firing message (its follow-ups go to them), each once, in the order they
   * were first queued: the order SQLite's `select distinct` gives (it walks the alert's rows by id).
   */
  async firingTargets(alertId: number): Promise<number[]> {
    const d = outboundDeliveries;
    const rows = await this.db
      .select({ targetId: d.targetId })
      .from(d)
      .where(and(eq(d.alertId, alertId), eq(d.event, 'alert.firing')))
      .groupBy(d.targetId)
      .orderBy(sql`min(${d.id})`);
    return rows.map((r) => r.targetId);
  }

  /**
   * Guarded by the target's existence: a cache a moment stale must never fail an ingest transaction. The guard
   * locks the target's row as the foreign key's check would (`for key share`): a delete of it not yet committed by
   * another transaction is waited for, and once committed the row is not found (no insert), where without the lock
   * the guard would see the row and the insert fail on the foreign key, aborting the ingest transaction.
   */
  async enqueue(targetId: number, alertId: number, event: OutboundEvent, now: number): Promise<void> {
    await this.db.execute(
      sql`insert into outbound_deliveries (target_id, alert_id, event, available_at, created_at)
          select ${targetId}::integer, ${alertId}::bigint, ${event}::text, ${now}::bigint, ${now}::bigint
          where exists (select 1 from outbound_targets where id = ${targetId}::integer for key share)`,
    );
  }

  // --- the worker ---

  /** Leases due rows, by id; `held`: rows whose outcome waits in the worker's recorder, their expired leases not reclaimed. */
  async claim(now: number, leaseUntil: number, limit: number, held: readonly number[]): Promise<ClaimedOutbound[]> {
    const d = outboundDeliveries;
    const due = this.db
      .select({ id: d.id })
      .from(d)
      .where(
        and(
          or(and(eq(d.state, 'pending'), lte(d.availableAt, now)), and(eq(d.state, 'leased'), lt(d.leaseUntil, now))),
          sql`${d.id} not in (select value::bigint from jsonb_array_elements_text(${JSON.stringify(held)}::jsonb))`,
        ),
      )
      .orderBy(asc(d.id))
      .limit(limit)
      .for('update', { skipLocked: true });
    const rows = await this.db
      .update(d)
      .set({ state: 'leased', leaseUntil, attempts: sql`${d.attempts} + 1` })
      .where(inArray(d.id, due))
      .returning({ id: d.id, targetId: d.targetId, alertId: d.alertId, event: d.event, attempts: d.attempts, createdAt: d.createdAt });
    // RETURNING's order is the update's, not the subquery's: by id, as SQLite's comes.
    return rows.sort((a, b) => a.id - b.id);
  }

  async target(id: number): Promise<OutboundTargetRow | undefined> {
    const [row] = await this.db.select().from(outboundTargets).where(eq(outboundTargets.id, id)).limit(1);
    return row;
  }

  async markSent(id: number, now: number, status: number): Promise<void> {
    await this.db.update(outboundDeliveries).set({ state: 'sent', sentAt: now, lastStatus: status, lastError: null, leaseUntil: null }).where(eq(outboundDeliveries.id, id));
  }

  async retryAt(id: number, at: number, status: number | null, error: string): Promise<void> {
    await this.db.update(outboundDeliveries).set({ state: 'pending', availableAt: at, lastStatus: status, lastError: error, leaseUntil: null }).where(eq(outboundDeliveries.id, id));
  }

  async markDead(id: number, now: number, status: number | null, error: string): Promise<void> {
    await this.db.update(outboundDeliveries).set({ state: 'dead', deadAt: now, lastStatus: status, lastError: error, leaseUntil: null }).where(eq(outboundDeliveries.id, id));
  }

  // --- admin ---

  /** Adds a target to a route; 404 when there is no such route. */
  async createTarget(routeId: number, t: { kind: 'slack' | 'webhook'; url: string; secret: string | null; managedBy?: 'file' }): Promise<OutboundTargetRow> {
    const row = await this.db.transaction(async (tx) => {
      if ((await tx.select({ id: routes.id }).from(routes).where(eq(routes.id, routeId))).length === 0) throw notFound('route', routeId);
      const [created] = await tx.insert(outboundTargets).values({ routeId, kind: t.kind, url: t.url, secret: t.secret, managedBy: t.managedBy ?? null }).returning();
      return created as OutboundTargetRow;
    });
    await this.refresh();
    return row;
  }

  async listTargets(): Promise<OutboundTargetRow[]> {
    return this.db.select().from(outboundTargets).orderBy(outboundTargets.id);
  }

  /** Removes a target (its deliveries go with it); 404 when there is none. */
  async deleteTarget(id: number): Promise<void> {
    const gone = await this.db.delete(outboundTargets).where(eq(outboundTargets.id, id)).returning({ id: outboundTargets.id });
    await this.refresh();
    if (gone.length === 0) throw notFound('outbound target', id);
  }

  async listDeliveries(f: { state?: 'pending' | 'leased' | 'sent' | 'dead' | undefined; alertId?: number | undefined; targetId?: number | undefined; beforeId?: number | undefined; limit: number }): Promise<OutboundDeliveryRow[]> {
    const d = outboundDeliveries;
    return this.db
      .select({
        id: d.id, target_id: d.targetId, alert_id: d.alertId, event: d.event, state: d.state, attempts: d.attempts, last_status: d.lastStatus,
        last_error: d.lastError, created_at: d.createdAt, sent_at: d.sentAt, dead_at: d.deadAt, replayed_at: d.replayedAt,
      })
      .from(d)
      .where(and(f.state ? eq(d.state, f.state) : undefined, f.alertId ? eq(d.alertId, f.alertId) : undefined, f.targetId ? eq(d.targetId, f.targetId) : undefined, f.beforeId ? lt(d.id, f.beforeId) : undefined))
      .orderBy(desc(d.id))
      .limit(f.limit);
  }

  /** A dead outbound delivery pending again from a fresh start (attempts 0, a new age budget); 404 / 409 otherwise. */
  async replay(id: number, now: number): Promise<void> {
    const d = outboundDeliveries;
    const [row] = await this.db.select({ state: d.state }).from(d).where(eq(d.id, id)).limit(1);
    if (!row) throw notFound('outbound delivery', id);
    if (row.state !== 'dead') throw conflict(`outbound delivery ${id} is ${row.state}, not dead; nothing to replay`);
    await this.db.update(d).set({ state: 'pending', attempts: 0, availableAt: now, createdAt: now, leaseUntil: null, replayedAt: now }).where(eq(d.id, id));
  }
}
