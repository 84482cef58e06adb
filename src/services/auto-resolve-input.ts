import { z } from 'zod';
import { parseDurationMs } from '../domain/duration.js';
import { invalid } from './errors.js';

/** The shortest and longest auto_resolve_after: a minute (anything shorter races the sender's own repeats) to 30 days. */
const MIN_MS = 60_000;
const MAX_MS = 30 * 86_400_000;

/** `auto_resolve_after` as routes and sources take it: "4h", "30m", "1d" (a bare number is minutes); null clears it. */
export const autoResolveAfter = z
  .string()
  .trim()
  .min(1)
  .max(20)
  .nullable()
  .describe('A firing alert with no repeat for this long resolves as "stale (no update for …)": e.g. "4h", "30m", "1d" (1 minute to 30 days); null: never');

/** "4h" → 14 400 000; null stays null; 400 naming `auto_resolve_after` for anything else. */
export function autoResolveAfterMs(raw: string | null): number | null {
  if (raw === null) return null;
  const ms = parseDurationMs(raw, 'm');
  if (ms === undefined) throw invalid('auto_resolve_after', `"${raw.slice(0, 20)}" is not a duration; write e.g. "4h", "30m" or "1d"`);
  if (ms < MIN_MS || ms > MAX_MS) throw invalid('auto_resolve_after', `"${raw.slice(0, 20)}" is out of range; from 1 minute to 30 days`);
  return ms;
}
