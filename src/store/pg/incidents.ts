import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { StatefulAlert } from '../../domain/alert-state.js';
import { notFound } from '../../domain/errors.js';
import { serviceMatcher, stateOf, summarize, type IncidentFilter, type IncidentMessage, type IncidentRow, type IncidentStore, type IncidentSummary, type MemberRow } from '../incidents.js';
import { postColumns } from './delivery-rows.js';
import { INCIDENT_LOCK_SPACE } from './locks.js';
import type { PgExecutor } from './open.js';
import { alerts, deliveries, incidents, mutes } from './schema.js';

/** A member's columns, as `MemberRow`; `incident_id` is a bigint, which a bare `sql` expression would read as a string. */
const memberColumns = {
  id: alerts.id,
  incidentId: sql<number>`${alerts.incidentId}`.mapWith(Number),
  severity: alerts.severity,
  status: alerts.status,
  service: alerts.service,
  title: alerts.title,
  receivedAt: alerts.receivedAt,
  dedupKey: alerts.dedupKey,
  acknowledgedAt: alerts.acknowledgedAt,
  resolvedAt: alerts.resolvedAt,
  retractedAt: alerts.retractedAt,
};

/** SQLite's `source_id is ?` (null matches null), as `= ?` or `is null`, which the (source_id, key) index serves. */
const sameSource = (sourceId: number | null): SQL => (sourceId === null ? isNull(incidents.sourceId) : eq(incidents.sourceId, sourceId));

/** Whether `db` is a transaction's handle (a boolean, not a type guard: the guard would narrow away the schema's type). */
const inTransaction = (db: PgExecutor): boolean => db instanceof PgTransaction;

/**
 * `../incidents.ts` on PostgreSQL: every public method, the same filters, order, limits, row shapes and 404s
 * (plain queries where SQLite prepares the ingest path's statements; the summary and the service glob are the
 * SQLite module's own functions).
 *
 * `join` (find or create a group's open incident): SQLite's two statements never meet another transaction's, as
 * its gate runs ingest transactions one after the other. Here two ingest transactions at once would both find no
 * open incident (neither sees the other's uncommitted one) and create two. No index can refuse the second: "open"
 * is a member still firing, not a column of incidents. So `join` first takes a transaction-level advisory lock on
 * the group (source and key, hashed; `INCIDENT_LOCK_SPACE`), held until the ingest transaction ends: the second
 * waits for the first's commit, and its lookup, a statement started after the lock, sees the first's incident and
 * its member. Called outside a transaction, `join` opens one of its own for the lock.
 */
export class PgIncidentStore implements Pick<IncidentStore, keyof IncidentStore> {
  constructor(private readonly db: PgExecutor) {}

  async join(sourceId: number | null, key: string, title: string, now: number): Promise<{ id: number; createdAt: number; created: boolean }> {
    const run = async (tx: PgExecutor) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${INCIDENT_LOCK_SPACE}::integer, hashtext(coalesce(${sourceId}::integer::text, '') || ':' || ${key}::text))`);
      const [open] = await tx
        .select({ id: incidents.id, createdAt: incidents.createdAt })
        .from(incidents)
        .where(
          and(
            sameSource(sourceId),
            eq(incidents.key, key),
            sql`exists (select 1 from ${alerts} a where a.incident_id = ${incidents.id} and a.status = 'firing' and a.retracted_at is null)`,
          ),
        )
        .orderBy(desc(incidents.id))
        .limit(1);
      if (open) return { ...open, created: false };
      const [created] = await tx.insert(incidents).values({ sourceId, key, title, createdAt: now }).returning({ id: incidents.id });
      return { id: created!.id, createdAt: now, created: true };
    };
    // A transaction's handle runs it in place (the lock lasts until the caller's commit); the pool's opens one.
    return inTransaction(this.db) ? run(this.db) : this.db.transaction(run);
  }

  async row(id: number): Promise<IncidentRow> {
    const [r] = await this.db.select().from(incidents).where(eq(incidents.id, id)).limit(1);
    if (!r) throw notFound('incident', id);
    return r;
  }

  async titles(ids: readonly number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.select({ id: incidents.id, title: incidents.title }).from(incidents).where(inArray(incidents.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r.title]));
  }

  /** `now` is the caller's, as on SQLite (this one does not read the database's clock). */
  async mutedUntil(incidentId: number, now: number): Promise<number | null> {
    const [r] = await this.db
      .select({ until: sql<number | null>`max(${mutes.expiresAt})`.mapWith(Number) })
      .from(incidents)
      .innerJoin(mutes, and(eq(mutes.incidentKey, incidents.key), sql`${mutes.sourceId} is not distinct from ${incidents.sourceId}`))
      .where(and(eq(incidents.id, incidentId), isNull(mutes.endedAt), sql`${mutes.expiresAt} > ${now}::bigint`));
    return r?.until ?? null;
  }

  async idsOfKey(sourceId: number | null, key: string, limit = 20): Promise<number[]> {
    const rows = await this.db
      .select({ id: incidents.id })
      .from(incidents)
      .where(and(sameSource(sourceId), eq(incidents.key, key)))
      .orderBy(desc(incidents.id))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  async renderMembers(incidentId: number): Promise<StatefulAlert[]> {
    return this.db.select(postColumns).from(alerts).where(eq(alerts.incidentId, incidentId)).orderBy(asc(alerts.id));
  }

  async members(id: number): Promise<MemberRow[]> {
    return this.db.select(memberColumns).from(alerts).where(eq(alerts.incidentId, id)).orderBy(asc(alerts.id));
  }

  async summary(id: number): Promise<IncidentSummary> {
    return summarize(await this.row(id), await this.members(id));
  }

  /** As SQLite's: pages of the newest rows, each filtered by its members' state, service, severity and channels. */
  async list(f: IncidentFilter): Promise<IncidentSummary[]> {
    const out: IncidentSummary[] = [];
    const service = f.service === undefined ? undefined : serviceMatcher(f.service);
    let before = f.beforeId;
    for (;;) {
      const rows = await this.db
        .select()
        .from(incidents)
        .where(
          and(
            before !== undefined ? lt(incidents.id, before) : undefined,
            f.createdFrom !== undefined ? gte(incidents.createdAt, f.createdFrom) : undefined,
            f.createdTo !== undefined ? lte(incidents.createdAt, f.createdTo) : undefined,
          ),
        )
        .orderBy(desc(incidents.id))
        .limit(Math.max(f.limit, 50));
      if (rows.length === 0) return out;
      const ids = rows.map((r) => r.id);
      const members = await this.membersOf(ids);
      const channels = f.channelIds?.length ? await this.channelsOf(ids) : undefined;
      for (const r of rows) {
        const ms = members.get(r.id) ?? [];
        const s = summarize(r, ms);
        if (f.status !== undefined && s.status !== f.status) continue;
        if (f.state !== undefined && stateOf(s) !== f.state) continue;
        if (f.severities?.length && (s.severity === null || !f.severities.includes(s.severity))) continue;
        if (service && !ms.some((m) => service(m.service))) continue;
        if (channels && !(channels.get(r.id) ?? []).some((c) => f.channelIds!.includes(c))) continue;
        out.push(s);
        if (out.length >= f.limit) return out;
      }
      before = rows.at(-1)!.id;
    }
  }

  async channelsOf(ids: readonly number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectDistinct({ incidentId: sql<number>`${alerts.incidentId}`.mapWith(Number), channelId: deliveries.channelId })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(inArray(alerts.incidentId, [...ids]), isNull(deliveries.note), isNull(deliveries.mention)))
      .orderBy(asc(deliveries.channelId));
    for (const r of rows) out.set(r.incidentId, [...(out.get(r.incidentId) ?? []), r.channelId]);
    return out;
  }

  async messages(id: number): Promise<IncidentMessage[]> {
    return this.db
      .select({
        channelId: deliveries.channelId,
        discordMessageId: sql<string>`${deliveries.discordMessageId}`,
        members: sql<number>`count(distinct ${deliveries.alertId})`.mapWith(Number),
      })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(eq(alerts.incidentId, id), isNotNull(deliveries.discordMessageId), isNull(deliveries.note), isNull(deliveries.mention)))
      .groupBy(deliveries.channelId, deliveries.discordMessageId)
      .orderBy(sql`min(${deliveries.id})`);
  }

  async isMessageOf(incidentId: number, messageId: string): Promise<boolean> {
    const rows = await this.db
      .select({ one: sql`1` })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(eq(deliveries.discordMessageId, messageId), eq(alerts.incidentId, incidentId)))
      .limit(1);
    return rows.length > 0;
  }

  private async membersOf(ids: number[]): Promise<Map<number, MemberRow[]>> {
    const out = new Map<number, MemberRow[]>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .select(memberColumns)
      .from(alerts)
      .where(and(isNotNull(alerts.incidentId), inArray(alerts.incidentId, ids)))
      .orderBy(asc(alerts.id));
    for (const r of rows) {
      const list = out.get(r.incidentId) ?? [];
      list.push(r);
      out.set(r.incidentId, list);
    }
    return out;
  }
}
