import type { ChannelBudget } from './budget.js';
import type { PoolMember, WebhookPool } from './pool.js';
import { MAX_PACK } from './post-message.js';

/** Priorities as the budgets see them: P0/P1 may use the reserve, P2/P3 (3) may not. */
const URGENT = 1;
const LOW = 3;

/** What a lane does next about new posts, given its channel's budget, its webhooks and its backlog. */
export type PostPlan =
  /** Claim up to `packLimit` deliveries no lower than `maxPriority` and post them through `member`. */
  | { kind: 'claim'; member: PoolMember; maxPriority: typeof URGENT | typeof LOW; packLimit: number }
  /** Nothing may go before `until` (the channel's cap, or every webhook's bucket or breaker). */
  | { kind: 'wait'; until: number }
  /** Every webhook has a request in flight: the first to finish pumps the lane again. */
  | { kind: 'wait-for-send' }
  /** The channel has no webhook at all: nothing can go until a person adds one. */
  | { kind: 'no-webhook' };

/**
 * Decides the next post. Low severities may not use the channel's reserved slots nor a webhook's last
 * request of its window: those are for P0/P1, so a page never waits behind a flood. Several alerts are
 * packed into one message only when the backlog is larger than what the budget lets through now.
 * (Picking a member advances the pool's round-robin, as a send through it would.)
 */
export function planPost(now: number, budget: ChannelBudget, pool: WebhookPool, backlog: number): PostPlan {
  if (budget.freeSlots(now, 0) === 0) return { kind: 'wait', until: budget.nextSlotAt(now) };
  let member = budget.freeSlots(now, LOW) > 0 ? pool.pick(now, true) : undefined;
  const lowAllowed = member !== undefined;
  member ??= pool.pick(now);
  if (!member) {
    const at = pool.nextReadyAt(now);
    if (at !== null) return { kind: 'wait', until: at };
    return pool.size === 0 ? { kind: 'no-webhook' } : { kind: 'wait-for-send' };
  }
  const packLimit = backlog > budget.freeSlots(now, LOW) ? MAX_PACK : 1;
  return { kind: 'claim', member, maxPriority: lowAllowed ? LOW : URGENT, packLimit };
}

/**
 * A claim found nothing although deliveries are queued (the earliest is ready at `nextQueuedAt`): when
 * to look again. Something waits for its backoff to end or, when only P0/P1 could be claimed, for the
 * budget or a webhook bucket to have room for P2/P3 again.
 */
export function wakeAfterEmptyClaim(now: number, nextQueuedAt: number, plan: Extract<PostPlan, { kind: 'claim' }>, budget: ChannelBudget, pool: WebhookPool): number {
  const lowAt = plan.maxPriority === LOW ? now : lowReadyAt(now, budget, pool);
  return Math.max(nextQueuedAt, lowAt, now + 1);
}

/** The earliest moment a P2/P3 post could go: the channel's budget outside its reserve, and a webhook's bucket outside its last request. */
export function lowReadyAt(now: number, budget: ChannelBudget, pool: WebhookPool): number {
  return Math.max(budget.nextSlotAt(now, LOW), pool.nextReadyAt(now, true) ?? now);
}
