import { z } from 'zod';
import { MAX_ALERTS_PER_REQUEST } from '../alert.js';
import { conversion, type Adapter } from './types.js';
import { cut, fields, fitLabels, link, nativeAlert, severityOf } from './common.js';

const strings = z.record(z.string(), z.string());

/**
 * Alertmanager's webhook receiver payload, version 4 (prometheus/alertmanager notify/webhook).
 * Unknown fields are allowed, so a newer Alertmanager adding one is not refused.
 */
export const alertmanagerPayload = z.object({
  version: z.literal('4', { error: 'only Alertmanager webhook version "4" is understood' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: strings.default({}),
  commonLabels: strings.default({}),
  commonAnnotations: strings.default({}),
  externalURL: z.string().default(''),
  notification_reason: z.string().optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: strings.refine((l) => Object.keys(l).length > 0, 'an alert needs at least one label (alertname)'),
        annotations: strings.default({}),
        startsAt: z.string(),
        endsAt: z.string().optional(),
        generatorURL: z.string().optional(),
        fingerprint: z.string().min(1).max(255),
      }),
    )
    .min(1)
    .max(MAX_ALERTS_PER_REQUEST),
});
type Payload = z.output<typeof alertmanagerPayload>;

/**
 * One native alert per Alertmanager alert:
 * - dedup key: the alert's `fingerprint` (stable across re-sends; a resolve carries the same one);
 * - status: the alert's own status (a group can mix firing and resolved alerts);
 * - severity: the `severity` label (critical → P0, error → P1, warning → P2, info → P3, or P0–P3 as is); none or unknown → P2;
 * - service: the `service` label, else `job`, else the receiver's name;
 * - title: `alertname: summary` (either alone when only one is there); description: the `description` (or `message`) annotation;
 * - labels: all the alert's labels; fields: the other annotations and the start time; links: generatorURL, runbook_url, Alertmanager.
 */
export const alertmanager: Adapter<Payload> = {
  name: 'alertmanager',
  schema: alertmanagerPayload,
  convert(p) {
    return conversion({
      alerts: p.alerts.map((a) => {
        const labels = a.labels;
        const ann = { ...p.commonAnnotations, ...a.annotations };
        const name = labels.alertname;
        const summary = ann.summary;
        const title = name && summary ? `${name}: ${summary}` : (summary ?? name ?? 'Alertmanager alert');
        const shown = new Set(['summary', 'description', 'message', 'runbook_url', 'runbook']);
        return {
          input: nativeAlert({
            service: labels.service ?? labels.job ?? p.receiver,
            severity: severityOf(labels.severity),
            title,
            description: ann.description ?? ann.message,
            status: a.status,
            dedup_key: a.fingerprint,
            environment: labels.environment ?? labels.env,
            labels: fitLabels(labels),
            fields: fields([
              ...Object.entries(ann).filter(([k]) => !shown.has(k)),
              ['Started', a.startsAt],
              ...(a.status === 'resolved' && a.endsAt ? [['Ended', a.endsAt] as [string, string]] : []),
            ]),
            links: [
              ...link('Source', a.generatorURL),
              ...link('Runbook', ann.runbook_url ?? ann.runbook),
              ...link('Alertmanager', p.externalURL),
            ],
          }),
        };
      }),
      ignored: p.truncatedAlerts ? [cut(`${p.truncatedAlerts} alerts were left out by Alertmanager (max_alerts)`, 200)] : [],
    });
  },
};
