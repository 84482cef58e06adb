import type { Guard } from '../guard.js';

/**
 * The one port through which code that committed something tells the workers about it. Services,
 * the ingest acceptor and the escalation runner call it after their transaction commits, never
 * inside it; they do not know which worker listens. Every method returns nothing and never throws
 * (each is guarded: a failing worker is logged once per streak of failures, and the caller's commit
 * stands; the workers' own sweeps and polls pick up what a lost signal missed).
 */
export interface CommitSignals {
  /**
   * `n` deliveries (posts) were queued for a channel (0: held ones only, the lane learns when they fall due).
   * `onlyLow`: every one of them is P2/P3 (the lane may leave them for a pump it has already planned).
   */
  deliveriesQueued(channelId: number, n: number, onlyLow?: boolean): void;
  /** Edits or deletes of messages already sent were queued for a channel. */
  editsQueued(channelId: number): void;
  /** A channel's webhooks changed (added, removed, restored, rotated) or the channel was deleted. */
  poolChanged(channelId: number): void;
  /** Outbound messages (Slack, generic webhooks) were queued. */
  outboundQueued(): void;
  /** Escalation chains may have been armed in the transaction that just committed. */
  escalationsArmed(): void;
  /** An escalation chain changed (a step added): running escalations are looked at again now. */
  chainsChanged(): void;
}

/** The delivery part of the port alone: what the escalation runner needs (it is built before the full fan-out exists). */
export type DeliverySignals = Pick<CommitSignals, 'deliveriesQueued' | 'editsQueued' | 'poolChanged'>;

/** What the delivery scheduler offers the port (Scheduler's methods). */
export interface DeliveryWakes {
  wake(channelId: number, added: number, onlyLow?: boolean): void;
  wakeOps(channelId: number): void;
  reloadPool(channelId: number): void;
}

type Wrap = Pick<Guard, 'wrap'>;

/** The delivery signals, going to the scheduler. */
export function deliverySignals(scheduler: DeliveryWakes, guard: Wrap): DeliverySignals {
  return {
    deliveriesQueued: guard.wrap('waking a delivery lane after a commit', (channelId: number, n: number, onlyLow?: boolean) => scheduler.wake(channelId, n, onlyLow)),
    editsQueued: guard.wrap('waking a delivery lane for edits after a commit', (channelId: number) => scheduler.wakeOps(channelId)),
    poolChanged: guard.wrap("rebuilding a channel's webhook pool", (channelId: number) => scheduler.reloadPool(channelId)),
  };
}

/**
 * The whole port: delivery signals (built by `deliverySignals`, already handed to the escalation
 * runner) plus the outbound worker and the escalation runner. Built once in the composition root,
 * after the workers it calls, before the services that call it: nothing is assigned later.
 */
export function commitSignals(
  to: { delivery: DeliverySignals; outbound: { start(): void }; escalation: { afterCommit(): void; poke(): void } },
  guard: Wrap,
): CommitSignals {
  return {
    ...to.delivery,
    // The worker starts at the first enqueue (and is idempotent: a running one just claims again).
    outboundQueued: guard.wrap('waking the outbound worker after a commit', () => to.outbound.start()),
    escalationsArmed: guard.wrap('moving the escalation timer after a commit', () => to.escalation.afterCommit()),
    chainsChanged: guard.wrap('waking the escalation runner after a chain changed', () => to.escalation.poke()),
  };
}
