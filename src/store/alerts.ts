import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, or, asc, sql } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';
import type { AlertInput, Severity } from '../domain/alert.js';
import { notFound } from '../domain/errors.js';
import type { StatefulAlert } from '../domain/alert-state.js';
import { renderColumns } from './delivery-rows.js';
import type { Db } from './sqlite/open.js';
import { alerts, deliveries, sources } from './sqlite/schema.js';

export type AlertRow = typeof alerts.$inferSelect;

export interface DeliveryView {
  id: number;
  channel_id: number;
  /** `digest`: held outside business hours on a digest-only route (never sent); pending with a future `available_at`: waiting for hours. */
  state: 'pending' | 'leased' | 'sent' | 'dead' | 'cancelled' | 'digest';
  available_at: number;
  attempts: number;
  last_error: string | null;
  webhook_id: number | null;
  discord_message_id: string | null;
  sent_at: number | null;
}

export interface AlertView {
  id: number;
  source_id: number | null;
  service: string;
  severity: 'P0' | 'P1' | 'P2' | 'P3';
  title: string;
  description: string | null;
  status: 'firing' | 'resolved';
  dedup_key: string | null;
  environment: string | null;
  labels: Record<string, string> | null;
  fields: { name: string; value: string }[] | null;
  links: { title: string; url: string }[] | null;
  unrouted: boolean;
  received_at: number;
  /** Lifecycle: who acknowledged / resolved (display name) and when; when it was retracted; the mute that silenced it. */
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  retracted_at: number | null;
  retract_mode: 'delete' | 'strike' | null;
  retract_reason: string | null;
  muted_by_mute_id: number | null;
  /** Grouping: how often it fired (repeats folded in; 0 for a resolved with nothing to resolve), when last, when it last reopened. */
  occurrences: number;
  last_seen_at: number | null;
  reopened_at: number | null;
  /** When the firing last notified started, by its sender's clock (Alertmanager's startsAt); null for senders without one. */
  firing_started_at: number | null;
}

export interface AlertDetail extends AlertView {
  deliveries: DeliveryView[];
  /** The incident it belongs to (absent: none, an incident of one). */
  incident_id?: number;
}

export interface AlertFilter {
  /** Only alerts no route and no default channel took. */
  unrouted?: boolean;
  /** true: only alerts a mute silenced; false: only those it did not. */
  muted?: boolean;
  limit: number;
  /** Paging: only alerts with a smaller id. */
  beforeId?: number;
  /** Only alerts with a delivery (in any state) to one of these channels. */
  channelIds?: number[];
  /** Only alerts of this service: exact, or a glob with `*` (the console's search). */
  service?: string;
  /** Only alerts of these severities. */
  severities?: Severity[];
  /**
   * Only alerts in this state: firing (neither acknowledged nor resolved), acknowledged (firing,
   * acknowledged), resolved, muted (silenced by a mute), retracted.
   */
  state?: AlertState;
  /** Only alerts received at or after this time (epoch ms). */
  receivedFrom?: number;
  /** Only alerts received before this time (epoch ms). */
  receivedTo?: number;
  /** Only alerts whose title, service or description contains this text (case-insensitive). */
  text?: string;
}

/** The states the console filters alerts by (AlertFilter.state). */
export const ALERT_STATES = ['firing', 'acknowledged', 'resolved', 'muted', 'retracted'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** A LIKE pattern for `text` taken literally (`%`, `_` and the escape character itself escaped). */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function stateCondition(state: AlertState | undefined) {
  switch (state) {
    case undefined:
      return undefined;
    case 'firing':
      return and(eq(alerts.status, 'firing'), isNull(alerts.acknowledgedAt), isNull(alerts.retractedAt), isNull(alerts.mutedByMuteId));
    case 'acknowledged':
      return and(eq(alerts.status, 'firing'), isNotNull(alerts.acknowledgedAt), isNull(alerts.retractedAt));
    case 'resolved':
      return and(eq(alerts.status, 'resolved'), isNull(alerts.retractedAt));
    case 'muted':
      return isNotNull(alerts.mutedByMuteId);
    case 'retracted':
      return isNotNull(alerts.retractedAt);
  }
}

/** The newest alert with a dedup key, as the dedup stage weighs it. */
export interface LatestRow {
  id: number;
  status: 'firing' | 'resolved';
  severity: Severity;
  resolvedAt: number | null;
  mutedBy: number | null;
  occurrences: number;
  /** The start of the firing it last heard of (Alertmanager's startsAt), or null. */
  firingStartedAt: number | null;
  /** Resolved, and the latest resolve was a person's (Discord or the admin API), not its sender's nor a sweep's. Only asked of an alert with a firing start. */
  resolvedByPerson: 0 | 1;
  /** The incident it is a member of (a column of the row already read: no statement more for an ungrouped alert). */
  incidentId?: number | null;
}

/** A firing alert that may have gone stale (auto-resolve: services/auto-resolve.ts), with what routing and the source's setting need. */
export interface StaleCandidate {
  id: number;
  service: string;
  severity: Severity;
  environment: string | null;
  labels: Record<string, string> | null;
  /** Its last repeat, else when it was received. */
  lastUpdateAt: number;
  /** Its source's auto_resolve_after_ms, if any. */
  sourceAfterMs: number | null;
}

/** A new alert as ingest stores it. */
export interface NewAlert {
  sourceId: number | null;
  input: AlertInput;
  status: 'firing' | 'resolved';
  unrouted: boolean;
  receivedAt: number;
  mutedBy: number | null;
  occurrences: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
  /** The incident it joins (store/incidents.ts `join`); null or absent: none. */
  incidentId?: number | null;
}

/** The row `insertAlert` writes: JSON columns as text, booleans as 0/1 (SQLite's own types). */
interface InsertAlertParams {
  sourceId: number | null;
  service: string;
  severity: string;
  title: string;
  description: string | null;
  status: string;
  dedupKey: string | null;
  environment: string | null;
  labels: string | null;
  fields: string | null;
  links: string | null;
  unrouted: 0 | 1;
  receivedAt: number;
  mutedBy: number | null;
  occurrences: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
  firingStartedAt: number | null;
  incidentId: number | null;
}

/** At most this many open alerts are resolved by one `resolved` (more would be a sender's bug; the rest stay open). */
const MAX_RESOLVE = 100;

const alertColumns = {
  id: alerts.id,
  source_id: alerts.sourceId,
  service: alerts.service,
  severity: alerts.severity,
  title: alerts.title,
  description: alerts.description,
  status: alerts.status,
  dedup_key: alerts.dedupKey,
  environment: alerts.environment,
  labels: alerts.labels,
  fields: alerts.fields,
  links: alerts.links,
  unrouted: alerts.unrouted,
  received_at: alerts.receivedAt,
  acknowledged_by: alerts.acknowledgedBy,
  acknowledged_at: alerts.acknowledgedAt,
  resolved_by: alerts.resolvedBy,
  resolved_at: alerts.resolvedAt,
  retracted_at: alerts.retractedAt,
  retract_mode: alerts.retractMode,
  retract_reason: alerts.retractReason,
  muted_by_mute_id: alerts.mutedByMuteId,
  occurrences: alerts.occurrences,
  last_seen_at: alerts.lastSeenAt,
  reopened_at: alerts.reopenedAt,
  firing_started_at: alerts.firingStartedAt,
};

const p = sql.placeholder;

/** A repeat's content, folded into its alert. */
interface FoldParams {
  id: number;
  at: number;
  severity: string;
  title: string;
  description: string | null;
  environment: string | null;
  labels: string | null;
  fields: string | null;
  links: string | null;
  firingStartedAt: number | null;
}

/**
 * The alerts table: the ingest path's statements (insert, the dedup lookups, folding a repeat), the
 * lifecycle's reads and writes, and the admin and bot views. The ingest statements are prepared once;
 * the hottest are plain better-sqlite3 statements (drizzle's parameter mapping cost about a quarter of
 * the insert's time under the ingest bench).
 */
export class AlertStore {
  private readonly insertAlert: BetterSqlite3.Statement<InsertAlertParams, { id: number }>;
  private readonly newest: BetterSqlite3.Statement<{ key: string; sourceId: number | null }, LatestRow>;
  private readonly openByKey;
  private readonly openByTitle;
  private readonly bump: BetterSqlite3.Statement<FoldParams>;
  private readonly reopen: BetterSqlite3.Statement<FoldParams>;

  constructor(private readonly db: Db) {
    this.insertAlert = db.$client.prepare<InsertAlertParams, { id: number }>(
      `INSERT INTO alerts (source_id, service, severity, title, description, status, dedup_key, environment, labels, fields, links,
         unrouted, received_at, muted_by_mute_id, occurrences, resolved_at, resolved_by, firing_started_at, incident_id)
       VALUES (@sourceId, @service, @severity, @title, @description, @status, @dedupKey, @environment, @labels, @fields, @links,
         @unrouted, @receivedAt, @mutedBy, @occurrences, @resolvedAt, @resolvedBy, @firingStartedAt, @incidentId)
       RETURNING id`,
    );
    // Every keyed alert asks this on the ingest path: a plain better-sqlite3 statement (about 2 µs) rather
    // than drizzle's prepared query (about 10 µs of parameter and row mapping); same columns as schema.ts.
    // Who resolved it is read from its latest resolve action only for a resolved alert with a firing start
    // (SQLite evaluates a CASE lazily): the one case the dedup stage asks (a re-send of the same firing).
    this.newest = db.$client.prepare<{ key: string; sourceId: number | null }, LatestRow>(
      `select id, status, severity, resolved_at as resolvedAt, muted_by_mute_id as mutedBy, occurrences, firing_started_at as firingStartedAt, incident_id as incidentId,
         case when status = 'resolved' and firing_started_at is not null then
           coalesce((select x.actor_kind <> 'system' from alert_actions x where x.alert_id = alerts.id and x.kind = 'resolve' order by x.id desc limit 1), 0)
         else 0 end as resolvedByPerson
       from alerts
       where dedup_key = @key and source_id is @sourceId and retracted_at is null order by id desc limit 1`,
    );
    const sameSource = sql`${alerts.sourceId} IS ${p('sourceId')}`;
    this.openByKey = db
      .select({ id: alerts.id })
      .from(alerts)
      .where(and(eq(alerts.dedupKey, p('key')), sameSource, eq(alerts.status, 'firing'), isNull(alerts.retractedAt)))
      .orderBy(desc(alerts.id))
      .limit(MAX_RESOLVE)
      .prepare();
    this.openByTitle = db
      .select({ id: alerts.id })
      .from(alerts)
      .where(
        and(eq(alerts.service, p('service')), eq(alerts.title, p('title')), isNull(alerts.dedupKey), sameSource, eq(alerts.status, 'firing'), isNull(alerts.retractedAt)),
      )
      .orderBy(desc(alerts.id))
      .limit(MAX_RESOLVE)
      .prepare();
    // Folding a repeat in is the ingest path's commonest write (Alertmanager re-sends): plain statements too.
    // A re-send carrying the firing start already stored is a notification of the same firing, not another
    // firing (the dedup stage's rule, pipeline/dedup-stage.ts `sameFiring`): last_seen_at moves, occurrences does not.
    const bump = `occurrences = occurrences + (case when @firingStartedAt is not null and firing_started_at = @firingStartedAt then 0 else 1 end),
      firing_started_at = @firingStartedAt, last_seen_at = @at, changed_at = @at,
      severity = min(severity, @severity), -- 'P0' < 'P1' < … as text: min() keeps the higher severity
      title = @title, description = @description, environment = @environment, labels = @labels, fields = @fields, links = @links`;
    this.bump = db.$client.prepare<FoldParams>(`update alerts set ${bump} where id = @id`);
    this.reopen = db.$client.prepare<FoldParams>(
      `update alerts set ${bump}, status = 'firing', reopened_at = @at, resolved_at = null, resolved_by = null, resolved_by_user = null,
         acknowledged_at = null, acknowledged_by = null, acknowledged_by_user = null
       where id = @id`,
    );
  }

  // --- ingest (inside the ingest transaction) ---

  /** Stores a new alert; returns its id. */
  async insert(a: NewAlert): Promise<number> {
    const i = a.input;
    return this.insertAlert.get({
      sourceId: a.sourceId,
      service: i.service,
      severity: i.severity,
      title: i.title,
      description: i.description ?? null,
      status: a.status,
      dedupKey: i.dedup_key ?? null,
      environment: i.environment ?? null,
      labels: i.labels ? JSON.stringify(i.labels) : null,
      fields: i.fields ? JSON.stringify(i.fields) : null,
      links: i.links ? JSON.stringify(i.links) : null,
      unrouted: a.unrouted ? 1 : 0,
      receivedAt: a.receivedAt,
      mutedBy: a.mutedBy,
      occurrences: a.occurrences,
      resolvedAt: a.resolvedAt,
      resolvedBy: a.resolvedBy,
      firingStartedAt: i.firing_started_at ?? null,
      incidentId: a.incidentId ?? null,
    })!.id;
  }

  /**
   * The newest alert of this source with this key (firing or resolved), retracted ones left out. Scope:
   * the same source (a dedup key is the sender's name for a problem; two senders may use one key for
   * different things) and the same key. Inside the ingest transaction, alerts stored earlier in it are seen.
   */
  async latest(sourceId: number | null, key: string): Promise<LatestRow | undefined> {
    return this.newest.get({ sourceId, key });
  }

  /** The newest firing alert of this source with this dedup key (never another source's). */
  async openWithKey(sourceId: number | null, key: string): Promise<number | undefined> {
    return this.openByKey.get({ sourceId, key })?.id;
  }

  /** Firing alerts a `resolved` names: by dedup key, or (without one) by the same service and title. */
  async open(sourceId: number | null, a: { dedup_key?: string | undefined; service: string; title: string }): Promise<number[]> {
    const rows = a.dedup_key !== undefined ? this.openByKey.all({ sourceId, key: a.dedup_key }) : this.openByTitle.all({ sourceId, service: a.service, title: a.title });
    return rows.map((r) => r.id);
  }

  /**
   * Folds a repeat in: one more occurrence (a firing; none for a re-send with the firing start already
   * stored: a notification), last seen `at`, the repeat's content (the severity only goes up) and its
   * firing start. `reopen`: firing again, acknowledgement and resolution cleared.
   */
  async fold(alertId: number, input: AlertInput, at: number, reopen: boolean): Promise<void> {
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    (reopen ? this.reopen : this.bump).run({
      id: alertId,
      at,
      severity: input.severity,
      title: input.title,
      description: input.description ?? null,
      environment: input.environment ?? null,
      labels: json(input.labels),
      fields: json(input.fields),
      links: json(input.links),
      firingStartedAt: input.firing_started_at ?? null,
    });
  }

  // --- lifecycle ---

  /** The whole row; 404 when there is none. */
  async row(id: number): Promise<AlertRow> {
    const a = this.db.select().from(alerts).where(eq(alerts.id, id)).get();
    if (!a) throw notFound('alert', id);
    return a;
  }

  /** The row, or undefined (the outbound worker reads alerts that may be gone). */
  async find(id: number): Promise<AlertRow | undefined> {
    return this.db.select().from(alerts).where(eq(alerts.id, id)).get();
  }

  /** Sets lifecycle columns (inside the caller's transaction). */
  async update(id: number, set: Partial<AlertRow>): Promise<void> {
    this.db.update(alerts).set(set).where(eq(alerts.id, id)).run();
  }

  /**
   * Marks every member of the incident changed (`changed_at`), for a change its cards show that is not a member's
   * own (its group muted, the mute lifted): a card on its way to Discord at the time is edited after its send
   * (`MessageOps.syncIfChanged`), since it was rendered before.
   */
  async touchIncident(incidentId: number, now: number): Promise<void> {
    this.db.update(alerts).set({ changedAt: now }).where(eq(alerts.incidentId, incidentId)).run();
  }

  /** The alert as render needs it; 404 when there is none. */
  async renderable(id: number): Promise<StatefulAlert & { changedAt: number | null }> {
    const a = this.db.select(renderColumns).from(alerts).where(eq(alerts.id, id)).get();
    if (!a) throw notFound('alert', id);
    return a;
  }

  async exists(id: number): Promise<boolean> {
    return this.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.id, id)).get() !== undefined;
  }

  /** The newest alert with this dedup key. */
  async newestWithKey(key: string): Promise<number | undefined> {
    return this.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.dedupKey, key)).orderBy(desc(alerts.id)).limit(1).get()?.id;
  }

  // --- auto-resolve ---

  /**
   * Firing alerts (not retracted) with no repeat since long enough to be stale: their source's
   * auto_resolve_after has passed, or (`minRouteAfterMs`: the shortest any route sets) a route's may
   * have; which route applies is the caller's to match. At most `limit`, oldest first. No index
   * serves this (one on the hot alerts table would cost every ingest): the sweep runs rarely.
   */
  async staleCandidates(now: number, minRouteAfterMs: number | null, limit = 500): Promise<StaleCandidate[]> {
    const lastUpdate = sql<number>`coalesce(${alerts.lastSeenAt}, ${alerts.receivedAt})`;
    return this.db
      .select({
        id: alerts.id,
        service: alerts.service,
        severity: alerts.severity,
        environment: alerts.environment,
        labels: alerts.labels,
        lastUpdateAt: lastUpdate,
        sourceAfterMs: sources.autoResolveAfterMs,
      })
      .from(alerts)
      .leftJoin(sources, eq(sources.id, alerts.sourceId))
      .where(
        and(
          eq(alerts.status, 'firing'),
          isNull(alerts.retractedAt),
          sql`(${lastUpdate} + ${sources.autoResolveAfterMs} <= ${now}${minRouteAfterMs === null ? sql`` : sql` or ${lastUpdate} <= ${now - minRouteAfterMs}`})`,
        ),
      )
      .orderBy(asc(alerts.id))
      .limit(limit)
      .all();
  }

  // --- views ---

  /** One alert with every delivery made (or queued) for it; 404 when there is none. */
  async detail(id: number): Promise<AlertDetail> {
    const row = this.db.select({ ...alertColumns, incident_id: alerts.incidentId }).from(alerts).where(eq(alerts.id, id)).get();
    if (!row) throw notFound('alert', id);
    // Only when it belongs to one, so the answers about ungrouped alerts stay as they were.
    const { incident_id, ...alert } = row;
    const rows = this.db
      .select({
        id: deliveries.id,
        channel_id: deliveries.channelId,
        state: deliveries.state,
        available_at: deliveries.availableAt,
        attempts: deliveries.attempts,
        last_error: deliveries.lastError,
        webhook_id: deliveries.webhookId,
        discord_message_id: deliveries.discordMessageId,
        sent_at: deliveries.sentAt,
      })
      .from(deliveries)
      .where(eq(deliveries.alertId, id))
      .orderBy(asc(deliveries.id))
      .all();
    return { ...alert, deliveries: rows, ...(incident_id === null ? {} : { incident_id }) };
  }

  /** Alerts, newest first. */
  async list(f: AlertFilter): Promise<AlertView[]> {
    return this.db
      .select(alertColumns)
      .from(alerts)
      .where(
        and(
          f.unrouted === undefined ? undefined : eq(alerts.unrouted, f.unrouted),
          f.muted === undefined ? undefined : f.muted ? isNotNull(alerts.mutedByMuteId) : isNull(alerts.mutedByMuteId),
          f.beforeId === undefined ? undefined : lt(alerts.id, f.beforeId),
          f.channelIds === undefined
            ? undefined
            : inArray(alerts.id, this.db.select({ id: deliveries.alertId }).from(deliveries).where(inArray(deliveries.channelId, f.channelIds))),
          f.service === undefined
            ? undefined
            : f.service.includes('*')
              ? sql`${alerts.service} like ${likeLiteral(f.service).replace(/\*/g, '%')} escape '\\'`
              : eq(alerts.service, f.service),
          f.severities === undefined || f.severities.length === 0 ? undefined : inArray(alerts.severity, f.severities),
          stateCondition(f.state),
          f.receivedFrom === undefined ? undefined : gte(alerts.receivedAt, f.receivedFrom),
          f.receivedTo === undefined ? undefined : lt(alerts.receivedAt, f.receivedTo),
          f.text === undefined || f.text === ''
            ? undefined
            : or(
                sql`${alerts.title} like ${`%${likeLiteral(f.text)}%`} escape '\\'`,
                sql`${alerts.service} like ${`%${likeLiteral(f.text)}%`} escape '\\'`,
                sql`${alerts.description} like ${`%${likeLiteral(f.text)}%`} escape '\\'`,
              ),
        ),
      )
      .orderBy(desc(alerts.id))
      .limit(f.limit)
      .all();
  }

  /** Whether the Discord message `messageId` is one this alert was delivered in. */
  async isMessageOf(alertId: number, messageId: string): Promise<boolean> {
    const row = this.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(eq(deliveries.discordMessageId, messageId), eq(deliveries.alertId, alertId), eq(deliveries.state, 'sent')))
      .limit(1)
      .get();
    return row !== undefined;
  }

  /** Services of the `limit` newest alerts, newest first (repeats included). */
  async recentServices(limit: number): Promise<string[]> {
    return this.db.select({ service: alerts.service }).from(alerts).orderBy(desc(alerts.id)).limit(limit).all().map((r) => r.service);
  }
}
