import { z } from 'zod';

/**
 * Business hours of a route: pure rules, no I/O, no clock (every function takes `now`).
 * Times of day are wall-clock times in the route's IANA time zone, read with Intl.DateTimeFormat,
 * so daylight-saving changes are the zone's own: a window "09:00–17:00" opens at 09:00 local on
 * both sides of a change. A window whose end is not after its start runs overnight (22:00–06:00),
 * and `days` names the day it starts on. "24:00" ends a window at midnight.
 */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Outside the window, P2/P3 wait until it opens (`wait`) or go only to the daily digest (`digest`). */
export const OUTSIDE_HOURS = ['wait', 'digest'] as const;
export type OutsideHours = (typeof OUTSIDE_HOURS)[number];

const hhmm = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** True when `tz` is a time zone this runtime knows (IANA names such as Europe/Berlin, or UTC). */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const businessHoursInput = z
  .strictObject({
    timezone: z.string().min(1).max(64).refine(isTimeZone, 'not a known IANA time zone, e.g. "Europe/Berlin" or "America/New_York"').describe('IANA time zone, e.g. Europe/Berlin'),
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).describe('Days the window opens on, e.g. ["mon","tue","wed","thu","fri"]'),
    start: z.string().regex(hhmm, 'a time of day as HH:MM, e.g. "09:00"').describe('Opening time, HH:MM (local)'),
    end: z
      .string()
      .regex(/^(([01]\d|2[0-3]):([0-5]\d)|24:00)$/, 'a time of day as HH:MM (or 24:00), e.g. "18:00"')
      .describe('Closing time, HH:MM (local); not after start: the window runs overnight'),
    outside: z.enum(OUTSIDE_HOURS).default('wait').describe('Outside the window, P2/P3 wait for it to open (wait) or go only to the daily digest (digest)'),
  })
  .refine((h) => h.start !== h.end, { message: 'start and end must differ (use 00:00 to 24:00 for a whole day)', path: ['end'] });
export type BusinessHoursInput = z.input<typeof businessHoursInput>;
export type BusinessHours = z.output<typeof businessHoursInput>;

const minutesOf = (t: string): number => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

// ---------------------------------------------------------------------------------------------
// Wall clock in a time zone

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall-clock time at `t` in `tz`, as if it were UTC (epoch ms, whole seconds). */
function wallMs(t: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
}

/** The zone's offset from UTC at `t`, in ms (e.g. +3 600 000 for CET). */
export function offsetAt(t: number, tz: string): number {
  const s = Math.floor(t / 1000) * 1000;
  return wallMs(s, tz) - s;
}

/** Local date, weekday (0 = Sunday) and minute of the day at `t`. */
export function localTime(t: number, tz: string): { year: number; month: number; day: number; weekday: number; minute: number } {
  const w = new Date(wallMs(t, tz));
  return { year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate(), weekday: w.getUTCDay(), minute: w.getUTCHours() * 60 + w.getUTCMinutes() };
}

/**
 * The first instant whose wall-clock time in `tz` is at or after the local date and minute given:
 * the one instant when it exists, the earlier of two when clocks went back (it happens twice), and the
 * moment clocks jumped when it does not exist (02:30 on a spring-forward night opens at 03:00).
 */
export function zonedTime(year: number, month: number, day: number, minute: number, tz: string): number {
  const local = Date.UTC(year, month - 1, day, 0, minute);
  const candidates = [...new Set([offsetAt(local - 12 * 3_600_000, tz), offsetAt(local + 12 * 3_600_000, tz), offsetAt(local, tz)])]
    .map((o) => local - o)
    .filter((t) => wallMs(t, tz) === local)
    .sort((a, b) => a - b);
  if (candidates.length) return candidates[0]!;
  // A gap: binary search for the first instant whose wall time is past `local`.
  let lo = local - 14 * 3_600_000;
  let hi = local + 14 * 3_600_000;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (wallMs(mid, tz) >= local) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------
// Rules

/** True when the window is open at `now`. */
export function isOpen(h: BusinessHours, now: number): boolean {
  const { weekday, minute } = localTime(now, h.timezone);
  const start = minutesOf(h.start);
  const end = h.end === '24:00' ? 1440 : minutesOf(h.end);
  const on = (d: number) => h.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (start < end) return on(weekday) && minute >= start && minute < end;
  // Overnight: from start on a listed day until end the next morning.
  return (on(weekday) && minute >= start) || (on(weekday - 1) && minute < end);
}

/** When the window next opens: `now` itself when it is open. */
export function nextOpening(h: BusinessHours, now: number): number {
  if (isOpen(h, now)) return now;
  const today = localTime(now, h.timezone);
  const start = minutesOf(h.start);
  for (let k = 0; k <= 8; k++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + k));
    if (!h.days.includes(WEEKDAYS[date.getUTCDay()]!)) continue;
    const at = zonedTime(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), start, h.timezone);
    if (at > now) return at;
  }
  // Unreachable with at least one day listed; never hold an alert for ever.
  return now;
}

export type HoursDecision = { send: 'now' } | { send: 'later'; at: number } | { send: 'digest' };

/** Where an alert of `severity` stands under the route's hours at `now`: P0/P1 always go now. */
export function decideHours(h: BusinessHours | null, severity: string, now: number): HoursDecision {
  if (h === null || severity === 'P0' || severity === 'P1' || isOpen(h, now)) return { send: 'now' };
  return h.outside === 'digest' ? { send: 'digest' } : { send: 'later', at: nextOpening(h, now) };
}

/** "mon-fri 09:00-18:00", "mon,wed,sat 22:00-06:00", "daily 00:00-24:00" → days, start and end (for the slash command). */
export function parseHoursSpec(spec: string): { days: Weekday[]; start: string; end: string } | { error: string } {
  const m = /^\s*([a-z,\- ]+?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/i.exec(spec);
  if (!m) return { error: `"${spec}" is not "days HH:MM-HH:MM", e.g. "mon-fri 09:00-18:00"` };
  const pad = (t: string) => (t.length === 4 ? `0${t}` : t);
  const days = new Set<Weekday>();
  for (const part of m[1]!.toLowerCase().split(/[\s,]+/).filter(Boolean)) {
    if (part === 'daily' || part === 'all') WEEKDAYS.forEach((d) => days.add(d));
    else if (part === 'weekdays') (['mon', 'tue', 'wed', 'thu', 'fri'] as const).forEach((d) => days.add(d));
    else if (part === 'weekends') (['sat', 'sun'] as const).forEach((d) => days.add(d));
    else {
      const [a, b] = part.split('-');
      const from = WEEKDAYS.indexOf(a!.slice(0, 3) as Weekday);
      const to = b === undefined ? from : WEEKDAYS.indexOf(b.slice(0, 3) as Weekday);
      if (from < 0 || to < 0) return { error: `"${part}" is not a day or a range of days such as mon-fri` };
      for (let d = from; ; d = (d + 1) % 7) {
        days.add(WEEKDAYS[d]!);
        if (d === to) break;
      }
    }
  }
  return { days: WEEKDAYS.filter((d) => days.has(d)), start: pad(m[2]!), end: pad(m[3]!) };
}

/** "mon-fri 09:00-18:00 Europe/Berlin (wait)": how a route's hours read in lists. */
export function describeHours(h: BusinessHours): string {
  // The mode is always said, the default too: a confirmation states every option that was set.
  return `${h.days.join(',')} ${h.start}-${h.end} ${h.timezone}${h.outside === 'digest' ? ', digest only outside' : ', P2/P3 wait outside'}`;
}
