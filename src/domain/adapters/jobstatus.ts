import { z } from 'zod';
import { conversion, type Adapter } from './types.js';
import { fields, fitLabels, nativeAlert } from './common.js';

const id = z.union([z.string().min(1).max(200), z.number()]);

/**
 * Job status events of a job queue: `{"event": "job.failed", "job": {...}}`. `job.id` is required;
 * the rest is optional and shown when present.
 */
export const jobstatusPayload = z.object({
  event: z.enum(['job.created', 'job.processing', 'job.completed', 'job.failed', 'job.cancelled'], {
    error: 'event must be job.created, job.processing, job.completed, job.failed or job.cancelled',
  }),
  timestamp: z.union([z.string(), z.number()]).optional(),
  job: z.object({
    id,
    name: z.string().max(200).optional(),
    queue: z.string().max(200).optional(),
    status: z.string().max(100).optional(),
    error: z.string().nullish(),
    attempts: z.number().int().min(0).optional(),
    progress: z.number().optional(),
    result: z.unknown().optional(),
    url: z.string().optional(),
  }),
});
type Payload = z.output<typeof jobstatusPayload>;

/**
 * - job.failed → firing P1 "Job <name> failed", description: the error; dedup key `jobstatus:<id>`;
 * - job.completed, job.cancelled → resolve that job's open alert (nothing when none is open);
 * - job.created, job.processing → accepted and ignored: a queue's per-job churn is not an alert.
 * Service: the job's queue, else its name, else "jobs".
 */
export const jobstatus: Adapter<Payload> = {
  name: 'jobstatus',
  schema: jobstatusPayload,
  convert(p) {
    const j = p.job;
    if (p.event === 'job.created' || p.event === 'job.processing') return conversion({ ignored: [`${p.event}: informational, no alert`] });
    const name = j.name ?? `#${j.id}`;
    const common = {
      service: j.queue ?? j.name ?? 'jobs',
      dedup_key: `jobstatus:${j.id}`,
      labels: fitLabels({ job_id: String(j.id), job: j.name, queue: j.queue, event: p.event }),
      fields: fields([
        ['Status', j.status],
        ['Attempts', j.attempts === undefined ? undefined : String(j.attempts)],
        ['At', p.timestamp === undefined ? undefined : String(p.timestamp)],
      ]),
    };
    if (p.event === 'job.failed') return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P1', title: `Job ${name} failed`, description: j.error ?? undefined }) }] });
    const verb = p.event === 'job.completed' ? 'completed' : 'was cancelled';
    return conversion({ alerts: [{ input: nativeAlert({ ...common, severity: 'P3', title: `Job ${name} ${verb}`, status: 'resolved' }), onlyIfOpen: true }] });
  },
};
