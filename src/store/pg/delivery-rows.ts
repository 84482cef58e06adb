import { sql } from 'drizzle-orm';
import { alerts } from './schema.js';

/**
 * `../delivery-rows.ts`'s column sets on the PostgreSQL schema: the alert columns a card is rendered from
 * (`postColumns` for a first post, `renderColumns` = those plus `mutedUntil` for an edit, a button's answer and
 * `alerts.renderable`). The same keys and values; only the clock of `mutedUntil` is PostgreSQL's.
 */

/** The columns render needs of an alert for a first post: its content and lifecycle state. */
export const postColumns = {
  id: alerts.id,
  service: alerts.service,
  severity: alerts.severity,
  title: alerts.title,
  description: alerts.description,
  status: alerts.status,
  environment: alerts.environment,
  dedupKey: alerts.dedupKey,
  labels: alerts.labels,
  fields: alerts.fields,
  links: alerts.links,
  receivedAt: alerts.receivedAt,
  acknowledgedBy: alerts.acknowledgedBy,
  acknowledgedByUser: alerts.acknowledgedByUser,
  acknowledgedAt: alerts.acknowledgedAt,
  resolvedBy: alerts.resolvedBy,
  resolvedByUser: alerts.resolvedByUser,
  resolvedAt: alerts.resolvedAt,
  retractedAt: alerts.retractedAt,
  retractMode: alerts.retractMode,
  retractReason: alerts.retractReason,
  changedAt: alerts.changedAt,
  occurrences: alerts.occurrences,
  lastSeenAt: alerts.lastSeenAt,
  reopenedAt: alerts.reopenedAt,
  firingStartedAt: alerts.firingStartedAt,
  incidentId: alerts.incidentId,
};

/**
 * `postColumns` and whether a mute made from the alert is in force (the same unindexed subquery over mutes as
 * SQLite's). "In force" is judged by the database's clock, as SQLite's `julianday('now')` does: here
 * `statement_timestamp()` (the time the statement started, as SQLite's 'now' is fixed for one statement), in epoch
 * ms. `max()` of a bigint comes back from node-postgres as a string: mapped to a number (null stays null).
 */
export const renderColumns = {
  ...postColumns,
  // Spelled out with an alias, as SQLite's is: "id" alone inside the subquery would be the mute's.
  mutedUntil: sql<number | null>`(select max(m.expires_at) from mutes m where m.alert_id = "alerts"."id" and m.ended_at is null and m.expires_at > (floor(extract(epoch from statement_timestamp()) * 1000))::bigint)`.mapWith(
    Number,
  ),
};
