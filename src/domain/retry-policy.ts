const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * How long to wait before the next try after `attempts` failed ones: exponential from `baseMs`, capped at
 * 5 minutes, with jitter (0.5 to 1.5 times the nominal delay) so a recovering Discord is not stampeded.
 */
export function retryDelayMs(attempts: number, baseMs: number): number {
  const nominal = Math.min(baseMs * 2 ** attempts, MAX_BACKOFF_MS);
  return Math.round(nominal * (0.5 + Math.random()));
}
