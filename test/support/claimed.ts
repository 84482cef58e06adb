import { RENDER_LEVEL } from '../../src/delivery/post-message.js';
import type { ClaimedDelivery } from '../../src/store/deliveries.js';

type Severity = 'P0' | 'P1' | 'P2' | 'P3';

/** An alert as a claimed delivery carries it, for the lane's pure decisions. */
export const claimedAlert = (id: number, severity: Severity = 'P3') => ({
  id,
  service: 'api',
  severity,
  title: `alert ${id}`,
  status: 'firing' as const,
  receivedAt: 0,
  changedAt: null,
});

/** A delivery as the lane claims it: a packable P3 card of alert `id`, unless `over` says otherwise. */
export const claimedDelivery = (id: number, over: Partial<ClaimedDelivery> = {}): ClaimedDelivery => ({
  id,
  alertId: id,
  channelId: 1,
  mention: null,
  message: null,
  note: null,
  threadId: null,
  priority: 3,
  attempts: 0,
  renderLevel: RENDER_LEVEL.packable,
  createdAt: 0,
  alert: claimedAlert(id),
  ...over,
});
