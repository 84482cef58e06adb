import { describe, expect, it } from 'vitest';
import { ChannelBudget } from '../src/delivery/budget.js';
import { composeStormPost, MAX_PACK, RENDER_LEVEL, STORM_CLAIM } from '../src/delivery/post-message.js';
import { stormStep, summaryEditDue } from '../src/delivery/storm-plan.js';
import { claimedAlert, claimedDelivery } from './support/claimed.js';

/**
 * Storm mode's decisions (docs/delivery.md "Storms"), pure, with the lane's real budget: when a channel
 * is in a storm, what a storm post carries, when the summary card is edited.
 */
const CAP = 30;
const WINDOW_MS = 60_000;
const RESERVE = 2;
const HORIZON = 10_000;
const budget = () => new ChannelBudget(CAP, WINDOW_MS, RESERVE);

describe('when a channel is in a storm', () => {
  it('a fresh channel: its burst and ten seconds of pace, packed ten per message, is what it can post; more is a storm', () => {
    const b = budget();
    const sends = b.lowSendsWithin(0, HORIZON);
    // A burst of a third of the 28 low slots (9), then one per 60 s / 28 ≈ 2.14 s: 4 more in 10 s.
    expect(sends).toBe(9 + 4);
    expect(stormStep({ inStorm: false, backlog: sends * MAX_PACK, sendsWithinHorizon: sends, horizonMs: HORIZON })).toBe('calm');
    expect(stormStep({ inStorm: false, backlog: sends * MAX_PACK + 1, sendsWithinHorizon: sends, horizonMs: HORIZON })).toBe('enter');
  });

  it('once the burst is spent, a much smaller backlog is a storm', () => {
    const b = budget();
    for (let i = 0; i < 9; i++) {
      b.begin(i, true);
      b.end(i, true);
    }
    const sends = b.lowSendsWithin(100, HORIZON);
    expect(sends).toBe(4);
    expect(stormStep({ inStorm: false, backlog: 41, sendsWithinHorizon: sends, horizonMs: HORIZON })).toBe('enter');
  });

  it('a full window: nothing can go until its sends leave it, so the budget within the horizon is what leaves', () => {
    const b = budget();
    for (let i = 0; i < 28; i++) {
      b.begin(i * 1000, false);
      b.end(i * 1000, true);
    }
    // At 28 s no send leaves the window within 10 s; at 55 s the first ones (sent at 0 s, 1 s, …) do.
    expect(b.lowSendsWithin(28_000, HORIZON)).toBe(0);
    expect(b.lowSendsWithin(55_000, HORIZON)).toBeGreaterThan(0);
  });

  it('a shared-scope 429 blocks the channel: the horizon counts only from the end of the wait', () => {
    const b = budget();
    b.sharedLimitHit(0, 9_000);
    expect(b.lowSendsWithin(0, HORIZON)).toBeLessThan(budget().lowSendsWithin(0, HORIZON));
  });

  it('a storm lasts until the backlog is gone, not merely smaller; storm mode off (horizon 0) never starts one', () => {
    expect(stormStep({ inStorm: true, backlog: 1, sendsWithinHorizon: 100, horizonMs: HORIZON })).toBe('stay');
    expect(stormStep({ inStorm: true, backlog: 0, sendsWithinHorizon: 0, horizonMs: HORIZON })).toBe('leave');
    expect(stormStep({ inStorm: false, backlog: 100_000, sendsWithinHorizon: 0, horizonMs: 0 })).toBe('calm');
  });

  it('in a storm the P2/P3 burst is two thirds of their slots, and back to a third after', () => {
    const b = budget();
    b.setStorm(true);
    expect(b.freeSlots(0, 3)).toBe(18);
    b.setStorm(false);
    expect(b.freeSlots(0, 3)).toBe(9);
    // The reserve stays for pages either way.
    b.setStorm(true);
    for (let i = 0; i < 28; i++) b.begin(0, true);
    expect(b.freeSlots(0, 3)).toBe(0);
    expect(b.freeSlots(0, 0)).toBe(RESERVE);
  });

  it('the summary card is edited when something changed, at most every HERALD_STORM_SUMMARY_EDIT_MS; the last edit at once', () => {
    expect(summaryEditDue(1000, 0, false, false, 2000)).toBe(false);
    expect(summaryEditDue(1000, 0, true, false, 2000)).toBe(false);
    expect(summaryEditDue(2000, 0, true, false, 2000)).toBe(true);
    expect(summaryEditDue(1000, 900, true, true, 2000)).toBe(true);
  });
});

describe('what a storm post carries', () => {
  const alert = claimedAlert;
  const claimed = claimedDelivery;

  it('P2/P3 at the head of the claim go as lines of one compact message, no buttons, silent', () => {
    const post = composeStormPost(Array.from({ length: 40 }, (_, i) => claimed(i + 1, { priority: i % 2 ? 2 : 3 })), 'app', 'Herald');
    expect(post.compact).toBe(true);
    expect(post.batch).toHaveLength(40);
    expect(post.roomLeft).toBe(true);
    expect(post.message.components).toBeUndefined();
    expect(post.message.flags).toBe(1 << 12);
    expect(post.message.embeds[0]!.description!.split('\n')).toHaveLength(40);
  });

  it('a P0 (or P1) goes alone as its own card with buttons, even in a storm', () => {
    const post = composeStormPost([claimed(1, { priority: 0, alert: alert(1, 'P0') }), claimed(2), claimed(3)], 'app', 'Herald');
    expect(post.compact).toBeUndefined();
    expect(post.batch.map((d) => d.id)).toEqual([1]);
    expect(post.message.components?.length).toBeGreaterThan(0);
  });

  it('lines stop at a delivery that must go alone (a mention, a raised render level), which goes next on its own', () => {
    const post = composeStormPost([claimed(1), claimed(2), claimed(3, { mention: 'role:1' }), claimed(4)], 'app', 'Herald');
    expect(post.batch.map((d) => d.id)).toEqual([1, 2]);
    expect(post.roomLeft).toBe(false);
    const refused = composeStormPost([claimed(5, { renderLevel: RENDER_LEVEL.solo })], 'app', 'Herald');
    expect(refused.compact).toBeUndefined();
  });

  it('a full claim is no message with room left: it posts at once', () => {
    const post = composeStormPost(Array.from({ length: STORM_CLAIM }, (_, i) => claimed(i + 1)), 'app', 'Herald');
    expect(post.roomLeft).toBe(false);
    expect(post.batch.length).toBeLessThan(STORM_CLAIM);
  });
});

describe('storm mode with short windows', () => {
  it('a window much shorter than the horizon lets many windows of slots through it: a backlog that drains in seconds is no storm', () => {
    const b = new ChannelBudget(30, 1000, 2);
    // 28 low slots per second for 10 s, paced one per 1000/28 ms.
    expect(b.lowSendsWithin(0, HORIZON)).toBeGreaterThanOrEqual(280);
    expect(stormStep({ inStorm: false, backlog: 1000, sendsWithinHorizon: b.lowSendsWithin(0, HORIZON), horizonMs: HORIZON })).toBe('calm');
  });
});
