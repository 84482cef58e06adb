import { describe, expect, it } from 'vitest';
import { decideRetry, retryDelayMs, type RetryLimits } from '../src/domain/retry-policy.js';

const limits: RetryLimits = { maxAttempts: 5, maxAgeMs: 60 * 60_000, retryBaseMs: 1000 };
/** Jitter pinned: the low end (0.5×), the middle (1×) and the high end (almost 1.5×) of the nominal delay. */
const low = () => 0;
const middle = () => 0.5;
const high = () => 0.999;

describe('retry policy (one for Discord posts, edits and outbound webhooks)', () => {
  it('backs off exponentially from the base delay, with jitter between 0.5 and 1.5 times', () => {
    expect([0, 1, 2, 3].map((n) => retryDelayMs(n, 1000, middle))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(2, 1000, low)).toBe(2000);
    expect(retryDelayMs(2, 1000, high)).toBe(5996);
  });

  it('never waits more than 5 minutes (times the jitter)', () => {
    expect(retryDelayMs(30, 1000, middle)).toBe(5 * 60_000);
  });

  it('retries after the first failure at the base delay', () => {
    expect(decideRetry(limits, { failures: 1, createdAt: 0, now: 10_000 }, middle)).toEqual({ retry: true, at: 11_000, delayMs: 1000 });
    expect(decideRetry(limits, { failures: 3, createdAt: 0, now: 10_000 }, middle)).toEqual({ retry: true, at: 14_000, delayMs: 4000 });
  });

  it('gives up once the attempts are used up', () => {
    expect(decideRetry(limits, { failures: 4, createdAt: 0, now: 0 }, middle).retry).toBe(true);
    expect(decideRetry(limits, { failures: 5, createdAt: 0, now: 0 }, middle)).toEqual({ retry: false, why: 'attempts' });
  });

  it('gives up once the work is too old, however few attempts it had', () => {
    expect(decideRetry(limits, { failures: 1, createdAt: 0, now: limits.maxAgeMs - 1 }, middle).retry).toBe(true);
    expect(decideRetry(limits, { failures: 1, createdAt: 0, now: limits.maxAgeMs }, middle)).toEqual({ retry: false, why: 'age' });
  });

  it('never retries sooner than the receiver asked (a 429\'s Retry-After), nor sooner than the backoff', () => {
    expect(decideRetry(limits, { failures: 1, createdAt: 0, now: 0, waitAtLeastMs: 30_000 }, middle)).toEqual({ retry: true, at: 30_000, delayMs: 30_000 });
    expect(decideRetry(limits, { failures: 1, createdAt: 0, now: 0, waitAtLeastMs: 10 }, middle)).toEqual({ retry: true, at: 1000, delayMs: 1000 });
  });
});
