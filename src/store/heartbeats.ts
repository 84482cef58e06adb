import { and, asc, eq, isNotNull, lte, min, sql } from 'drizzle-orm';
import type { Severity } from '../domain/alert.js';
import { conflict, notFound } from '../domain/errors.js';
import type { Db } from './sqlite/open.js';
import { isUniqueViolation } from './sqlite/health.js';
import { heartbeats, sources } from './sqlite/schema.js';

export type HeartbeatRow = typeof heartbeats.$inferSelect;

export interface NewHeartbeat {
  sourceId: number;
  name: string;
  intervalMs: number;
  graceMs: number;
  severity: Severity;
  service: string;
  environment: string | null;
  labels: Record<string, string> | null;
  /** Declared at: the first beat is due within interval + grace of it. */
  now: number;
  managedBy?: 'file';
}

/** A heartbeat with its source's name, as the admin API and the bot list it. */
export type HeartbeatListRow = HeartbeatRow & { sourceName: string };

/**
 * The heartbeats table (dead man's switches): declarations (admin), beats (the hook), and the runner's
 * reads (what is due, what still has a resolve to finish) and its moves. No cache: a beat is a write
 * anyway, and the runner reads only the `heartbeats_due` index.
 */
export class HeartbeatStore {
  private readonly byName;

  constructor(private readonly db: Db) {
    this.byName = db
      .select()
      .from(heartbeats)
      .where(and(eq(heartbeats.sourceId, sql.placeholder('sourceId')), eq(heartbeats.name, sql.placeholder('name'))))
      .prepare();
  }

  /** Declares a heartbeat; 404 for an unknown source, 409 when the source already has one by that name. */
  async create(h: NewHeartbeat): Promise<HeartbeatRow> {
    const taken = () => conflict(`the source already has a heartbeat named "${h.name}"`);
    try {
      return this.db.transaction((tx) => {
        if (!tx.select({ id: sources.id }).from(sources).where(eq(sources.id, h.sourceId)).get()) throw notFound('source', h.sourceId);
        if (this.findSync(h.sourceId, h.name)) throw taken();
        const { now, managedBy, ...rest } = h;
        return tx.insert(heartbeats).values({ ...rest, managedBy: managedBy ?? null, dueAt: now + h.intervalMs + h.graceMs, createdAt: now }).returning().get();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw taken();
      throw err;
    }
  }

  /** The source's heartbeat by that name. */
  async find(sourceId: number, name: string): Promise<HeartbeatRow | undefined> {
    return this.findSync(sourceId, name);
  }

  /** `find` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  findSync(sourceId: number, name: string): HeartbeatRow | undefined {
    return this.byName.get({ sourceId, name });
  }

  /** One heartbeat by id; 404 when there is none. */
  async get(id: number): Promise<HeartbeatRow> {
    const row = this.db.select().from(heartbeats).where(eq(heartbeats.id, id)).get();
    if (!row) throw notFound('heartbeat', id);
    return row;
  }

  /** Every heartbeat (of one source when given), by source then name. */
  async list(sourceId?: number): Promise<HeartbeatListRow[]> {
    return this.db
      .select({ h: heartbeats, sourceName: sources.name })
      .from(heartbeats)
      .innerJoin(sources, eq(sources.id, heartbeats.sourceId))
      .where(sourceId === undefined ? undefined : eq(heartbeats.sourceId, sourceId))
      .orderBy(asc(sources.name), asc(heartbeats.name))
      .all()
      .map((r) => ({ ...r.h, sourceName: r.sourceName }));
  }

  /**
   * Sets a heartbeat as the configuration file says and marks it file-managed. A changed interval or grace
   * moves the time it is due (from its last beat, or its declaration); its state and alert stay.
   */
  async setFromFile(id: number, h: Omit<NewHeartbeat, 'sourceId' | 'name' | 'now' | 'managedBy'>): Promise<void> {
    this.db
      .update(heartbeats)
      .set({ ...h, managedBy: 'file', dueAt: sql`coalesce(${heartbeats.lastBeatAt}, ${heartbeats.createdAt}) + ${h.intervalMs + h.graceMs}` })
      .where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'ok')))
      .run();
    // A missed one keeps its due time (its alert fires until the next beat); its settings change all the same.
    this.db.update(heartbeats).set({ ...h, managedBy: 'file' }).where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'missed'))).run();
  }

  /** Deletes a heartbeat (an alert it raised stays as it is); 404 when there is none. */
  async delete(id: number): Promise<void> {
    const n = this.db.delete(heartbeats).where(eq(heartbeats.id, id)).run().changes;
    if (!n) throw notFound('heartbeat', id);
  }

  /**
   * A beat at `at`: due again interval + grace after it, state ok. A missed heartbeat keeps its
   * `alertId` (the resolve to finish: `resolved`); a beat older than the last one recorded moves nothing back.
   */
  async beat(id: number, at: number): Promise<HeartbeatRow> {
    const row = this.db
      .update(heartbeats)
      .set({
        lastBeatAt: sql`max(coalesce(${heartbeats.lastBeatAt}, 0), ${at})`,
        dueAt: sql`max(${heartbeats.dueAt}, ${at} + ${heartbeats.intervalMs} + ${heartbeats.graceMs})`,
        state: 'ok',
      })
      .where(eq(heartbeats.id, id))
      .returning()
      .get();
    if (!row) throw notFound('heartbeat', id);
    return row;
  }

  /**
   * Records a miss whose alert was committed: state missed, with the alert. Only if the heartbeat is
   * still due as it was judged (`dueAt`, no beat since): false when a beat came in between.
   */
  async markMissed(id: number, dueAt: number, alertId: number, at: number): Promise<boolean> {
    const n = this.db
      .update(heartbeats)
      .set({ state: 'missed', alertId, missedAt: at })
      .where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'ok'), eq(heartbeats.dueAt, dueAt)))
      .run().changes;
    return n === 1;
  }

  /** The alert raised for the last miss is resolved (committed): nothing left to finish. */
  async resolved(id: number, alertId: number): Promise<void> {
    this.db
      .update(heartbeats)
      .set({ alertId: null })
      .where(and(eq(heartbeats.id, id), eq(heartbeats.state, 'ok'), eq(heartbeats.alertId, alertId)))
      .run();
  }

  // --- the runner's reads ---

  /** Heartbeats waiting for a beat whose due time has come (`heartbeats_due` index), oldest due first. */
  async due(now: number, limit = 500): Promise<HeartbeatRow[]> {
    return this.db
      .select()
      .from(heartbeats)
      .where(and(eq(heartbeats.state, 'ok'), lte(heartbeats.dueAt, now)))
      .orderBy(asc(heartbeats.dueAt))
      .limit(limit)
      .all();
  }

  /** Heartbeats beaten after a miss whose alert's resolve was not confirmed (a crash in between). */
  async unfinishedResolves(limit = 500): Promise<HeartbeatRow[]> {
    return this.db
      .select()
      .from(heartbeats)
      .where(and(eq(heartbeats.state, 'ok'), isNotNull(heartbeats.alertId)))
      .limit(limit)
      .all();
  }

  /** The earliest due time of a heartbeat waiting for a beat; null when none waits. */
  async nextDueAt(): Promise<number | null> {
    return this.db.select({ at: min(heartbeats.dueAt) }).from(heartbeats).where(eq(heartbeats.state, 'ok')).get()?.at ?? null;
  }
}
