import type { Scheduler } from '../delivery/scheduler.js';
import type { Store } from '../store/index.js';
import { countPendingDeadLetters } from './dead-letters.js';

export interface LaneView {
  channel_id: number;
  backlog: number;
  webhooks: number;
  budget: { cap: number; effective_cap: number; in_window: number; in_flight: number; blocked_until: number };
}

export interface StatusView {
  /** Deliveries queued or in flight, by severity. */
  queue_depth_by_priority: { P0: number; P1: number; P2: number; P3: number };
  lanes: LaneView[];
  /** Dead letters not replayed yet. */
  dead_letters_pending: number;
  /** Active webhooks by breaker state. */
  breakers: Record<string, number>;
}

/** A snapshot of delivery: queue, per-channel lanes, dead letters and breakers. */
export function getStatus(h: { store: Pick<Store, 'deliveries' | 'deadLetters' | 'webhooks'>; scheduler: Pick<Scheduler, 'laneStates'> }): StatusView {
  const depth = h.store.deliveries.depthByPriority();
  return {
    queue_depth_by_priority: { P0: depth[0] ?? 0, P1: depth[1] ?? 0, P2: depth[2] ?? 0, P3: depth[3] ?? 0 },
    lanes: h.scheduler.laneStates().map((l) => ({
      channel_id: l.channelId,
      backlog: l.backlog,
      webhooks: l.webhooks,
      budget: {
        cap: l.budget.cap,
        effective_cap: l.budget.effectiveCap,
        in_window: l.budget.inWindow,
        in_flight: l.budget.inFlight,
        blocked_until: l.budget.blockedUntil,
      },
    })),
    dead_letters_pending: countPendingDeadLetters(h),
    breakers: h.store.webhooks.breakerCounts(),
  };
}
