import { and, asc, desc, eq, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import { alerts, deliveries } from '../store/sqlite/schema.js';
import type { Herald } from '../herald.js';
import { notFound } from './errors.js';

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
}

export interface AlertDetail extends AlertView {
  deliveries: DeliveryView[];
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
