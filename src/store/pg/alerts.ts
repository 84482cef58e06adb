import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { AlertInput } from '../../domain/alert.js';
import type { StatefulAlert } from '../../domain/alert-state.js';
import { notFound } from '../../domain/errors.js';
import type { AlertDetail, AlertFilter, AlertRow, AlertState, AlertStore, AlertView, LatestRow, NewAlert, StaleCandidate } from '../alerts.js';
import { renderColumns } from './delivery-rows.js';
import type { PgExecutor } from './open.js';
import { alerts, deliveries, sources } from './schema.js';

/** At most this many open alerts are resolved by one `resolved` (as `../alerts.ts`). */
const MAX_RESOLVE = 100;

/** A LIKE pattern for `text` taken literally (`%`, `_` and the escape character itself escaped). */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * SQLite's `like` ignores the case of ASCII letters; PostgreSQL's is case-sensitive, so the filters use `ilike`
 * (which also folds non-ASCII letters: "É" matches "é" here, not on SQLite). The escape character is a backslash.
 */
const ilike = (col: AnyPgColumn, pattern: string) => sql`${col} ilike ${pattern} escape '\\'`;

/**
 * The alert's source: SQLite's `source_id is ?` (null matches null). Spelled as `= ?` or `is null`, which the
 * planner can serve from an index, where `is not distinct from` would not be.
 */
const sameSource = (sourceId: number | null): SQL => (sourceId === null ? isNull(alerts.sourceId) : eq(alerts.sourceId, sourceId));

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

/**
 * `../alerts.ts` on PostgreSQL: every public method, the same filters, order, limits, row shapes and 404s. Plain
 * queries (SQLite's ingest statements are prepared once on its one connection). What differs in the SQL:
 * - `source_id is ?` is `= ?` / `is null` (`sameSource`).
 * - The fold's `min(severity, ?)` (SQLite's scalar min) is `least(…)`, compared in the "C" collation: 'P0' < 'P1' < …
 * - `latest`'s `resolvedByPerson` is the boolean cast to an integer (0 or 1, as SQLite answers), and the fold's "same
 *   firing start" test is decided in JS for a null start (a bare `$1 is not null` has no type PostgreSQL can infer).
 * - `list`'s `text` and glob `service` filters use `ilike` (SQLite's `like` ignores ASCII case).
 * - A `bigint` expression (`coalesce` of two times, `max` of one) is mapped to a number.
 * JSON columns are written as values (drizzle serialises them; `labels` is `json`, keeping the sender's key order).
 */
export class PgAlertStore implements Pick<AlertStore, keyof AlertStore> {
  constructor(private readonly db: PgExecutor) {}

  // --- ingest (inside the ingest transaction) ---

  /** Stores a new alert; returns its id. */
  async insert(a: NewAlert): Promise<number> {
    const i = a.input;
    const [row] = await this.db
      .insert(alerts)
      .values({
        sourceId: a.sourceId,
        service: i.service,
        severity: i.severity,
        title: i.title,
        description: i.description ?? null,
        status: a.status,
        dedupKey: i.dedup_key ?? null,
        environment: i.environment ?? null,
        labels: i.labels ?? null,
        fields: i.fields ?? null,
        links: i.links ?? null,
        unrouted: a.unrouted,
        receivedAt: a.receivedAt,
        mutedByMuteId: a.mutedBy,
        occurrences: a.occurrences,
        resolvedAt: a.resolvedAt,
        resolvedBy: a.resolvedBy,
        firingStartedAt: i.firing_started_at ?? null,
        incidentId: a.incidentId ?? null,
      })
      .returning({ id: alerts.id });
    return row!.id;
  }

  /**
   * The newest alert of this source with this key (firing or resolved), retracted ones left out; who resolved it
   * is read from its latest resolve action only for a resolved alert with a firing start (a CASE, evaluated lazily
   * by PostgreSQL too).
   */
  async latest(sourceId: number | null, key: string): Promise<LatestRow | undefined> {
    const [row] = await this.db
      .select({
        id: alerts.id,
        status: alerts.status,
        severity: alerts.severity,
        resolvedAt: alerts.resolvedAt,
        mutedBy: alerts.mutedByMuteId,
        occurrences: alerts.occurrences,
        firingStartedAt: alerts.firingStartedAt,
        incidentId: alerts.incidentId,
        resolvedByPerson: sql<0 | 1>`case when "alerts"."status" = 'resolved' and "alerts"."firing_started_at" is not null then
           coalesce((select (x.actor_kind <> 'system')::int from alert_actions x where x.alert_id = "alerts"."id" and x.kind = 'resolve' order by x.id desc limit 1), 0)
         else 0 end`.mapWith((v): 0 | 1 => (Number(v) === 1 ? 1 : 0)),
      })
      .from(alerts)
      .where(and(eq(alerts.dedupKey, key), sameSource(sourceId), isNull(alerts.retractedAt)))
      .orderBy(desc(alerts.id))
      .limit(1);
    return row;
  }

  private openBy(sourceId: number | null, match: SQL | undefined, limit: number) {
    return this.db
      .select({ id: alerts.id })
      .from(alerts)
      .where(and(match, sameSource(sourceId), eq(alerts.status, 'firing'), isNull(alerts.retractedAt)))
      .orderBy(desc(alerts.id))
      .limit(limit);
  }

  /** The newest firing alert of this source with this dedup key (never another source's). */
  async openWithKey(sourceId: number | null, key: string): Promise<number | undefined> {
    const [row] = await this.openBy(sourceId, eq(alerts.dedupKey, key), 1);
    return row?.id;
  }

  /** Firing alerts a `resolved` names: by dedup key, or (without one) by the same service and title. */
  async open(sourceId: number | null, a: { dedup_key?: string | undefined; service: string; title: string }): Promise<number[]> {
    const match = a.dedup_key !== undefined ? eq(alerts.dedupKey, a.dedup_key) : and(eq(alerts.service, a.service), eq(alerts.title, a.title), isNull(alerts.dedupKey));
    return (await this.openBy(sourceId, match, MAX_RESOLVE)).map((r) => r.id);
  }

  /**
   * Folds a repeat in: one more occurrence (none for a re-send with the firing start already stored), last seen
   * `at`, the repeat's content (the severity only goes up) and its firing start. `reopen`: firing again,
   * acknowledgement and resolution cleared.
   */
  async fold(alertId: number, input: AlertInput, at: number, reopen: boolean): Promise<void> {
    const start = input.firing_started_at ?? null;
    const set = {
      occurrences: sql`${alerts.occurrences} + ${start === null ? sql`1` : sql`(case when ${alerts.firingStartedAt} = ${start} then 0 else 1 end)`}`,
      firingStartedAt: start,
      lastSeenAt: at,
      changedAt: at,
      // 'P0' < 'P1' < … as text: least() keeps the higher severity.
      severity: sql`least(${alerts.severity} collate "C", ${input.severity})`,
      title: input.title,
      description: input.description ?? null,
      environment: input.environment ?? null,
      labels: input.labels ?? null,
      fields: input.fields ?? null,
      links: input.links ?? null,
    };
    const reopened = reopen
      ? {
          status: 'firing' as const,
          reopenedAt: at,
          resolvedAt: null,
          resolvedBy: null,
          resolvedByUser: null,
          acknowledgedAt: null,
          acknowledgedBy: null,
          acknowledgedByUser: null,
        }
      : {};
    await this.db
      .update(alerts)
      .set({ ...set, ...reopened })
      .where(eq(alerts.id, alertId));
  }

  // --- lifecycle ---

  /** The whole row; 404 when there is none. */
  async row(id: number): Promise<AlertRow> {
    const a = await this.find(id);
    if (!a) throw notFound('alert', id);
    return a;
  }

  /** The row, or undefined (the outbound worker reads alerts that may be gone). */
  async find(id: number): Promise<AlertRow | undefined> {
    const [a] = await this.db.select().from(alerts).where(eq(alerts.id, id)).limit(1);
    return a;
  }

  /** Sets lifecycle columns (inside the caller's transaction). */
  async update(id: number, set: Partial<AlertRow>): Promise<void> {
    await this.db.update(alerts).set(set).where(eq(alerts.id, id));
  }

  /** Marks every member of the incident changed (`changed_at`): a card in flight is edited after its send. */
  async touchIncident(incidentId: number, now: number): Promise<void> {
    await this.db.update(alerts).set({ changedAt: now }).where(eq(alerts.incidentId, incidentId));
  }

  /** The alert as render needs it (`mutedUntil` by PostgreSQL's clock, `delivery-rows.ts`); 404 when there is none. */
  async renderable(id: number): Promise<StatefulAlert & { changedAt: number | null }> {
    const [a] = await this.db.select(renderColumns).from(alerts).where(eq(alerts.id, id)).limit(1);
    if (!a) throw notFound('alert', id);
    return a;
  }

  async exists(id: number): Promise<boolean> {
    const [a] = await this.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.id, id)).limit(1);
    return a !== undefined;
  }

  /** The newest alert with this dedup key. */
  async newestWithKey(key: string): Promise<number | undefined> {
    const [a] = await this.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.dedupKey, key)).orderBy(desc(alerts.id)).limit(1);
    return a?.id;
  }

  // --- auto-resolve ---

  /**
   * Firing alerts (not retracted) with no repeat since long enough to be stale: their source's auto_resolve_after
   * has passed, or (`minRouteAfterMs`) a route's may have. At most `limit`, oldest first. `now` is the caller's.
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
        lastUpdateAt: lastUpdate.mapWith(Number),
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
      .limit(limit);
  }

  // --- views ---

  /** One alert with every delivery made (or queued) for it; 404 when there is none. */
  async detail(id: number): Promise<AlertDetail> {
    const [row] = await this.db
      .select({ ...alertColumns, incident_id: alerts.incidentId })
      .from(alerts)
      .where(eq(alerts.id, id))
      .limit(1);
    if (!row) throw notFound('alert', id);
    const { incident_id, ...alert } = row;
    const rows = await this.db
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
      .orderBy(asc(deliveries.id));
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
          f.service === undefined ? undefined : f.service.includes('*') ? ilike(alerts.service, likeLiteral(f.service).replace(/\*/g, '%')) : eq(alerts.service, f.service),
          f.severities === undefined || f.severities.length === 0 ? undefined : inArray(alerts.severity, f.severities),
          stateCondition(f.state),
          f.receivedFrom === undefined ? undefined : gte(alerts.receivedAt, f.receivedFrom),
          f.receivedTo === undefined ? undefined : lt(alerts.receivedAt, f.receivedTo),
          f.text === undefined || f.text === ''
            ? undefined
            : or(
                ilike(alerts.title, `%${likeLiteral(f.text)}%`),
                ilike(alerts.service, `%${likeLiteral(f.text)}%`),
                ilike(alerts.description, `%${likeLiteral(f.text)}%`),
              ),
        ),
      )
      .orderBy(desc(alerts.id))
      .limit(f.limit);
  }

  /** Whether the Discord message `messageId` is one this alert was delivered in. */
  async isMessageOf(alertId: number, messageId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(eq(deliveries.discordMessageId, messageId), eq(deliveries.alertId, alertId), eq(deliveries.state, 'sent')))
      .limit(1);
    return row !== undefined;
  }

  /** Services of the `limit` newest alerts, newest first (repeats included). */
  async recentServices(limit: number): Promise<string[]> {
    const rows = await this.db.select({ service: alerts.service }).from(alerts).orderBy(desc(alerts.id)).limit(limit);
    return rows.map((r) => r.service);
  }
}
