import type { Scheduler } from '../delivery/scheduler.js';
import type { Store } from '../store/index.js';
import { countPendingDeadLetters } from './dead-letters.js';
import type { StatusView } from './views.js';

/** A snapshot of delivery: queue, per-channel lanes, dead letters and breakers. */
export async function getStatus(h: { store: Pick<Store, 'deliveries' | 'deadLetters' | 'webhooks'>; scheduler: Pick<Scheduler, 'laneStates'> }): Promise<StatusView> {
  const depth = await h.store.deliveries.depthByPriority();
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
    dead_letters_pending: await countPendingDeadLetters(h),
    breakers: await h.store.webhooks.breakerCounts(),
  };
}
