/**
 * Durations as people write them ("30s", "5m", "4h", "1d") and as Herald writes them back ("7 min",
 * "4 h"): one reading for the admin API, the slash commands and the cards.
 */

const UNIT_MS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "30s", "5m", "5 min", "2h", "1d" → milliseconds. A bare number takes `bareUnit` (none: refused,
 * except "0"). Undefined when it is not a duration.
 */
export function parseDurationMs(raw: string, bareUnit?: 's' | 'm'): number | undefined {
  const m = /^\s*(\d{1,9})\s*(s|sec|m|min|h|d)?\s*$/i.exec(raw);
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase() ?? bareUnit ?? (Number(m[1]) === 0 ? 's' : undefined);
  return unit === undefined ? undefined : Number(m[1]) * UNIT_MS[unit]!;
}

/** Milliseconds → "45 s", "7 min", "1 h", "2 h 30 min", "1 d" (rounded down to the second; long spans to the hour or day). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60 || (s < 120 && s % 60 !== 0)) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min % 1440 === 0) return `${min / 1440} d`;
  if (min % 60 === 0 && min < 48 * 60) return `${min / 60} h`;
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return h >= 10 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}
