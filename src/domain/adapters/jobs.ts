import { z } from 'zod';
import { conversion, type Adapter } from './types.js';
import { fields, fitLabels, nativeAlert } from './common.js';

/**
 * One job run as the job scheduler's generic webhook (`notify_webhook`) reports it: `status` is the
 * run's exit code, `triggered` the jobs this run triggered (`trigger_job`), `retry_attempt` counts from 0.
 */
const jobRun = {
  name: z.string().trim().min(1).max(200),
  status: z.number({ error: 'status must be the exit code, a number' }).int({ error: 'status must be the exit code, a whole number' }),
  log: z.string().nullish(),
  triggered_at: z.union([z.string(), z.number()]).nullish(),
  triggered_by: z.string().nullish(),
  triggered: z.array(z.string(), { error: 'triggered must be a list of job names' }).nullish(),
  retry_attempt: z.number().int().min(0).nullish(),
  retries_exhausted: z.boolean().nullish(),
};

/**
 * A job scheduler's event hooks, as the scheduler sends them, plus `event`: the hook that fired, Herald's
 * own field, since the scheduler's payload does not carry it. Put it in the body, or (the scheduler's
 * payload is fixed) in each hook's URL: `POST /v1/alerts?format=jobs&event=on_error` (the hook fills
 * `event` from `?event=`). `triggered_by_job_run`: the parent job's run when a job triggered this one
 * (the same fields; what the parent's own parent was is not read).
 */
export const jobsPayload = z.object({
  event: z.enum(['on_success', 'on_error', 'on_retries_exhausted'], {
    error: 'event must be on_success, on_error or on_retries_exhausted (the scheduler does not send it: name the hook in its URL, ?event=on_error)',
  }),
  ...jobRun,
  triggered_by_job_run: z.object(jobRun, { error: "triggered_by_job_run must be the parent job's run (an object)" }).nullish(),
});
type Payload = z.output<typeof jobsPayload>;
type Run = Omit<Payload, 'event' | 'triggered_by_job_run'>;

/** Dedup key of a job's alert: one open alert per job name. */
export const jobKey = (name: string) => `job:${name}`;

const text = (v: string | number | boolean | null | undefined) => (v === null || v === undefined ? undefined : String(v));

/** The parent run in one line for the card: `ParentJob (exit code 0), triggered by cron at 2023-04-01T11:59:00Z`. */
function parentLine(p: Run): string {
  const at = text(p.triggered_at);
  const how = [p.triggered_by && `by ${p.triggered_by}`, at && `at ${at}`].filter(Boolean).join(' ');
  return `${p.name} (exit code ${p.status})${how ? `, triggered ${how}` : ''}`;
}

/**
 * - on_error (after each failed attempt) → firing P2 "Job <name> failed (attempt n)"; repeats group on the job's dedup key;
 * - on_retries_exhausted (once) → firing P1 "Job <name> failed: retries exhausted";
 * - on_success → resolves the job's open alert (nothing when none is open), and is a beat of the
 *   source's heartbeat named like the job, if it declared one (services/heartbeats.ts).
 * Service: the job's name; description: the log (cut in the middle when long); dedup key `job:<name>`.
 * The card's fields (render shows an alert's fields as they are): the exit code first, the run's
 * trigger, the parent job's run and its log, the jobs it triggered, the retry state.
 */
export const jobs: Adapter<Payload> = {
  name: 'jobs',
  schema: jobsPayload,
  convert(p) {
    const parent = p.triggered_by_job_run ?? undefined;
    const common = {
      service: p.name,
      dedup_key: jobKey(p.name),
      description: p.log ?? undefined,
      labels: fitLabels({ job: p.name, exit_code: String(p.status), event: p.event, triggered_by: p.triggered_by ?? undefined, parent_job: parent?.name }),
      fields: fields([
        ['Exit code', String(p.status)],
        ['Triggered at', text(p.triggered_at)],
        ['Triggered by', p.triggered_by],
        ['Parent job', parent && parentLine(parent)],
        ['Parent job log', parent?.log],
        ['Triggered jobs', p.triggered?.length ? p.triggered.join(', ') : undefined],
        ['Retry attempt', text(p.retry_attempt)],
        ['Retries exhausted', text(p.retries_exhausted)],
      ]),
    };
    if (p.event === 'on_success') {
      return conversion({
        alerts: [{ input: nativeAlert({ ...common, severity: 'P3', title: `Job ${p.name} succeeded`, status: 'resolved' }), onlyIfOpen: true }],
        beats: [p.name],
      });
    }
    if (p.event === 'on_retries_exhausted') {
      return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P1', title: `Job ${p.name} failed: retries exhausted` }) }] });
    }
    const attempt = p.retry_attempt === null || p.retry_attempt === undefined ? '' : ` (attempt ${p.retry_attempt + 1})`;
    return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P2', title: `Job ${p.name} failed${attempt}` }) }] });
  },
};
