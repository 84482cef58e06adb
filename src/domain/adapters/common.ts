import type { AlertInput, Severity } from '../alert.js';
import { mappedSeverity, NO_MAPPING, type SourceMapping } from './mapping.js';

/** Cuts text to `max` characters, keeping the end (the cause of an error is usually there) when `keepEnd`. */
export function cut(text: string, max: number, keepEnd = false): string {
  if (text.length <= max) return text;
  if (!keepEnd) return `${text.slice(0, max - 1)}…`;
  const half = Math.floor((max - 3) / 2);
  return `${text.slice(0, half)} … ${text.slice(text.length - (max - 3 - half))}`;
}

/**
 * Severity words of the common senders → Herald's P0–P3. Unknown or missing → `fallback`
 * (P2 unless a format says otherwise): documented in docs/senders.md.
 */
const WORDS: Record<string, Severity> = {
  p0: 'P0', p1: 'P1', p2: 'P2', p3: 'P3',
  critical: 'P0', crit: 'P0', page: 'P0', emergency: 'P0', fatal: 'P0', sev0: 'P0', sev1: 'P0',
  error: 'P1', err: 'P1', high: 'P1', major: 'P1', sev2: 'P1',
  warning: 'P2', warn: 'P2', medium: 'P2', minor: 'P2', sev3: 'P2',
  info: 'P3', informational: 'P3', low: 'P3', none: 'P3', notice: 'P3', debug: 'P3', sev4: 'P3',
};
// Own keys only: a word like `constructor` must not find Object's prototype.
const builtInWord = (w: string): Severity | undefined => (Object.hasOwn(WORDS, w) ? WORDS[w] : undefined);
/** `word`'s level: the source's own words (`mapping`), then the built-in ones, then the source's default, else `fallback`. */
export function severityOf(word: string | undefined | null, fallback: Severity = 'P2', mapping: SourceMapping = NO_MAPPING): Severity {
  return mappedSeverity(word, mapping, builtInWord, fallback);
}

/**
 * A sender's own state prefix at the start of a title: Alertmanager's `[FIRING:3]` / `[RESOLVED]` (its
 * default PagerDuty and chat templates start every summary with one). Herald shows the state itself
 * (`[P1]`, `[RESOLVED]`, colour), and the sender's prefix would go stale on the card (`[RESOLVED]
 * [FIRING:3] …`): taken off by the adapters, once, with the space after it.
 */
const STATE_PREFIX = /^\s*\[(?:FIRING|RESOLVED)(?::\s*\d+)?\]\s*/i;
export function withoutStatePrefix(title: string): string {
  const stripped = title.replace(STATE_PREFIX, '');
  // A title that was nothing but the prefix keeps it: an empty title says less.
  return stripped.trim() ? stripped : title;
}

/** Labels within the native limits (≤64, key 1–128, value ≤1024 characters); string values only. */
export function fitLabels(...sources: (Record<string, unknown> | undefined)[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const src of sources) {
    for (const [k, v] of Object.entries(src ?? {})) {
      if (Object.keys(out).length >= 64) break;
      if (!k || k.length > 128 || v === undefined || v === null || k in out) continue;
      out[k] = cut(typeof v === 'string' ? v : JSON.stringify(v), 1024);
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** A link when `url` is an http(s) URL, else nothing (a sender's bad link must not reject its alert). */
export function link(title: string, url: string | undefined | null): { title: string; url: string }[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return [];
  } catch {
    return [];
  }
  return [{ title: cut(title || 'Link', 200), url }];
}

/** Fields within the native limits (≤50, name ≤1000, value ≤5000), skipping empty values. */
export function fields(entries: [string, unknown][]): AlertInput['fields'] {
  const out = entries
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .slice(0, 50)
    .map(([name, v]) => ({ name: cut(name, 1000), value: cut(typeof v === 'string' ? v : JSON.stringify(v), 5000, true) }));
  return out.length ? out : undefined;
}

/** Builds a native alert with the text limits applied and optional parts left out. */
export function nativeAlert(a: {
  service: string;
  severity: Severity;
  title: string;
  description?: string | null;
  status?: 'firing' | 'resolved';
  dedup_key?: string | null;
  environment?: string | null;
  labels?: Record<string, string>;
  fields?: AlertInput['fields'];
  links?: AlertInput['links'];
  firing_started_at?: number | null;
  sender_group?: { key: string; title: string };
}): AlertInput {
  const out: AlertInput = {
    service: cut(a.service.trim() || 'unknown', 200),
    severity: a.severity,
    title: cut(a.title.trim() || '(no title)', 1000),
    status: a.status ?? 'firing',
  };
  if (a.description) out.description = cut(a.description, 20_000, true);
  if (a.dedup_key) out.dedup_key = cut(a.dedup_key, 255);
  if (a.environment) out.environment = cut(a.environment, 100);
  if (a.labels && Object.keys(a.labels).length) out.labels = a.labels;
  if (a.fields?.length) out.fields = a.fields;
  if (a.links?.length) out.links = a.links.slice(0, 20);
  if (a.firing_started_at !== undefined && a.firing_started_at !== null) out.firing_started_at = a.firing_started_at;
  if (a.sender_group) out.sender_group = a.sender_group;
  return out;
}
