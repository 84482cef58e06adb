import { and, asc, eq, isNotNull, lte, min, sql } from 'drizzle-orm';
import { conflict, notFound } from '../../domain/errors.js';
import type { HeartbeatListRow, HeartbeatRow, HeartbeatStore, NewHeartbeat } from '../heartbeats.js';
import { isPgUniqueViolation } from './errors.js';
import type { PgExecutor } from './open.js';
import { heartbeats, sources } from './schema.js';

/**
 * `../heartbeats.ts` on PostgreSQL: the same statements, as plain queries (SQLite's `find` is prepared once).
 * Without `findSync`, the twin SQLite's `create` calls inside its synchronous better-sqlite3 transaction: here
 * `create` runs drizzle's transaction (a savepoint inside a caller's) and reads through it. What PostgreSQL needs
 * said: SQLite's two-argument scalar `max` is `greatest`; names sort byte by byte (`collate "C"`, as SQLite's
 * BINARY does) whatever the database's collation; a row count is the driver's `rowCount`; a unique violation is
 * SQLSTATE 23505 (`isPgUniqueViolation`), a 409 as on SQLite.
 */
export class PgHeartbeatStore implements Pick<HeartbeatStore, Exclude<keyof HeartbeatStore, 'findSync'>> {
  constructor(private readonly db: PgExecutor) {}

  /** Declares a heartbeat; 404 for an unknown source, 409 when the source already has one by that name. */
  async create(h: NewHeartbeat): Promise<HeartbeatRow> {
    const taken = () => conflict(`the source already has a heartbeat named "${h.name}"`);
    try {
      return await this.db.transaction(async (tx) => {
        const [source] = await tx.select({ id: sources.id }).from(sources).where(eq(sources.id, h.sourceId));
        if (!source) throw notFound('source', h.sourceId);
        if (await findOn(tx, h.sourceId, h.name)) throw taken();
        const { now, managedBy, ...rest } = h;
        const [row] = await tx
          .insert(heartbeats)
          .values({ ...rest, managedBy: managedBy ?? null, dueAt: now + h.intervalMs + h.graceMs, createdAt: now })
          .returning();
        return row!;
      });
    } catch (err) {
      // Another transaction declared it between the read and the insert.
      if (isPgUniqueViolation(err)) throw taken();
      throw err;
    }
  }

  /** The source's heartbeat by that name. */
  async find(sourceId: number, name: string): Promise<HeartbeatRow | undefined> {
    return findOn(this.db, sourceId, name);
  }

  /** One heartbeat by id; 404 when there is none. */
  async get(id: number): Promise<HeartbeatRow> {
    const [row] = await this.db.select().from(heartbeats).where(eq(heartbeats.id, id));
    if (!row) throw notFound('heartbeat', id);
    return row;
  }

  /** Every heartbeat (of one source when given), by source then name. */
  async list(sourceId?: number): Promise<HeartbeatListRow[]> {
    const rows = await this.db
      .select({ h: heartbeats, sourceName: sources.name })
      .from(heartbeats)
      .innerJoin(sources, eq(sources.id, heartbeats.sourceId))
      .where(sourceId === undefined ? undefined : eq(heartbeats.sourceId, sourceId))
      // SQLite compares text byte by byte (BINARY); PostgreSQL by the database's collation unless told: "C" is bytes.
      .orderBy(asc(sql`${sources.name} collate "C"`), asc(sql`${heartbeats.name} collate "C"`));
    return rows.map((r) => ({ ...r.h, sourceName: r.sourceName }));
  }

  /**
   * Sets a heartbeat as the configuration file says and marks it file-managed. A changed interval or grace
   * moves the time it is due (from its last beat, or its declaration); its state and alert stay.
   */
  async setFromFile(id: number, h: Omit<NewHeartbeat, 'sourceId' | 'name' | 'now' | 'managedBy'>): Promise<void> {
    await this.db
      .update(heartbeats)
      .set({ ...h, managedBy: 'file', dueAt: sql`coalesce(${heartbeats.lastBeatAt}, ${heartbeats.createdAt}) + ${h.intervalMs + h.graceMs}` })
      .where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'ok')));
    // A missed one keeps its due time (its alert fires until the next beat); its settings change all the same.
    await this.db.update(heartbeats).set({ ...h, managedBy: 'file' }).where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'missed')));
  }

  /** Deletes a heartbeat (an alert it raised stays as it is); 404 when there is none. */
  async delete(id: number): Promise<void> {
    const { rowCount } = await this.db.delete(heartbeats).where(eq(heartbeats.id, id));
    if (!rowCount) throw notFound('heartbeat', id);
  }

  /**
   * A beat at `at`: due again interval + grace after it, state ok. A missed heartbeat keeps its
   * `alertId` (the resolve to finish: `resolved`); a beat older than the last one recorded moves nothing back.
   */
  async beat(id: number, at: number): Promise<HeartbeatRow> {
    const [row] = await this.db
      .update(heartbeats)
      .set({
        lastBeatAt: sql`greatest(coalesce(${heartbeats.lastBeatAt}, 0), ${at})`,
        dueAt: sql`greatest(${heartbeats.dueAt}, ${at} + ${heartbeats.intervalMs} + ${heartbeats.graceMs})`,
        state: 'ok',
      })
      .where(eq(heartbeats.id, id))
      .returning();
    if (!row) throw notFound('heartbeat', id);
    return row;
  }

  /**
   * Records a miss whose alert was committed: state missed, with the alert. Only if the heartbeat is
   * still due as it was judged (`dueAt`, no beat since): false when a beat came in between.
   */
  async markMissed(id: number, dueAt: number, alertId: number, at: number): Promise<boolean> {
    const { rowCount } = await this.db
      .update(heartbeats)
      .set({ state: 'missed', alertId, missedAt: at })
      .where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'ok'), eq(heartbeats.dueAt, dueAt)));
    return rowCount === 1;
  }

  /** The alert raised for the last miss is resolved (committed): nothing left to finish. */
  async resolved(id: number, alertId: number): Promise<void> {
    await this.db
      .update(heartbeats)
      .set({ alertId: null })
      .where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'ok'), eq(heartbeats.alertId, alertId)));
  }

  // --- the runner's reads ---

  /** Heartbeats waiting for a beat whose due time has come (`heartbeats_due` index), oldest due first. */
  async due(now: number, limit = 500): Promise<HeartbeatRow[]> {
    return this.db
      .select()
      .from(heartbeats)
      .where(and(eq(heartbeats.state, 'ok'), lte(heartbeats.dueAt, now)))
      .orderBy(asc(heartbeats.dueAt))
      .limit(limit);
  }

  /** Heartbeats beaten after a miss whose alert's resolve was not confirmed (a crash in between). */
  async unfinishedResolves(limit = 500): Promise<HeartbeatRow[]> {
    return this.db
      .select()
      .from(heartbeats)
      .where(and(eq(heartbeats.state, 'ok'), isNotNull(heartbeats.alertId)))
      .limit(limit);
  }

  /** The earliest due time of a heartbeat waiting for a beat; null when none waits. */
  async nextDueAt(): Promise<number | null> {
    const [row] = await this.db.select({ at: min(heartbeats.dueAt) }).from(heartbeats).where(eq(heartbeats.state, 'ok'));
    return row?.at ?? null;
  }
}

/** The source's heartbeat by that name, read on `db` (the pool's database, or `create`'s transaction). */
async function findOn(db: PgExecutor, sourceId: number, name: string): Promise<HeartbeatRow | undefined> {
  const [row] = await db
    .select()
    .from(heartbeats)
    .where(and(eq(heartbeats.sourceId, sourceId), eq(heartbeats.name, name)))
    .limit(1);
  return row;
}
