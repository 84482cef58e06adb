import { z } from 'zod';
import { parseDurationMs } from '../domain/duration.js';
import { GROUP_BY_ALL, MAX_GROUP_WAIT_MS } from '../domain/incidents.js';
import { invalid } from './errors.js';

/** `group_by` as routes take it: label names (Alertmanager's semantics), or `["..."]` for every label. */
export const groupBy = z
  .array(z.string().trim().min(1).max(128))
  .max(20)
  .refine((l) => !l.includes(GROUP_BY_ALL) || l.length === 1, '"..." (every label) stands alone')
  .describe(
    'Group the alerts this route matches into incidents by the values of these labels (Alertmanager\'s group_by; ["..."]: every label). [] or null: no grouping. A sender\'s own group (Alertmanager groupKey, a native alert\'s group) comes first',
  );

/** `group_wait` as routes take it: "5s", "30s", "1m", "0" (a bare number is seconds); null: the default. */
export const groupWait = z
  .string()
  .trim()
  .min(1)
  .max(20)
  .nullable()
  .describe("How long an incident's first card waits for more members, so a burst lands as one card: e.g. \"5s\", \"30s\", \"0\" (posted at once), at most 10 min; null: the default, 5 s");

/** `group_by` checked again for callers other than the admin API (the slash command): a 400 naming `group_by`; deduplicated. */
export function groupByLabels(raw: readonly string[] | null): string[] | null {
  if (raw === null) return null;
  const parsed = groupBy.safeParse(raw);
  if (!parsed.success) throw invalid('group_by', parsed.error.issues[0]!.message);
  return parsed.data.length ? [...new Set(parsed.data)] : null;
}

/** "30s" → 30 000; null stays null (the default); 400 naming `group_wait` for anything else. */
export function groupWaitMs(raw: string | null): number | null {
  if (raw === null) return null;
  const ms = parseDurationMs(raw, 's');
  if (ms === undefined) throw invalid('group_wait', `"${raw.slice(0, 20)}" is not a duration; write e.g. "5s", "30s", "1m" or "0"`);
  if (ms > MAX_GROUP_WAIT_MS) throw invalid('group_wait', `"${raw.slice(0, 20)}" is too long; at most 10 minutes`);
  return ms;
}
