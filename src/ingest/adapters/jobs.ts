import { z } from 'zod';
import { conversion, type Adapter } from './types.js';
import { fields, fitLabels, nativeAlert } from './common.js';

const id = z.union([z.string(), z.number()]);

/**
 * A job scheduler's event hooks. The hook that fired is named by `event`: Herald's own field, since the
 * scheduler's payload does not carry it. Put it in the body, or, when the payload is fixed, in each hook's
 * URL: `POST /v1/alerts?format=jobs&event=on_error` (the hook fills `event` from `?event=`).
 */
export const jobsPayload = z.object({
  event: z.enum(['on_success', 'on_error', 'on_retries_exhausted'], { error: 'event must be on_success, on_error or on_retries_exhausted' }),
  name: z.string().trim().min(1).max(200),
  status: z.string().max(100),
  log: z.string().nullish(),
  triggered_at: z.union([z.string(), z.number()]).nullish(),
  triggered_by: z.string().nullish(),
  triggered: z.union([z.boolean(), z.string(), z.number()]).nullish(),
  retry_attempt: z.number().int().min(0).nullish(),
  retries_exhausted: z.boolean().nullish(),
  triggered_by_job_run: id.nullish(),
});
type Payload = z.output<typeof jobsPayload>;

/** Dedup key of a job's alert: one open alert per job name. */
export const jobKey = (name: string) => `job:${name}`;

/**
 * - on_error (after each failed attempt) → firing P2 "Job <name> failed (attempt n)"; repeats group on the job's dedup key;
 * - on_retries_exhausted (once) → firing P1 "Job <name> failed: retries exhausted";
 * - on_success → resolves the job's open alert (nothing when none is open).
 * Service: the job's name; description: the log (cut in the middle when long); dedup key `job:<name>`.
 */
export const jobs: Adapter<Payload> = {
  name: 'jobs',
  schema: jobsPayload,
  convert(p) {
    const common = {
      service: p.name,
      dedup_key: jobKey(p.name),
      description: p.log ?? undefined,
      labels: fitLabels({ job: p.name, status: p.status, event: p.event, triggered_by: p.triggered_by ?? undefined }),
      fields: fields([
        ['Status', p.status],
        ['Triggered at', p.triggered_at === null || p.triggered_at === undefined ? undefined : String(p.triggered_at)],
        ['Triggered by', p.triggered_by],
        ['Triggered', p.triggered === null || p.triggered === undefined ? undefined : String(p.triggered)],
        ['Retry attempt', p.retry_attempt === null || p.retry_attempt === undefined ? undefined : String(p.retry_attempt)],
        ['Retries exhausted', p.retries_exhausted === null || p.retries_exhausted === undefined ? undefined : String(p.retries_exhausted)],
        ['Triggered by job run', p.triggered_by_job_run === null || p.triggered_by_job_run === undefined ? undefined : String(p.triggered_by_job_run)],
      ]),
    };
    if (p.event === 'on_success') {
      return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P3', title: `Job ${p.name} succeeded`, status: 'resolved' }), onlyIfOpen: true }] });
    }
    if (p.event === 'on_retries_exhausted') {
      return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P1', title: `Job ${p.name} failed: retries exhausted` }) }] });
    }
    const attempt = p.retry_attempt === null || p.retry_attempt === undefined ? '' : ` (attempt ${p.retry_attempt + 1})`;
    return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P2', title: `Job ${p.name} failed${attempt}` }) }] });
  },
};
