import { and, asc, eq, gt, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { ServiceError, notFound } from '../../domain/errors.js';
import { windowInForce } from '../../domain/maintenance.js';
import type { Actor } from '../actions.js';
import { type CompiledMute, type MuteRow, type MuteStore, type NewMute, type NewWindow, matcherOf, scheduleOf, windowColumns } from '../mutes.js';
import type { PgExecutor } from './open.js';
import { alertActions, alerts, mutes } from './schema.js';

/**
 * The mutes in force, compiled (`../mutes.ts`'s cache): one per store, shared by the pool's module and each
 * transaction's, so a write through either is seen by `active` at once.
 */
export interface MuteCache {
  compiled: CompiledMute[];
  /** Re-reads started and the latest one applied: a re-read that returns after a later-started one is dropped. */
  started: number;
  applied: number;
}

/**
 * Empty until the first `refresh()`: SQLite's constructor reads the mutes synchronously, which a PostgreSQL
 * module cannot, so whoever opens the store awaits `mutes.refresh()` before the ingest path reads `active`.
 */
export const muteCache = (): MuteCache => ({ compiled: [], started: 0, applied: 0 });

/**
 * `../mutes.ts` on PostgreSQL: the same statements, the same compiled cache (shared state, `MuteCache`) refreshed
 * after every write here, the same 404s. Its public methods but `load()`, the synchronous re-read SQLite's sibling
 * modules call inside better-sqlite3's transactions (here: `refresh()`, awaited).
 */
export class PgMuteStore implements Pick<MuteStore, Exclude<keyof MuteStore, 'load'>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly cache: MuteCache,
  ) {}

  async refresh(now = Date.now()): Promise<void> {
    const ticket = ++this.cache.started;
    const rows = await this.db
      .select()
      .from(mutes)
      .where(and(isNull(mutes.endedAt), gt(mutes.expiresAt, now)))
      .orderBy(mutes.id);
    // On SQLite re-reads cannot overlap; here one begun earlier (on an older snapshot) may return later.
    if (ticket < this.cache.applied) return;
    this.cache.applied = ticket;
    this.cache.compiled = rows.map((m) => {
      const schedule = scheduleOf(m);
      return { id: m.id, expiresAt: m.expiresAt, routeId: m.routeId, matches: matcherOf(m), ...(schedule ? { inForce: windowInForce(schedule) } : {}) };
    });
  }

  /**
   * Mutes in force at `now` (cached); a maintenance window only while it is open at `wall` (the wall clock
   * windows are read against: tests move it; default `now`).
   */
  active(now: number, wall = now): CompiledMute[] {
    return this.cache.compiled.filter((m) => m.expiresAt > now && (m.inForce === undefined || m.inForce(wall)));
  }

  /** Whether a mute (a row of `list`) is in force at `now`: not ended, not expired, and its window open. */
  inForce(m: MuteRow, now: number): boolean {
    if (m.endedAt !== null || m.expiresAt <= now) return false;
    const schedule = scheduleOf(m);
    return schedule === undefined || windowInForce(schedule)(now);
  }

  // --- maintenance windows (the configuration file's, services/config/apply.ts) ---

  /** Adds a file-managed maintenance window. */
  async createWindow(w: NewWindow, now: number): Promise<MuteRow> {
    const [row] = await this.db
      .insert(mutes)
      .values({ ...windowColumns(w), createdBy: 'herald.yaml', createdAt: now, managedBy: 'file' })
      .returning();
    await this.refresh();
    return row!;
  }

  /** Sets a window as the file now says (target, schedule, reason). */
  async updateWindow(id: number, w: NewWindow): Promise<void> {
    await this.db.update(mutes).set(windowColumns(w)).where(eq(mutes.id, id));
    await this.refresh();
  }

  /** The file dropped a window: it ends now (the row stays: the alerts it silenced keep pointing at it). */
  async endWindow(id: number, now: number): Promise<void> {
    await this.db.update(mutes).set({ endedAt: now }).where(eq(mutes.id, id));
    await this.refresh();
  }

  /** The file's windows not ended (by name in the file). */
  async windows(): Promise<MuteRow[]> {
    return this.db.select().from(mutes).where(and(eq(mutes.managedBy, 'file'), isNull(mutes.endedAt))).orderBy(asc(mutes.id));
  }

  /** Stores a mute lasting `minutes` from `now` (recorded on the alert when made from its card). */
  async create(what: NewMute, minutes: number, by: Actor, now: number): Promise<MuteRow> {
    // Over the pool, a transaction of its own; inside a caller's, a savepoint (as SQLite's nested transaction).
    const row = await this.db.transaction(async (tx) => {
      const [r] = await tx
        .insert(mutes)
        .values({ ...what, title: what.title ?? null, incidentKey: what.incidentKey ?? null, sourceId: what.sourceId ?? null, alertId: what.alertId ?? null, createdBy: by.name, createdAt: now, expiresAt: now + minutes * 60_000 })
        .returning();
      if (what.alertId !== undefined) await recordAction(tx, what.alertId, 'mute', by, what.reason, now);
      return r!;
    });
    await this.refresh();
    return row;
  }

  /** Ends a mute in force (recorded on its alert, if made from a card) and returns it as it was; 404 when no such mute is in force. */
  async end(id: number, by: Actor, now: number): Promise<MuteRow> {
    const ended = await this.db.transaction(async (tx) => {
      // Locked: two ends of one mute side by side take turns (SQLite's are one at a time), so the second reads the
      // first's `ended_at` (read committed re-reads a row it waited for) and is a 404, with one 'unmute' recorded.
      const [m] = await tx.select().from(mutes).where(eq(mutes.id, id)).for('update');
      if (!m || m.endedAt !== null || m.expiresAt <= now) throw new ServiceError(404, 'not_found', `no mute in force with id ${id}`);
      await tx.update(mutes).set({ endedAt: now }).where(eq(mutes.id, id));
      if (m.alertId !== null) await recordAction(tx, m.alertId, 'unmute', by, null, now);
      return m;
    });
    await this.refresh();
    return ended;
  }

  /** Mutes, oldest first; `activeAt`: only those in force then. */
  async list(activeAt?: number): Promise<MuteRow[]> {
    return this.db
      .select()
      .from(mutes)
      .where(activeAt !== undefined ? and(isNull(mutes.endedAt), gt(mutes.expiresAt, activeAt)) : undefined)
      .orderBy(asc(mutes.id));
  }

  /** One mute; 404 when there is none. */
  async get(id: number): Promise<MuteRow> {
    const [m] = await this.db.select().from(mutes).where(eq(mutes.id, id)).limit(1);
    if (!m) throw notFound('mute', id);
    return m;
  }

  /** How many alerts each mute silenced (`ids`: only these mutes). */
  async mutedCounts(ids?: number[]): Promise<Map<number, number>> {
    const rows = await this.db
      .select({ id: alerts.mutedByMuteId, n: sql<number>`count(*)`.mapWith(Number) })
      .from(alerts)
      .where(ids ? inArray(alerts.mutedByMuteId, ids) : isNotNull(alerts.mutedByMuteId))
      .groupBy(alerts.mutedByMuteId);
    return new Map(rows.map((r) => [r.id!, r.n]));
  }
}

/**
 * Appends to the alert's history (alert_actions), on the mute's own transaction: the row SQLite's
 * `actions.recordSync` writes. TODO: this becomes the PostgreSQL actions module's `record` (`pg/actions.ts`, being
 * ported) once it exists, taken in the constructor over the transaction's handle as `sources` takes idempotency's.
 */
async function recordAction(tx: PgExecutor, alertId: number, kind: 'mute' | 'unmute', by: Actor, reason: string | null, now: number): Promise<void> {
  await tx.insert(alertActions).values({ alertId, kind, actorKind: by.kind, actorUserId: by.userId ?? null, actorName: by.name, reason, at: now });
}
