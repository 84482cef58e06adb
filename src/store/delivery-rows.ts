import { sql } from 'drizzle-orm';
import { alerts, type attempts } from './sqlite/schema.js';

/**
 * Row shapes shared by the deliveries outbox and the message operations outbox (src/store/deliveries.ts,
 * src/store/message-ops.ts): what an attempts row holds and which alert columns a card is rendered
 * from. One place, so neither module borrows from the other.
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
 * The columns render needs of an alert for an edit or a button's answer: `postColumns` and whether a
 * mute made from it is in force. Not on the posting hot path: the mutes table has no index on alert_id
 * (mutes are kept for good), so this subquery scans it; measured with 1,000 mutes, about 0.13 ms per
 * alert (50 alerts: 6.6 ms instead of 0.14). A first post of a muted alert is rare (an escalation step,
 * a higher-severity repost) and its Mute button then answers "already muted".
 */
export const renderColumns = {
  ...postColumns,
  /**
   * Until when a mute made from this alert (its card's Mute 1h, `/mute alert:`) is in force, or null:
   * the card then says so and offers no Mute button. "In force" is judged by the database's clock
   * (SQLite-only: `julianday`), in milliseconds like every time column.
   */
  // Spelled out with an alias: drizzle writes columns unqualified in a one-table select, where "id" would be the mute's.
  mutedUntil: sql<number | null>`(select max(m.expires_at) from mutes m where m.alert_id = "alerts"."id" and m.ended_at is null and m.expires_at > cast((julianday('now') - 2440587.5) * 86400000 as integer))`,
};

/** One request to Discord as its attempts row records it (one row per delivery it carried). */
export interface AttemptRecord {
  deliveryIds: number[];
  webhookId: number | null;
  at: number;
  status: number | null;
  latencyMs: number;
  outcome: string;
  error?: string | null;
  rateLimitScope?: string | null;
}

/** The attempts row of one request; `opId` names the message operation (edit, delete) it was for, if any. */
export function attemptRow(a: AttemptRecord, deliveryId: number | null, opId: number | null = null): typeof attempts.$inferInsert {
  return {
    deliveryId,
    opId,
    webhookId: a.webhookId,
    at: a.at,
    status: a.status,
    latencyMs: a.latencyMs,
    outcome: a.outcome,
    error: a.error ?? null,
    rateLimitScope: a.rateLimitScope ?? null,
  };
}
