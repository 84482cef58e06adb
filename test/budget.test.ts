import { describe, expect, it } from 'vitest';
import { ChannelBudget, WebhookBucket } from '../src/delivery/budget.js';

/** Sends one message of the given priority now if the budget allows; true when it did. */
function trySend(b: ChannelBudget, now: number, priority: number): boolean {
  if (b.freeSlots(now, priority) === 0) return false;
  b.begin(now, priority > 1);
  b.end(now, true);
  return true;
}

describe('ChannelBudget (Discord hidden per-channel cap)', () => {
  const cap = 30;
  const windowMs = 60_000;
  const reserve = 2;
  const interval = windowMs / (cap - reserve);

  it('lets a short burst of P2/P3 through, then paces them evenly over the window', () => {
    const b = new ChannelBudget(cap, windowMs, reserve);
    // What the pace allows now, not the whole window: the lane packs alerts once its backlog is larger.
    expect(b.freeSlots(0, 3)).toBe(Math.floor((cap - reserve) / 3));
    expect(b.freeSlots(0, 0)).toBe(cap);
    let burst = 0;
    while (trySend(b, 0, 3)) burst++;
    expect(burst).toBe(Math.floor((cap - reserve) / 3));
    // The next low send waits one pace step, and the budget says when.
    expect(b.nextSlotAt(0, 3)).toBeCloseTo(interval, 0);
    expect(trySend(b, interval - 1, 3)).toBe(false);
    expect(trySend(b, interval, 3)).toBe(true);
  });

  it('never lets P2/P3 take the reserved slots, and never lets anything past the cap', () => {
    const b = new ChannelBudget(cap, windowMs, reserve);
    let low = 0;
    for (let t = 0; t < windowMs - 1000; t += 100) if (trySend(b, t, 3)) low++;
    expect(low).toBe(cap - reserve);
    let urgent = 0;
    while (trySend(b, windowMs - 1000, 0)) urgent++;
    expect(urgent).toBe(reserve);
  });

  it('keeps pages flowing through a sustained flood: a P0 every 10 s finds a slot within two pace steps', () => {
    const b = new ChannelBudget(cap, windowMs, reserve);
    const pageDelays: number[] = [];
    let nextPage = 2000;
    let pageWaitingSince: number | null = null;
    let lowSent = 0;
    for (let t = 0; t <= 3 * windowMs; t += 50) {
      if (pageWaitingSince === null && t >= nextPage) pageWaitingSince = t;
      if (pageWaitingSince !== null && trySend(b, t, 0)) {
        pageDelays.push(t - pageWaitingSince);
        pageWaitingSince = null;
        nextPage += 10_000;
      }
      if (trySend(b, t, 3)) lowSent++; // the flood takes whatever else it may
    }
    // The flood still drains at nearly the rate the cap leaves it (pacing costs it no throughput).
    expect(lowSent).toBeGreaterThan(3 * (cap - reserve) - pageDelays.length - 3);
    expect(pageDelays.length).toBeGreaterThan(15);
    expect(Math.max(...pageDelays)).toBeLessThanOrEqual(2 * interval);
  });

  it('in a storm, P2/P3 leave a third of the window to pages: ten P0s in the minute after the burst all find a slot', () => {
    const b = new ChannelBudget(cap, windowMs, reserve);
    b.setStorm(true);
    // For 25 s the storm's compact messages go as fast as the budget lets them, and ten pages come 2.5 s apart
    // from t = 1 s: none has to wait for the burst to age out of the window.
    let low = 0;
    const pages: boolean[] = [];
    for (let t = 0; t <= 25_000; t += 100) {
      if (t >= 1000 && (t - 1000) % 2500 === 0 && pages.length < 10) pages.push(trySend(b, t, 0));
      while (trySend(b, t, 3)) low++;
    }
    expect(pages).toEqual(Array(10).fill(true));
    // The storm still had most of the window: all but the third kept for pages, less the pages sent meanwhile.
    expect(low).toBeGreaterThan(cap / 2);
    expect(low).toBeLessThanOrEqual(cap - Math.floor(cap / 3));
    // Calm again: only the usual reserve is kept.
    b.setStorm(false);
    expect(b.freeSlots(61_000, 3)).toBeGreaterThan(0);
  });

  it('after a shared-scope 429 blocks every priority until Discord\'s wait is over', () => {
    const b = new ChannelBudget(cap, windowMs, reserve);
    trySend(b, 0, 0);
    b.sharedLimitHit(10, 40_000);
    expect(b.freeSlots(20_000, 0)).toBe(0);
    expect(b.nextSlotAt(20_000, 0)).toBeGreaterThanOrEqual(40_010);
    // The cap is lowered to what the window held; it comes back once that send has left the window.
    expect(b.freeSlots(61_000, 0)).toBeGreaterThan(0);
  });
});

describe('ChannelBudget after a restart', () => {
  it('counts the messages an earlier run posted in the current window', () => {
    const b = new ChannelBudget(30, 60_000, 2);
    b.seed(Array.from({ length: 30 }, (_, i) => i * 1000));
    expect(b.freeSlots(30_000, 0)).toBe(0);
    // The oldest seeded message leaves the window (plus the edge margin) first.
    expect(b.nextSlotAt(30_000, 0)).toBe(60_000 + 250);
    expect(b.freeSlots(60_251, 0)).toBe(1);
  });

  it('takes a slot as soon as a send starts, and gives it back if Discord posted nothing', () => {
    const b = new ChannelBudget(3, 60_000, 0);
    b.begin(0, false);
    b.begin(0, false);
    b.begin(0, false);
    expect(b.freeSlots(0, 0)).toBe(0);
    b.end(10, false); // a 429: no message was created
    expect(b.freeSlots(10, 0)).toBe(1);
  });
});

describe('WebhookBucket (a webhook\'s own limit, about 5 per 2 s)', () => {
  it('allows one request at a time until Discord\'s headers say more', () => {
    const w = new WebhookBucket();
    expect(w.canSend(0)).toBe(true);
    w.begin();
    expect(w.canSend(0)).toBe(false);
    w.end(100, { limit: 5, remaining: 4, resetAfterMs: 2000 });
    expect(w.canSend(100)).toBe(true);
  });

  it('leaves the last request of its window to P0/P1', () => {
    const w = new WebhookBucket();
    w.end(0, { limit: 5, remaining: 1, resetAfterMs: 2000 });
    expect(w.canSend(0, true)).toBe(false);
    expect(w.canSend(0, false)).toBe(true);
    // Once the window resets, low severities may send again.
    expect(w.nextSendAt(0, true)).toBe(2000 + 250);
    expect(w.canSend(2250, true)).toBe(true);
  });

  it('after its own 429, sends nothing until Discord\'s wait is over', () => {
    const w = new WebhookBucket();
    w.end(0, { limit: 5, remaining: 3, retryAfterMs: 5000, scope: 'user' });
    expect(w.canSend(4000)).toBe(false);
    expect(w.nextSendAt(4000)).toBe(5250);
    expect(w.canSend(5250)).toBe(true);
  });

  it('a shared-scope 429 is the channel\'s cap, not this webhook\'s: its bucket follows the headers only', () => {
    const w = new WebhookBucket();
    w.end(0, { limit: 5, remaining: 3, resetAfterMs: 2000, retryAfterMs: 40_000, scope: 'shared' });
    expect(w.canSend(0)).toBe(true);
  });
});
