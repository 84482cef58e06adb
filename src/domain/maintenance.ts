import { CronExpressionParser } from 'cron-parser';

/** The end of time for a recurring window's row (it has no end of its own: `expires_at` must be a number). */
export const NEVER_EXPIRES = 253_402_300_799_000; // 9999-12-31T23:59:59Z

/** A maintenance window's schedule: one-off (`startsAt` … the mute's expiry) or recurring (`cron` in `timezone`, each time for `durationMs`). */
export type WindowSchedule = { kind: 'once'; startsAt: number; endsAt: number } | { kind: 'recurring'; cron: string; timezone: string; durationMs: number };

/**
 * Whether a window is in force at a time. Recurring: from the latest time the cron expression fired at or
 * before `t`, for `durationMs`. The occurrence found is kept, so the ingest path asks cron-parser again only
 * when `t` leaves it (about twice per occurrence), not for every alert.
 */
export function windowInForce(s: WindowSchedule): (t: number) => boolean {
  if (s.kind === 'once') return (t) => t >= s.startsAt && t < s.endsAt;
  let from = 0;
  let until = -1; // [from, until): the occurrence in force, or the gap before the next one (until = next start)
  let open = false;
  return (t) => {
    if (t >= from && t < until) return open;
    const prev = CronExpressionParser.parse(s.cron, { tz: s.timezone, currentDate: new Date(t + 1) }).prev().getTime();
    const next = CronExpressionParser.parse(s.cron, { tz: s.timezone, currentDate: new Date(t) }).next().getTime();
    if (t < prev + s.durationMs) {
      open = true;
      from = prev;
      until = prev + s.durationMs;
    } else {
      open = false;
      from = prev + s.durationMs;
      until = next;
    }
    return open;
  };
}
