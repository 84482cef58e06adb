const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * How long to wait before the next try after `attempts` failed ones: exponential from `baseMs`, capped at
 * 5 minutes, with jitter (0.5 to 1.5 times the nominal delay) so a recovering Discord is not stampeded.
 * `random` is Math.random unless a test pins it.
 */
export function retryDelayMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(baseMs * 2 ** attempts, MAX_BACKOFF_MS);
  return Math.round(nominal * (0.5 + random()));
}

/** The limits one retry policy applies to every kind of send (HERALD_MAX_ATTEMPTS, HERALD_MAX_AGE_MS, HERALD_RETRY_BASE_MS). */
export interface RetryLimits {
  maxAttempts: number;
  maxAgeMs: number;
  retryBaseMs: number;
}

/** One failed try of something queued: a Discord post, an edit or delete, an outbound webhook. */
export interface FailedTry {
  /** Failed tries so far, this one included. */
  failures: number;
  /** When the work was queued: its age counts from then. */
  createdAt: number;
  now: number;
  /** The receiver said how long to wait (a 429's Retry-After): never retry sooner. */
  waitAtLeastMs?: number;
}

export type RetryDecision = { retry: true; at: number; delayMs: number } | { retry: false; why: 'attempts' | 'age' };

/**
 * The one give-up/retry rule of Herald: give up once `maxAttempts` tries have failed or the work is
 * `maxAgeMs` old; otherwise try again after the backoff (or the receiver's wait, if longer).
 */
export function decideRetry(limits: RetryLimits, failed: FailedTry, random: () => number = Math.random): RetryDecision {
  if (failed.failures >= limits.maxAttempts) return { retry: false, why: 'attempts' };
  if (failed.now - failed.createdAt >= limits.maxAgeMs) return { retry: false, why: 'age' };
  const delayMs = Math.max(retryDelayMs(failed.failures - 1, limits.retryBaseMs, random), failed.waitAtLeastMs ?? 0);
  return { retry: true, at: failed.now + delayMs, delayMs };
}
