import { z } from 'zod';
import { fields, fitLabels, nativeAlert, severityOf } from './common.js';
import { NO_MAPPING } from './mapping.js';
import { conversion, type Adapter } from './types.js';

const id = z.union([z.string().min(1).max(200), z.number()]);
const data = <T extends z.ZodRawShape>(shape: T) => z.object(shape);
const common = {
  timestamp: z.union([z.string(), z.number()]).optional(),
  /** The pipeline's name: the alert's service (default "pipeline"). */
  pipeline: z.string().trim().min(1).max(200).optional(),
};

/** A data pipeline's events: `{"event": …, "pipeline"?: …, "timestamp"?: …, "data": {…}}`, one shape per event. */
export const pipelinePayload = z.discriminatedUnion(
  'event',
  [
    z.object({ ...common, event: z.literal('job_created'), data: data({ job_id: id, name: z.string().max(500).optional(), created_by: z.string().optional() }) }),
    z.object({
      ...common,
      event: z.literal('status_changed'),
      data: data({ job_id: id, name: z.string().max(500).optional(), old_status: z.string().max(100).optional(), new_status: z.string().min(1).max(100), message: z.string().optional() }),
    }),
    z.object({
      ...common,
      event: z.literal('scraper_completed'),
      data: data({ scraper: z.string().min(1).max(200), items: z.number().int().min(0).optional(), errors: z.number().int().min(0).optional(), duration_ms: z.number().min(0).optional() }),
    }),
    z.object({ ...common, event: z.literal('daily_digest'), data: data({ date: z.string().min(1).max(50), summary: z.string().optional(), stats: z.record(z.string(), z.union([z.number(), z.string()])).optional() }) }),
    z.object({
      ...common,
      event: z.literal('error_alert'),
      data: data({
        message: z.string().min(1).max(5000),
        error: z.string().optional(),
        severity: z.string().optional(),
        component: z.string().max(200).optional(),
        dedup_key: z.string().min(1).max(255).optional(),
      }),
    }),
  ],
  { error: 'event must be job_created, status_changed, scraper_completed, daily_digest or error_alert' },
);
type Payload = z.output<typeof pipelinePayload>;

const FAILED = new Set(['failed', 'error', 'errored', 'crashed', 'timeout', 'timed_out']);
const DONE = new Set(['completed', 'complete', 'succeeded', 'success', 'done', 'finished']);

/**
 * - job_created → P3 "Job <name> created";
 * - status_changed → to a failed status (failed, error, crashed, timeout): firing P1 with dedup key `pipeline:job:<id>`;
 *   to a done status (completed, succeeded, done, finished): resolves that open alert; any other: P3 notice;
 * - scraper_completed → P3 report (P2 when it had errors), counts as fields;
 * - daily_digest → P3 report with its stats as fields;
 * - error_alert → firing, severity from data.severity (default P1), dedup key data.dedup_key else `pipeline:error:<component>:<message>`.
 * Service: `pipeline` (the pipeline's name) or "pipeline".
 */
export const pipeline: Adapter<Payload> = {
  name: 'pipeline',
  schema: pipelinePayload,
  convert(p, mapping = NO_MAPPING) {
    const service = p.pipeline ?? 'pipeline';
    const at: [string, unknown] = ['At', p.timestamp === undefined ? undefined : String(p.timestamp)];
    switch (p.event) {
      case 'job_created': {
        const d = p.data;
        return conversion({ alerts: [{ input: nativeAlert({ service, severity: 'P3', title: `Job ${d.name ?? `#${d.job_id}`} created`, labels: fitLabels({ event: p.event, job_id: String(d.job_id) }), fields: fields([['Created by', d.created_by], at]) }) }] });
      }
      case 'status_changed': {
        const d = p.data;
        const name = d.name ?? `#${d.job_id}`;
        const status = d.new_status.toLowerCase();
        const base = {
          service,
          dedup_key: `pipeline:job:${d.job_id}`,
          description: d.message,
          labels: fitLabels({ event: p.event, job_id: String(d.job_id), status: d.new_status }),
          fields: fields([['From', d.old_status], ['To', d.new_status], at]),
        };
        if (FAILED.has(status)) return conversion({ alerts: [{ input: nativeAlert({ ...base, severity: 'P1', title: `Job ${name} ${d.new_status}` }) }] });
        if (DONE.has(status)) return conversion({ alerts: [{ input: nativeAlert({ ...base, severity: 'P3', title: `Job ${name} ${d.new_status}`, status: 'resolved' }), onlyIfOpen: true }] });
        return conversion({ alerts: [{ input: nativeAlert({ ...base, dedup_key: undefined, severity: 'P3', title: `Job ${name}: ${d.old_status ?? '?'} → ${d.new_status}` }) }] });
      }
      case 'scraper_completed': {
        const d = p.data;
        const errs = d.errors ?? 0;
        return conversion({
          alerts: [{
            input: nativeAlert({
              service,
              severity: errs > 0 ? 'P2' : 'P3',
              title: `Scraper ${d.scraper} completed${errs > 0 ? ` with ${errs} error${errs === 1 ? '' : 's'}` : ''}`,
              labels: fitLabels({ event: p.event, scraper: d.scraper }),
              fields: fields([['Items', d.items?.toString()], ['Errors', d.errors?.toString()], ['Duration (ms)', d.duration_ms?.toString()], at]),
            }),
          }],
        });
      }
      case 'daily_digest': {
        const d = p.data;
        return conversion({
          alerts: [{ input: nativeAlert({ service, severity: 'P3', title: `Daily digest ${d.date}`, description: d.summary, labels: fitLabels({ event: p.event }), fields: fields(Object.entries(d.stats ?? {}).map(([k, v]) => [k, String(v)])) }) }],
        });
      }
      case 'error_alert': {
        const d = p.data;
        return conversion({
          alerts: [{
            input: nativeAlert({
              service: d.component ? `${service}/${d.component}` : service,
              severity: severityOf(d.severity, 'P1', mapping),
              title: d.message,
              description: d.error,
              dedup_key: d.dedup_key ?? `pipeline:error:${d.component ?? ''}:${d.message.slice(0, 200)}`,
              labels: fitLabels({ event: p.event, component: d.component }),
              fields: fields([at]),
            }),
          }],
        });
      }
    }
  },
};
