import { and, asc, eq, gt, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import picomatch from 'picomatch';
import { ServiceError, notFound } from '../domain/errors.js';
import { NEVER_EXPIRES, windowInForce, type WindowSchedule } from '../domain/maintenance.js';
import type { AlertActionStore, Actor } from './actions.js';
import type { Db } from './sqlite/open.js';
import { alerts, mutes } from './sqlite/schema.js';

export type MuteRow = typeof mutes.$inferSelect;

/** An alert as the mute matchers read it (the pipeline's PlannedAlert has this shape). */
export interface MutableAlert {
  sourceId: number | null;
  input: { service: string; title: string; dedup_key?: string | undefined };
  /** Its incident (pipeline/incident-stage.ts), if it belongs to one. */
  incident?: { key: string } | undefined;
}

/** A mute compiled for the ingest path: one matcher, and when it stops. */
export interface CompiledMute {
  id: number;
  expiresAt: number;
  /** A maintenance window: whether it is in force at a wall-clock time (absent: from creation to expiry). */
  inForce?: (t: number) => boolean;
  routeId: number | null;
  /** For service / service+title / dedup key mutes; null for route mutes. */
  matches: ((a: MutableAlert) => boolean) | null;
}

export interface NewMute {
  service: string | null;
  title?: string | null;
  routeId: number | null;
  dedupKey: string | null;
  /** An incident's key: the group's later members (of `sourceId` only). */
  incidentKey?: string | null;
  /** With `dedupKey` or `incidentKey`: only this source's alerts; null: any source's. */
  sourceId?: number | null;
  reason: string | null;
  /** Made from this alert's card: recorded as a 'mute' action on it. */
  alertId?: number;
}

/** A maintenance window of the configuration file: a mute with a name, a start and an end, or a recurrence. */
export interface NewWindow extends Omit<NewMute, 'alertId' | 'title'> {
  configName: string;
  schedule: WindowSchedule;
}

/**
 * The mutes table, with the mutes in force compiled in memory for the ingest path; every write here
 * refreshes that table itself. Expiry is checked against each alert's own receipt time, so an expired
 * mute stops matching without a refresh.
 */
export class MuteStore {
  private compiled: CompiledMute[] = [];

  constructor(
    private readonly db: Db,
    private readonly actions: Pick<AlertActionStore, 'recordSync'>,
  ) {
    this.load();
  }

  async refresh(now = Date.now()): Promise<void> {
    this.load(now);
  }

  /** The synchronous re-read under `refresh`, for this module's own writes and its sibling modules' transactions. */
  load(now = Date.now()): void {
    this.compiled = this.db
      .select()
      .from(mutes)
      .where(and(isNull(mutes.endedAt), sql`${mutes.expiresAt} > ${now}`))
      .orderBy(mutes.id)
      .all()
      .map((m) => {
        const schedule = scheduleOf(m);
        return { id: m.id, expiresAt: m.expiresAt, routeId: m.routeId, matches: matcherOf(m), ...(schedule ? { inForce: windowInForce(schedule) } : {}) };
      });
  }

  /**
   * Mutes in force at `now` (cached); a maintenance window only while it is open at `wall` (the wall clock
   * windows are read against: tests move it; default `now`).
   */
  active(now: number, wall = now): CompiledMute[] {
    return this.compiled.filter((m) => m.expiresAt > now && (m.inForce === undefined || m.inForce(wall)));
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
    const row = this.db.insert(mutes).values({ ...windowColumns(w), createdBy: 'herald.yaml', createdAt: now, managedBy: 'file' }).returning().get();
    this.load();
    return row;
  }

  /** Sets a window as the file now says (target, schedule, reason). */
  async updateWindow(id: number, w: NewWindow): Promise<void> {
    this.db.update(mutes).set(windowColumns(w)).where(eq(mutes.id, id)).run();
    this.load();
  }

  /** The file dropped a window: it ends now (the row stays: the alerts it silenced keep pointing at it). */
  async endWindow(id: number, now: number): Promise<void> {
    this.db.update(mutes).set({ endedAt: now }).where(eq(mutes.id, id)).run();
    this.load();
  }

  /** The file's windows not ended (by name in the file). */
  async windows(): Promise<MuteRow[]> {
    return this.db.select().from(mutes).where(and(eq(mutes.managedBy, 'file'), isNull(mutes.endedAt))).orderBy(asc(mutes.id)).all();
  }

  /** Stores a mute lasting `minutes` from `now` (recorded on the alert when made from its card). */
  async create(what: NewMute, minutes: number, by: Actor, now: number): Promise<MuteRow> {
    const row = this.db.transaction(() => {
      const r = this.db
        .insert(mutes)
        .values({ ...what, title: what.title ?? null, incidentKey: what.incidentKey ?? null, sourceId: what.sourceId ?? null, alertId: what.alertId ?? null, createdBy: by.name, createdAt: now, expiresAt: now + minutes * 60_000 })
        .returning()
        .get();
      if (what.alertId !== undefined) this.actions.recordSync(what.alertId, 'mute', by, what.reason, now);
      return r;
    });
    this.load();
    return row;
  }

  /** Ends a mute in force (recorded on its alert, if made from a card) and returns it as it was; 404 when no such mute is in force. */
  async end(id: number, by: Actor, now: number): Promise<MuteRow> {
    const ended = this.db.transaction(() => {
      const m = this.db.select().from(mutes).where(eq(mutes.id, id)).get();
      if (!m || m.endedAt !== null || m.expiresAt <= now) throw new ServiceError(404, 'not_found', `no mute in force with id ${id}`);
      this.db.update(mutes).set({ endedAt: now }).where(eq(mutes.id, id)).run();
      if (m.alertId !== null) this.actions.recordSync(m.alertId, 'unmute', by, null, now);
      return m;
    });
    this.load();
    return ended;
  }

  /** Mutes, oldest first; `activeAt`: only those in force then. */
  async list(activeAt?: number): Promise<MuteRow[]> {
    return this.db
      .select()
      .from(mutes)
      .where(activeAt !== undefined ? and(isNull(mutes.endedAt), gt(mutes.expiresAt, activeAt)) : undefined)
      .orderBy(asc(mutes.id))
      .all();
  }

  /** One mute; 404 when there is none. */
  async get(id: number): Promise<MuteRow> {
    const m = this.db.select().from(mutes).where(eq(mutes.id, id)).get();
    if (!m) throw notFound('mute', id);
    return m;
  }

  /** How many alerts each mute silenced (`ids`: only these mutes). */
  async mutedCounts(ids?: number[]): Promise<Map<number, number>> {
    const rows = this.db
      .select({ id: alerts.mutedByMuteId, n: sql<number>`count(*)` })
      .from(alerts)
      .where(ids ? inArray(alerts.mutedByMuteId, ids) : isNotNull(alerts.mutedByMuteId))
      .groupBy(alerts.mutedByMuteId)
      .all();
    return new Map(rows.map((r) => [r.id!, r.n]));
  }
}

/** A window's columns as the file says them (shared with `pg/mutes.ts`). */
export function windowColumns(w: NewWindow) {
  const s = w.schedule;
  return {
    service: w.service,
    title: null,
    routeId: w.routeId,
    dedupKey: w.dedupKey,
    sourceId: w.sourceId ?? null,
    reason: w.reason,
    configName: w.configName,
    startsAt: s.kind === 'once' ? s.startsAt : null,
    expiresAt: s.kind === 'once' ? s.endsAt : NEVER_EXPIRES,
    recurCron: s.kind === 'recurring' ? s.cron : null,
    recurMs: s.kind === 'recurring' ? s.durationMs : null,
    recurTimezone: s.kind === 'recurring' ? s.timezone : null,
  };
}

/** A maintenance window's schedule, from its row; undefined for a plain mute (in force from creation). */
export function scheduleOf(m: Pick<MuteRow, 'startsAt' | 'expiresAt' | 'recurCron' | 'recurMs' | 'recurTimezone'>): WindowSchedule | undefined {
  if (m.recurCron !== null && m.recurMs !== null) return { kind: 'recurring', cron: m.recurCron, timezone: m.recurTimezone ?? 'UTC', durationMs: m.recurMs };
  if (m.startsAt !== null) return { kind: 'once', startsAt: m.startsAt, endsAt: m.expiresAt };
  return undefined;
}

/** The matcher a mute compiles to (shared with `pg/mutes.ts`). */
export function matcherOf(m: MuteRow): CompiledMute['matches'] {
  if (m.incidentKey !== null) {
    // An incident card's Mute: the group's later members, of its source only (a key is its source's own).
    const key = m.incidentKey;
    const sourceId = m.sourceId;
    return (a) => a.sourceId === sourceId && a.incident?.key === key;
  }
  if (m.dedupKey !== null) {
    const key = m.dedupKey;
    // Scoped to the source it was made for (a "Mute 1h"), or any source's (an admin mute without source_id).
    const sourceId = m.sourceId;
    return sourceId === null ? (a) => a.input.dedup_key === key : (a) => a.sourceId === sourceId && a.input.dedup_key === key;
  }
  if (m.service !== null && m.title !== null) {
    // "Mute 1h" on an alert without a dedup key: the same service and title, exactly.
    const service = m.service.toLowerCase();
    const title = m.title;
    return (a) => a.input.service.toLowerCase() === service && a.input.title === title;
  }
  if (m.service !== null) {
    const glob = picomatch(m.service, { nocase: true, dot: true });
    return (a) => glob(a.input.service);
  }
  return null;
}
