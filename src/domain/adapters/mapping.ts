import { z } from 'zod';
import { SEVERITIES, type Severity } from '../alert.js';

/**
 * A source's own severity and service mapping (issue 10 §5): which label carries the severity, which of
 * its words mean which P level, the level when none is given, and which labels name the service. Every
 * part is optional; what is left out keeps the built-in table of the format (docs/senders.md, "Severity
 * and service"). Read by the adapters, pure: the hook passes the source's mapping in.
 */
export interface SourceMapping {
  /** The label whose value is the severity word (Alertmanager; default `severity`). */
  severity_label?: string;
  /** Words → P levels, looked up before the built-in words (keys stored lower-case, trimmed). */
  severity_words?: Record<string, Severity>;
  /** The level of an alert whose severity is missing or no known word (default: the format's, P2 for most). */
  default_severity?: Severity;
  /** The labels tried in order for the service, instead of the built-in list (then the format's last resort). */
  service_labels?: string[];
}

/** No mapping: every format's built-in tables. */
export const NO_MAPPING: SourceMapping = Object.freeze({});

const severity = z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` });
const labelName = z.string().trim().min(1, 'a label name cannot be empty').max(128, 'a label name has at most 128 characters');
/** A word as it is compared: case-insensitive, spaces around ignored (as the built-in words). */
export const normalWord = (w: string) => w.trim().toLowerCase();

/** The admin API's `mapping` (zod-validated: every problem a 400 with its path). */
export const sourceMappingInput = z
  .strictObject({
    severity_label: labelName.optional().describe('The label whose value is the severity word (Alertmanager; default "severity")'),
    severity_words: z
      .record(z.string().trim().min(1, 'a severity word cannot be empty').max(64, 'a severity word has at most 64 characters'), severity)
      .refine((w) => Object.keys(w).length <= 100, 'at most 100 severity words')
      .refine((w) => new Set(Object.keys(w).map(normalWord)).size === Object.keys(w).length, 'severity words are compared case-insensitively: two words here are the same word')
      .transform((w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [normalWord(k), v])) as Record<string, Severity>)
      .optional()
      .describe('Words → P levels (case-insensitive), looked up before the built-in words, e.g. {"sev1": "P1"}'),
    default_severity: severity.optional().describe('The level when the severity is missing or no known word (default: the format\'s, P2 for most)'),
    service_labels: z
      .array(labelName)
      .min(1, 'give at least one label, or leave service_labels out for the built-in list')
      .max(10, 'at most 10 service labels')
      .optional()
      .describe('Labels tried in order for the service, instead of the built-in list, e.g. ["team", "service"]'),
  })
  .describe("The source's own severity and service mapping; what is left out keeps the format's built-in tables (docs/senders.md)");

/** The severity of `word`: the source's words, then the built-in words, then the source's default, then `fallback`. */
export function mappedSeverity(word: string | undefined | null, mapping: SourceMapping, builtIn: (word: string) => Severity | undefined, fallback: Severity): Severity {
  const w = word === undefined || word === null ? '' : normalWord(word);
  if (w) {
    const words = mapping.severity_words;
    // Own keys only: the words come from JSON, and `constructor` must not find Object's prototype.
    if (words && Object.hasOwn(words, w)) return words[w]!;
    const known = builtIn(w);
    if (known) return known;
  }
  return mapping.default_severity ?? fallback;
}

/** The first of `names` set (non-blank) in `labels`, trimmed. */
export function firstLabel(labels: Record<string, string | undefined>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = labels[name]?.trim();
    if (v) return v;
  }
  return undefined;
}
