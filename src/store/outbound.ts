import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { conflict, notFound } from '../domain/errors.js';
import type { Db } from './sqlite/open.js';
import { outboundDeliveries, outboundTargets, routes } from './sqlite/schema.js';

/** What an outbound message is about. */
export type OutboundEvent = 'alert.firing' | 'alert.resolved' | 'alert.acknowledged';
export type OutboundTargetRow = typeof outboundTargets.$inferSelect;

/** A due outbound delivery, leased for one send. */
export interface ClaimedOutbound {
  id: number;
  targetId: number;
  alertId: number;
  event: OutboundEvent;
  attempts: number;
  createdAt: number;
}

/** One outbound delivery as the admin API lists it. */
export interface OutboundDeliveryRow {
  id: number;
  target_id: number;
  alert_id: number;
  event: OutboundEvent;
  state: 'pending' | 'leased' | 'sent' | 'dead';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  dead_at: number | null;
  replayed_at: number | null;
}

const p = sql.placeholder;

/**
 * Outbound targets and their outbox (outbound_deliveries): the only writer of both. It keeps the
 * targets by route in memory (the ingest path is hot) and refreshes that itself after its own writes.
 * The ingest and worker statements are plain prepared better-sqlite3 statements (SQLite SQL:
 * `json_each`, `returning`).
 */
export class OutboundStore {
  private byRoute = new Map<number, number[]>();
  private readonly insert;
  private readonly priorTargets;
  private readonly claimRows;
  private readonly finishRow;
  private readonly retryRow;
  private readonly killRow;

  constructor(private readonly db: Db) {
    const c = db.$client;
    // Guarded by the target's existence: a cache a moment stale must never fail an ingest transaction.
    this.insert = c.prepare<{ targetId: number; alertId: number; event: OutboundEvent; now: number }>(
      `insert into outbound_deliveries (target_id, alert_id, event, available_at, created_at)
       select @targetId, @alertId, @event, @now, @now where exists (select 1 from outbound_targets where id = @targetId)`,
    );
    this.priorTargets = db
      .selectDistinct({ targetId: outboundDeliveries.targetId })
      .from(outboundDeliveries)
      .where(and(eq(outboundDeliveries.alertId, p('alertId')), eq(outboundDeliveries.event, 'alert.firing')))
      .prepare();
    // `@held`: a JSON array of rows whose outcome waits in the worker's recorder; their expired leases are not reclaimed.
    this.claimRows = c.prepare<{ now: number; leaseUntil: number; limit: number; held: string }, ClaimedOutbound>(
      `update outbound_deliveries set state = 'leased', lease_until = @leaseUntil, attempts = attempts + 1
       where id in (select id from outbound_deliveries
                    where ((state = 'pending' and available_at <= @now) or (state = 'leased' and lease_until < @now))
                      and id not in (select value from json_each(@held))
                    order by id limit @limit)
       returning id, target_id as targetId, alert_id as alertId, event, attempts, created_at as createdAt`,
    );
    this.finishRow = c.prepare(`update outbound_deliveries set state = 'sent', sent_at = @now, last_status = @status, last_error = null, lease_until = null where id = @id`);
    this.retryRow = c.prepare(`update outbound_deliveries set state = 'pending', available_at = @at, last_status = @status, last_error = @error, lease_until = null where id = @id`);
    this.killRow = c.prepare(`update outbound_deliveries set state = 'dead', dead_at = @now, last_status = @status, last_error = @error, lease_until = null where id = @id`);
    this.load();
  }

  async refresh(): Promise<void> {
    this.load();
  }

  /** The synchronous re-read under `refresh`, for this module's own writes and its sibling modules' transactions. */
  load(): void {
    const m = new Map<number, number[]>();
    for (const t of this.db.select({ id: outboundTargets.id, routeId: outboundTargets.routeId }).from(outboundTargets).all()) {
      m.set(t.routeId, [...(m.get(t.routeId) ?? []), t.id]);
    }
    this.byRoute = m;
  }

  // --- the ingest path (inside the ingest transaction) ---

  /** The targets of these routes (cached), each once. */
  targetsOf(routeIds: readonly number[]): Set<number> {
    const targets = new Set<number>();
    if (this.byRoute.size === 0) return targets;
    for (const r of routeIds) for (const t of this.byRoute.get(r) ?? []) targets.add(t);
    return targets;
  }

  /** Targets that were queued the alert's firing message (its follow-ups go to them). */
  async firingTargets(alertId: number): Promise<number[]> {
    return this.priorTargets.all({ alertId }).map((r) => r.targetId);
  }

  async enqueue(targetId: number, alertId: number, event: OutboundEvent, now: number): Promise<void> {
    this.insert.run({ targetId, alertId, event, now });
  }

  // --- the worker ---

  async claim(now: number, leaseUntil: number, limit: number, held: readonly number[]): Promise<ClaimedOutbound[]> {
    return this.claimRows.all({ now, leaseUntil, limit, held: JSON.stringify(held) });
  }

  async target(id: number): Promise<OutboundTargetRow | undefined> {
    return this.db.select().from(outboundTargets).where(eq(outboundTargets.id, id)).get();
  }

  async markSent(id: number, now: number, status: number): Promise<void> {
    this.finishRow.run({ id, now, status });
  }

  async retryAt(id: number, at: number, status: number | null, error: string): Promise<void> {
    this.retryRow.run({ id, at, status, error });
  }

  async markDead(id: number, now: number, status: number | null, error: string): Promise<void> {
    this.killRow.run({ id, now, status, error });
  }

  // --- admin ---

  /** Adds a target to a route; 404 when there is no such route. */
  async createTarget(routeId: number, t: { kind: 'slack' | 'webhook'; url: string; secret: string | null; managedBy?: 'file' }): Promise<OutboundTargetRow> {
    const row = this.db.transaction((tx) => {
      if (!tx.select({ id: routes.id }).from(routes).where(eq(routes.id, routeId)).get()) throw notFound('route', routeId);
      return tx.insert(outboundTargets).values({ routeId, kind: t.kind, url: t.url, secret: t.secret, managedBy: t.managedBy ?? null }).returning().get();
    });
    this.load();
    return row;
  }

  async listTargets(): Promise<OutboundTargetRow[]> {
    return this.db.select().from(outboundTargets).orderBy(outboundTargets.id).all();
  }

  /** Removes a target (its deliveries go with it); 404 when there is none. */
  async deleteTarget(id: number): Promise<void> {
    const n = this.db.delete(outboundTargets).where(eq(outboundTargets.id, id)).run().changes;
    this.load();
    if (!n) throw notFound('outbound target', id);
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
      .limit(f.limit)
      .all();
  }

  /** A dead outbound delivery pending again from a fresh start (attempts 0, a new age budget); 404 / 409 otherwise. */
  async replay(id: number, now: number): Promise<void> {
    const d = outboundDeliveries;
    const row = this.db.select({ state: d.state }).from(d).where(eq(d.id, id)).get();
    if (!row) throw notFound('outbound delivery', id);
    if (row.state !== 'dead') throw conflict(`outbound delivery ${id} is ${row.state}, not dead; nothing to replay`);
    this.db.update(d).set({ state: 'pending', attempts: 0, availableAt: now, createdAt: now, leaseUntil: null, replayedAt: now }).where(eq(d.id, id)).run();
  }
}
