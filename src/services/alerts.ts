import { and, asc, desc, eq, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import { alerts, deliveries } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { notFound } from './errors.js';
import type { AlertDetail, AlertView } from './views.js';
export type { AlertDetail } from './views.js';

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
};

/** One alert with every delivery made (or queued) for it. */
export function getAlert(h: Pick<Herald, 'db'>, id: number): AlertDetail {
  const alert = h.db.select(alertColumns).from(alerts).where(eq(alerts.id, id)).get();
  if (!alert) throw notFound('alert', id);
  const rows = h.db
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
  return { ...alert, deliveries: rows };
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
}

/** Alerts, newest first. */
export function listAlerts(h: Pick<Herald, 'db'>, f: AlertFilter): AlertView[] {
  return h.db
    .select(alertColumns)
    .from(alerts)
    .where(
      and(
        f.unrouted === undefined ? undefined : eq(alerts.unrouted, f.unrouted),
        f.muted === undefined ? undefined : f.muted ? isNotNull(alerts.mutedByMuteId) : isNull(alerts.mutedByMuteId),
        f.beforeId === undefined ? undefined : lt(alerts.id, f.beforeId),
        f.channelIds === undefined
          ? undefined
          : inArray(alerts.id, h.db.select({ id: deliveries.alertId }).from(deliveries).where(inArray(deliveries.channelId, f.channelIds))),
      ),
    )
    .orderBy(desc(alerts.id))
    .limit(f.limit)
    .all();
}

/**
 * Whether the Discord message `messageId` is one this alert was delivered in: a button acts only on the
 * alert of the message it was pressed on, never on one its custom_id merely names.
 */
export function isMessageOfAlert(h: Pick<Herald, 'db'>, alertId: number, messageId: string): boolean {
  const row = h.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.discordMessageId, messageId), eq(deliveries.alertId, alertId), eq(deliveries.state, 'sent')))
    .limit(1)
    .get();
  return row !== undefined;
}
