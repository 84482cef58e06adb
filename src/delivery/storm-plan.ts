import { MAX_PACK } from './post-message.js';

/**
 * Storm mode, decided (docs/delivery.md "Storms"). A channel is in a storm when what waits cannot be
 * posted within the horizon (HERALD_STORM_HORIZON_MS, about 10 s) at its budget, even packed as cards
 * (up to 10 per message). Then P2/P3 go out as compact lines and one summary card is kept up to date;
 * P0/P1 keep their own cards. The storm ends when the backlog is gone, not when it merely shrinks
 * below the threshold: the lines of one storm stay together, and the card does not flap.
 */
export type StormStep = 'calm' | 'enter' | 'stay' | 'leave';

export interface StormInputs {
  inStorm: boolean;
  /** Deliveries of the channel waiting or in flight. */
  backlog: number;
  /** P2/P3 messages the channel's budget lets out within the horizon (ChannelBudget.lowSendsWithin). */
  sendsWithinHorizon: number;
  /** 0 turns storm mode off. */
  horizonMs: number;
}

export function stormStep(i: StormInputs): StormStep {
  if (i.inStorm) return i.backlog > 0 ? 'stay' : 'leave';
  if (i.horizonMs <= 0) return 'calm';
  return i.backlog > i.sendsWithinHorizon * MAX_PACK ? 'enter' : 'calm';
}

/**
 * Whether the summary card should be edited now: something changed since the last edit, and the last one
 * is at least `everyMs` old (an edit takes a request of the posting webhook's bucket, not a channel slot,
 * so this only spares that bucket). The edit that says the storm is over waits for nothing but the bucket.
 */
export function summaryEditDue(now: number, lastEditAt: number, dirty: boolean, ended: boolean, everyMs: number): boolean {
  if (!dirty) return false;
  return ended || now - lastEditAt >= everyMs;
}
