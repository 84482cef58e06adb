import { z } from 'zod';
import { PLAIN } from './messages.js';

export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** P0 → 0 … P3 → 3: the queue's priority. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

const label = z.string().min(1).max(128);

/** Herald's native alert, as a sender POSTs it. Limits are generous; render fits them into Discord's. */
export const alertInput = z.strictObject({
  service: z.string().trim().min(1).max(200),
  severity: z.enum(SEVERITIES, {
    // Senders of other formats often send words; say where those are read.
    error: (iss) =>
      iss.code === 'invalid_value' && iss.input !== undefined
        ? `severity must be one of ${SEVERITIES.join(', ')} (got ${JSON.stringify(iss.input)}); severity words like critical are read in the alertmanager and pagerduty formats`
        : undefined,
  }),
  title: z.string().trim().min(1).max(1000),
  description: z.string().max(20_000).optional(),
  status: z.enum(['firing', 'resolved']).default('firing'),
  dedup_key: z.string().min(1).max(255).optional(),
  group: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('The incident this alert belongs to (docs/incidents.md): alerts of one source with the same group share one live card per channel'),
  environment: z.string().min(1).max(100).optional(),
  labels: z.record(label, z.string().max(1024)).optional()
    .refine((l) => l === undefined || Object.keys(l).length <= 64, 'at most 64 labels'),
  fields: z.array(z.strictObject({ name: z.string().max(1000), value: z.string().max(5000) })).max(50).optional(),
  links: z.array(z.strictObject({ title: z.string().min(1).max(200), url: z.url({ protocol: /^https?$/ }) })).max(20).optional(),
});
/**
 * An alert as ingest carries it: the native alert, plus what only a sender's adapter sets (the native
 * schema has no such field, so a native sender cannot send it).
 */
export type AlertInput = z.output<typeof alertInput> & {
  /**
   * When this firing started, by its sender's clock (epoch ms; Alertmanager's `startsAt`): a re-send with
   * the same start is a notification of the same firing, not a new one (pipeline/dedup-stage.ts).
   */
  firing_started_at?: number;
  /**
   * The sender's own group (an Alertmanager `groupKey`, with its group labels as the title): the alerts of
   * one notification group are one incident (domain/incidents.ts). Set by adapters only.
   */
  sender_group?: { key: string; title: string };
};

export const MAX_ALERTS_PER_REQUEST = 1000;

const alertBatch = z.strictObject({ alerts: z.array(alertInput).min(1).max(MAX_ALERTS_PER_REQUEST) });

/** The hook takes one alert or `{"alerts": [...]}` (this union documents it; `parseAlertsBody` validates it). */
export const alertsBody = z.union([alertBatch, alertInput]);
export type AlertsBody = z.output<typeof alertsBody>;

/**
 * Validates a hook body, choosing the shape by the presence of `alerts`, so the problems reported are
 * those of the shape the sender meant (a plain union would report both shapes' complaints).
 */
export function parseAlertsBody(data: unknown): { ok: true; alerts: AlertInput[] } | { ok: false; problems: InputProblem[] } {
  const isBatch = typeof data === 'object' && data !== null && !Array.isArray(data) && 'alerts' in data;
  const result = isBatch ? alertBatch.safeParse(data, PLAIN) : alertInput.safeParse(data, PLAIN);
  if (!result.success) return { ok: false, problems: describeIssues(result.error) };
  return { ok: true, alerts: 'alerts' in result.data ? result.data.alerts : [result.data] };
}

/** A problem in the request, as the 400 answer lists it: `path` like `alerts[1].severity`. */
export interface InputProblem {
  path: string;
  message: string;
}

/** Flattens zod's issues into `{path, message}` pairs, one per problem, for a 400 answer. */
export function describeIssues(error: z.ZodError): InputProblem[] {
  return error.issues.flatMap((issue) =>
    // One problem per unknown key, so each is named where it stands.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ path: pathOf([...issue.path, k]), message: 'unknown field' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

function pathOf(path: PropertyKey[]): string {
  return path.length === 0 ? '(body)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}
