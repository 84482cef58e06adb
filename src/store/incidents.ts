import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import { notFound } from '../domain/errors.js';
import { incidentState, type IncidentState, type MemberState } from '../domain/incidents.js';
import type { StatefulAlert } from '../domain/alert-state.js';
import { postColumns } from './delivery-rows.js';
import type { Db } from './sqlite/open.js';
import { alerts, deliveries, incidents } from './sqlite/schema.js';

export type IncidentRow = typeof incidents.$inferSelect;

/** An incident as the admin API lists it: the row and its members' state (domain/incidents.ts). */
export interface IncidentSummary {
  id: number;
  source_id: number | null;
  key: string;
  title: string;
  created_at: number;
  status: 'firing' | 'resolved';
  severity: 'P0' | 'P1' | 'P2' | 'P3' | null;
  members: number;
  firing: number;
  acknowledged: number;
  resolved: number;
  retracted: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
}

/** What the incident's state and its card's lines are read from, per member. */
export interface MemberRow extends MemberState {
  id: number;
  incidentId: number;
  service: string;
  title: string;
  receivedAt: number;
  dedupKey: string | null;
}

/** The console's incident states: firing (some firing member not acknowledged), acknowledged (every firing member is), resolved. */
export const INCIDENT_STATES = ['firing', 'acknowledged', 'resolved'] as const;
export type IncidentStateName = (typeof INCIDENT_STATES)[number];

/** One Discord message an incident's members were posted in (its card, per channel). */
export interface IncidentMessage {
  channelId: number;
  discordMessageId: string;
  /** How many of its members that message shows. */
  members: number;
}

export interface IncidentFilter {
  status?: 'firing' | 'resolved';
  /** Finer than `status`: `firing` leaves out incidents whose every firing member is acknowledged. */
  state?: IncidentStateName;
  /** Only incidents with a member of this service: exact, or a glob with `*`. */
  service?: string;
  /** Only incidents whose worst severity is one of these. */
  severities?: readonly string[];
  /** Only incidents with a member delivered (or to be delivered) to one of these channels. */
  channelIds?: readonly number[];
  /** Only incidents created in [createdFrom, createdTo] (epoch ms). */
  createdFrom?: number;
  createdTo?: number;
  limit: number;
  /** Paging: only incidents with a smaller id. */
  beforeId?: number;
}


/** A member's columns, as `MemberRow` (the incident's card and its state are read from them). */
const memberColumns = {
  id: alerts.id,
  incidentId: sql<number>`${alerts.incidentId}`,
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

/**
 * Incidents (issue 10 §1): the only writer of the incidents table. Ingest finds or creates an incident in
 * its transaction (`join`) for a grouped alert only; an ungrouped one never reaches this module. An
 * incident's state is its members' (alerts.incident_id), read here, never stored a second time, so no
 * lifecycle change has to keep two rows in step.
 */
export class IncidentStore {
  private readonly openOfKey: BetterSqlite3.Statement<{ sourceId: number | null; key: string }, { id: number; createdAt: number }>;
  private readonly insertIncident: BetterSqlite3.Statement<{ sourceId: number | null; key: string; title: string; now: number }, { id: number }>;

  constructor(private readonly db: Db) {
    // The grouped ingest path: plain prepared statements, on the (source_id, key) and alerts_incident indexes.
    // "Open": a member still firing. Once its last firing member resolved, the group's next alert starts a new incident.
    this.openOfKey = db.$client.prepare(
      `select i.id as id, i.created_at as createdAt from incidents i
       where i.source_id is @sourceId and i.key = @key
         and exists (select 1 from alerts a where a.incident_id = i.id and a.status = 'firing' and a.retracted_at is null)
       order by i.id desc limit 1`,
    );
    this.insertIncident = db.$client.prepare(`insert into incidents (source_id, key, title, created_at) values (@sourceId, @key, @title, @now) returning id`);
  }

  /**
   * Inside the ingest transaction: the open incident of this source with this key, else a new one
   * created now. `createdAt` is when its first card may go at the soonest (plus the route's group_wait).
   */
  async join(sourceId: number | null, key: string, title: string, now: number): Promise<{ id: number; createdAt: number; created: boolean }> {
    const open = this.openOfKey.get({ sourceId, key });
    if (open) return { ...open, created: false };
    return { id: this.insertIncident.get({ sourceId, key, title, now })!.id, createdAt: now, created: true };
  }

  /** The row; 404 when there is none. */
  async row(id: number): Promise<IncidentRow> {
    const r = this.db.select().from(incidents).where(eq(incidents.id, id)).get();
    if (!r) throw notFound('incident', id);
    return r;
  }

  /** Titles of these incidents (for rendering their cards). */
  async titles(ids: readonly number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    return new Map(this.db.select({ id: incidents.id, title: incidents.title }).from(incidents).where(inArray(incidents.id, [...ids])).all().map((r) => [r.id, r.title]));
  }

  /**
   * Until when the incident's group is muted (its card's Mute 1h, a mute of its key and source in force), or
   * null: the card then says so and offers no Mute button. `now` in ms, like every time column.
   */
  async mutedUntil(incidentId: number, now: number): Promise<number | null> {
    return (
      this.db.$client
        .prepare<{ incidentId: number; now: number }, { until: number | null }>(
          `select max(m.expires_at) as until from incidents i join mutes m on m.incident_key = i.key and m.source_id is i.source_id
           where i.id = @incidentId and m.ended_at is null and m.expires_at > @now`,
        )
        .get({ incidentId, now })?.until ?? null
    );
  }

  /** The incidents of this source and key (newest first): those a mute of that group changes the cards of. */
  async idsOfKey(sourceId: number | null, key: string, limit = 20): Promise<number[]> {
    return this.db.$client
      .prepare<{ sourceId: number | null; key: string; limit: number }, number>(`select id from incidents where source_id is @sourceId and key = @key order by id desc limit @limit`)
      .pluck()
      .all({ sourceId, key, limit });
  }

  /** Every member of the incident as a card renders it (an escalation page shows the whole incident), oldest first. */
  async renderMembers(incidentId: number): Promise<StatefulAlert[]> {
    return this.db.select(postColumns).from(alerts).where(eq(alerts.incidentId, incidentId)).orderBy(asc(alerts.id)).all();
  }

  /** Every member of the incident (retracted ones included), oldest first. */
  async members(id: number): Promise<MemberRow[]> {
    return this.db
      .select(memberColumns)
      .from(alerts)
      .where(eq(alerts.incidentId, id))
      .orderBy(asc(alerts.id))
      .all();
  }

  /** The incident with its members' state; 404 when there is none. */
  async summary(id: number): Promise<IncidentSummary> {
    return summarize(await this.row(id), await this.members(id));
  }

  /** Incidents, newest first, with their state; the filter's criteria all apply. */
  async list(f: IncidentFilter): Promise<IncidentSummary[]> {
    // Read in pages of the newest rows: state, service, severity and channel are the members', which no
    // incident column holds, so they are applied to each page read; the creation time is a column.
    const out: IncidentSummary[] = [];
    const service = f.service === undefined ? undefined : serviceMatcher(f.service);
    let before = f.beforeId;
    for (;;) {
      const rows = this.db
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
        .limit(Math.max(f.limit, 50))
        .all();
      if (rows.length === 0) return out;
      const ids = rows.map((r) => r.id);
      const members = this.membersOf(ids);
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

  /** The channels each incident's members were routed to (their card deliveries), by incident id. */
  async channelsOf(ids: readonly number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    if (ids.length === 0) return out;
    const rows = this.db
      .selectDistinct({ incidentId: sql<number>`${alerts.incidentId}`, channelId: deliveries.channelId })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(inArray(alerts.incidentId, [...ids]), isNull(deliveries.note), isNull(deliveries.mention)))
      .orderBy(asc(deliveries.channelId))
      .all();
    for (const r of rows) out.set(r.incidentId, [...(out.get(r.incidentId) ?? []), r.channelId]);
    return out;
  }

  /**
   * The Discord messages the incident's members were posted in (its cards; not thread follow-ups or
   * escalation mentions), one per channel as a rule, first posted first.
   */
  async messages(id: number): Promise<IncidentMessage[]> {
    return this.db
      .select({ channelId: deliveries.channelId, discordMessageId: sql<string>`${deliveries.discordMessageId}`, members: sql<number>`count(distinct ${deliveries.alertId})` })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(eq(alerts.incidentId, id), isNotNull(deliveries.discordMessageId), isNull(deliveries.note), isNull(deliveries.mention)))
      .groupBy(deliveries.channelId, deliveries.discordMessageId)
      .orderBy(sql`min(${deliveries.id})`)
      .all();
  }

  /** Whether the Discord message `messageId` is one a member of this incident was delivered in (the button check). */
  async isMessageOf(incidentId: number, messageId: string): Promise<boolean> {
    return (
      this.db
        .select({ one: sql`1` })
        .from(deliveries)
        .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
        .where(and(eq(deliveries.discordMessageId, messageId), eq(alerts.incidentId, incidentId)))
        .limit(1)
        .get() !== undefined
    );
  }

  private membersOf(ids: number[]): Map<number, MemberRow[]> {
    const out = new Map<number, MemberRow[]>();
    if (ids.length === 0) return out;
    const rows = this.db
      .select(memberColumns)
      .from(alerts)
      .where(and(isNotNull(alerts.incidentId), inArray(alerts.incidentId, ids)))
      .orderBy(asc(alerts.id))
      .all();
    for (const r of rows) {
      const list = out.get(r.incidentId) ?? [];
      list.push(r);
      out.set(r.incidentId, list);
    }
    return out;
  }
}

/** The console's state of an incident summary. */
export function stateOf(s: Pick<IncidentSummary, 'status' | 'acknowledged_at'>): IncidentStateName {
  if (s.status === 'resolved') return 'resolved';
  return s.acknowledged_at !== null ? 'acknowledged' : 'firing';
}

/** A service criterion as the alerts page gives it: exact, or a glob where `*` is any run of characters (case-insensitive, like the alerts filter's LIKE). Also `pg/incidents.ts`'s. */
export function serviceMatcher(pattern: string): (service: string) => boolean {
  if (!pattern.includes('*')) return (s) => s === pattern;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'is');
  return (s) => re.test(s);
}

/** The summary of an incident row and its members (also `pg/incidents.ts`'s). */
export function summarize(r: IncidentRow, members: MemberRow[]): IncidentSummary {
  const s: IncidentState = incidentState(members);
  return {
    id: r.id,
    source_id: r.sourceId,
    key: r.key,
    title: r.title,
    created_at: r.createdAt,
    status: s.isResolved || s.firing === 0 ? 'resolved' : 'firing',
    severity: s.worst,
    members: members.length,
    firing: s.firing,
    acknowledged: s.acknowledged,
    resolved: s.resolved,
    retracted: s.retracted,
    acknowledged_at: s.acknowledgedAt,
    resolved_at: s.resolvedAt,
  };
}
