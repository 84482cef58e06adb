import { renderAlertCard } from '../cards/alert-card.js';
import type { WebhookMessage } from '../discord/message.js';
import type { Store } from '../store/index.js';
import type { AlertFilter } from '../store/alerts.js';
import type { ActionRow } from '../store/actions.js';
import type { AlertDetail, AlertView, IncidentView } from './views.js';
export type { AlertDetail, AlertView, DeliveryView } from './views.js';
export type { AlertFilter, ActionRow };
export { ALERT_STATES, type AlertState } from '../store/alerts.js';

type Deps = { store: Pick<Store, 'alerts'> };

/** One alert with every delivery made (or queued) for it. */
export function getAlert(h: Deps, id: number): Promise<AlertDetail> {
  return h.store.alerts.detail(id);
}

/** Alerts, newest first. */
export function listAlerts(h: Deps, f: AlertFilter): Promise<AlertView[]> {
  return h.store.alerts.list(f);
}

/**
 * Whether the Discord message `messageId` is one this alert was delivered in: a button acts only on the
 * alert of the message it was pressed on, never on one its custom_id merely names.
 */
export function isMessageOfAlert(h: Deps, alertId: number, messageId: string): Promise<boolean> {
  return h.store.alerts.isMessageOf(alertId, messageId);
}

/** Where one delivery of an alert stands: its Discord channel, and the message that shows it once sent. */
export interface AlertPost {
  discordChannelId: string;
  state: string;
  messageId: string | null;
}

/**
 * An alert as its full card (no buttons: an answer to one person) and where it was posted: how a person
 * finds an alert that a storm showed as one line of a compact message (`/alert show`).
 */
export async function showAlert(
  h: { store: Pick<Store, 'alerts' | 'channels' | 'incidents'> },
  id: number,
  username: string,
): Promise<{ card: WebhookMessage; posts: AlertPost[]; incident?: IncidentView }> {
  const detail = await h.store.alerts.detail(id);
  const card = renderAlertCard(await h.store.alerts.renderable(id), { username, buttons: false });
  const posts: AlertPost[] = [];
  for (const d of detail.deliveries) posts.push({ discordChannelId: (await h.store.channels.row(d.channel_id)).discordChannelId, state: d.state, messageId: d.discord_message_id });
  // The incident it belongs to, if any: its card is where the alert is shown with the others of its group.
  return { card, posts, ...(detail.incident_id !== undefined ? { incident: await h.store.incidents.summary(detail.incident_id) } : {}) };
}

/** What was done to an alert (acknowledged, resolved, muted, retracted, reopened), by whom, oldest first. */
export function alertHistory(h: { store: Pick<Store, 'actions'> }, id: number): Promise<ActionRow[]> {
  return h.store.actions.forAlert(id);
}
