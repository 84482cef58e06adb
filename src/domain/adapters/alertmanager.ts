import { z } from 'zod';
import { MAX_ALERTS_PER_REQUEST } from '../alert.js';
import { conversion, type Adapter } from './types.js';
import { cut, fields, fitLabels, link, nativeAlert, severityOf, withoutStatePrefix } from './common.js';
import { firstLabel, NO_MAPPING, type SourceMapping } from './mapping.js';

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
 * Which label names the service, in this order: `service`; `job` (every scraped series has one);
 * `app_kubernetes_io_name` and `app` (Kubernetes' recommended and legacy app labels, as Prometheus
 * exports them); else the receiver's name. Not `instance` nor `alertname`: those differ per host or per
 * rule, so every such alert would be a "service" of its own and no service route or mute could catch
 * them; the receiver at least groups everything that Alertmanager sends Herald. Documented in
 * docs/senders.md. A source's `mapping.service_labels` replaces the list (the receiver stays the last resort).
 */
export const SERVICE_LABELS = ['service', 'job', 'app_kubernetes_io_name', 'app'] as const;
export function serviceOf(labels: Record<string, string>, receiver: string, mapping: SourceMapping = NO_MAPPING): string {
  return firstLabel(labels, mapping.service_labels ?? SERVICE_LABELS) ?? receiver;
}

/** The label that carries the severity word unless a source's mapping names another. */
export const SEVERITY_LABEL = 'severity';

/**
 * When the firing started (`startsAt`), epoch ms: the same firing re-sent every `repeat_interval`
 * carries the same start, a new firing (after a resolve) a new one. Undefined when it does not parse.
 */
export function firingStart(startsAt: string): number | undefined {
  const ms = Date.parse(startsAt);
  // Alertmanager's "unset" is year 1 (0001-01-01T00:00:00Z): no start worth comparing.
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** An Alertmanager group's title: its group labels, `name=value` in their order; else what names the group best. */
export function groupTitle(p: Pick<Payload, 'groupLabels' | 'commonLabels' | 'receiver'>): string {
  const pairs = Object.entries(p.groupLabels).filter(([, v]) => v !== '');
  if (pairs.length) return pairs.map(([k, v]) => `${k}=${v}`).join(', ');
  return p.commonLabels.alertname ?? p.receiver;
}

/**
 * One native alert per Alertmanager alert:
 * - dedup key: the alert's `fingerprint` (stable across re-sends; a resolve carries the same one);
 * - status: the alert's own status (a group can mix firing and resolved alerts);
 * - severity: the `severity` label (critical → P0, error → P1, warning → P2, info → P3, or P0–P3 as is); none or unknown → P2;
 *   a source's mapping may name another label, add words (looked up first) and another default;
 * - service: `serviceOf` (the `service` label, else `job`, else the Kubernetes app labels, else the receiver's name;
 *   a source's `service_labels` instead of that list);
 * - incident: the group (`groupKey`): the alerts of one notification group are one incident, headed with its
 *   group labels (`alertname=DiskFull, cluster=eu1`; without any, the common labels' alertname, else the receiver);
 * - firing start: `startsAt` (re-sends of one firing carry the same: pipeline/dedup-stage.ts folds them as notifications);
 * - title: `alertname: summary` (either alone when only one is there; a `[FIRING:n]` / `[RESOLVED]` prefix taken off
 *   the summary); description: the `description` (or `message`) annotation;
 * - labels: all the alert's labels; fields: the other annotations and the start time; links: generatorURL, runbook_url, Alertmanager.
 */
export const alertmanager: Adapter<Payload> = {
  name: 'alertmanager',
  schema: alertmanagerPayload,
  convert(p, mapping = NO_MAPPING) {
    const severityLabel = mapping.severity_label ?? SEVERITY_LABEL;
    const group = { key: p.groupKey, title: groupTitle(p) };
    return conversion({
      alerts: p.alerts.map((a) => {
        const labels = a.labels;
        const ann = { ...p.commonAnnotations, ...a.annotations };
        const name = labels.alertname;
        const summary = ann.summary === undefined ? undefined : withoutStatePrefix(ann.summary);
        const title = name && summary ? `${name}: ${summary}` : (summary ?? name ?? 'Alertmanager alert');
        const shown = new Set(['summary', 'description', 'message', 'runbook_url', 'runbook']);
        return {
          input: nativeAlert({
            service: serviceOf(labels, p.receiver, mapping),
            severity: severityOf(labels[severityLabel], 'P2', mapping),
            title,
            description: ann.description ?? ann.message,
            status: a.status,
            dedup_key: a.fingerprint,
            firing_started_at: firingStart(a.startsAt),
            sender_group: group,
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
