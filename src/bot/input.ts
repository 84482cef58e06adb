import { SEVERITIES, type Severity } from '../domain/alert.js';
import { ServiceError } from '../services/errors.js';

/**
 * A person's mistake in a command's options: shown to them (ephemeral) as it is. Messages echo the
 * option's value as typed (`duration: "soon" is not a duration; …`), untrimmed and not case-folded.
 */
export const badInput = (option: string, message: string): ServiceError => new ServiceError(400, 'invalid_request', `${option}: ${message}`, option);

/** "P0,P1" or "p0 p1" → ['P0','P1']. */
export function parseSeverities(raw: string | null, option = 'severities'): Severity[] | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  const typed = raw.split(/[\s,]+/).filter(Boolean);
  // The bad ones are echoed as typed ("p9", not "P9"): the person looks for what they wrote.
  const bad = typed.filter((p) => !(SEVERITIES as readonly string[]).includes(p.toUpperCase()));
  if (bad.length) throw badInput(option, `"${bad.join(', ')}" ${bad.length === 1 ? 'is not a severity' : 'are not severities'}; use P0, P1, P2 or P3, e.g. "P0,P1"`);
  return [...new Set(typed.map((p) => p.toUpperCase()))] as Severity[];
}

/** "team=payments,region=eu" → {team:'payments', region:'eu'}. */
export function parseLabels(raw: string | null, option = 'labels'): Record<string, string> | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw badInput(option, `"${pair}" is not key=value; write e.g. "team=payments,region=eu"`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

const UNITS: Record<string, number> = { m: 1, min: 1, h: 60, d: 1440 };

/** "90m", "2h", "1d", "45" (minutes) → minutes, 1 minute to 30 days. */
export function parseDuration(raw: string, option = 'duration'): number {
  const m = /^\s*(\d+)\s*(m|min|h|d)?\s*$/i.exec(raw);
  if (!m) throw badInput(option, `"${raw}" is not a duration; write e.g. "30m", "2h" or "1d"`);
  const minutes = Number(m[1]) * UNITS[(m[2] ?? 'm').toLowerCase()]!;
  if (minutes < 1 || minutes > 43_200) throw badInput(option, `"${raw}" is out of range; from 1 minute to 30 days`);
  return minutes;
}

/** An id option given as text by autocomplete ("12" or "#12"). */
export function parseId(raw: string | number, option: string): number {
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim().replace(/^#/, ''));
  if (!Number.isInteger(n) || n < 1) throw badInput(option, `"${raw}" is not an id; pick one from the list`);
  return n;
}
