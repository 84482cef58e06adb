import type { Store } from '../store/index.js';
import type { AlertFilter } from '../store/alerts.js';
import type { AlertDetail, AlertView } from './views.js';
export type { AlertDetail, AlertView, DeliveryView } from './views.js';
export type { AlertFilter };

type Deps = { store: Pick<Store, 'alerts'> };

/** One alert with every delivery made (or queued) for it. */
export function getAlert(h: Deps, id: number): AlertDetail {
  return h.store.alerts.detail(id);
}

/** Alerts, newest first. */
export function listAlerts(h: Deps, f: AlertFilter): AlertView[] {
  return h.store.alerts.list(f);
}

/**
 * Whether the Discord message `messageId` is one this alert was delivered in: a button acts only on the
 * alert of the message it was pressed on, never on one its custom_id merely names.
 */
export function isMessageOfAlert(h: Deps, alertId: number, messageId: string): boolean {
  return h.store.alerts.isMessageOf(alertId, messageId);
}
