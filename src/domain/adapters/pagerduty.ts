import { z } from 'zod';
import { conversion, type Adapter } from './types.js';
import { fields, fitLabels, link, nativeAlert, severityOf, withoutStatePrefix } from './common.js';
import { firstLabel, NO_MAPPING } from './mapping.js';

/** The payload fields tried for the service, in order; a source's `service_labels` names others among source, component, group, class. */
const SERVICE_FIELDS = ['group', 'component', 'source'] as const;

const base = {
  routing_key: z.string().optional().describe('PagerDuty integration key: ignored (the bearer token names the source)'),
  dedup_key: z.string().min(1).max(255).optional(),
  client: z.string().optional(),
  client_url: z.string().optional(),
  images: z.array(z.unknown()).optional(),
  links: z.array(z.object({ href: z.string(), text: z.string().optional() })).max(50).optional(),
};

/** PagerDuty Events API v2 (`POST /v2/enqueue`): trigger, acknowledge, resolve. */
export const pagerdutyPayload = z.discriminatedUnion('event_action', [
  z.object({
    ...base,
    event_action: z.literal('trigger'),
    payload: z.object({
      summary: z.string().min(1).max(1024),
      source: z.string().min(1).max(255),
      severity: z.enum(['critical', 'error', 'warning', 'info']),
      timestamp: z.string().optional(),
      component: z.string().optional(),
      group: z.string().optional(),
      class: z.string().optional(),
      custom_details: z.unknown().optional(),
    }),
  }),
  z.object({ ...base, event_action: z.literal('acknowledge'), dedup_key: z.string().min(1).max(255) }),
  z.object({ ...base, event_action: z.literal('resolve'), dedup_key: z.string().min(1).max(255) }),
], { error: 'event_action must be trigger, acknowledge or resolve' });
type Payload = z.output<typeof pagerdutyPayload>;

/**
 * - trigger → a firing alert: severity critical → P0, error → P1, warning → P2, info → P3; title: payload.summary
 *   without a leading `[FIRING:n]` / `[RESOLVED]` (Alertmanager's PagerDuty template starts summaries with one);
 *   service: payload.group, else payload.component, else payload.source; dedup key: dedup_key (none: no dedup);
 *   labels: source, component, group, class; fields: custom_details (top-level keys); links: links[] and client_url.
 *   A source's mapping: `severity_words` re-map the four words; `service_labels` picks the service among
 *   source, component, group and class (else payload.source).
 * - acknowledge → acknowledges the open alert with that dedup key (nothing when there is none).
 * - resolve → a resolved alert with that dedup key, only when an alert with it is open.
 */
export const pagerduty: Adapter<Payload> = {
  name: 'pagerduty',
  schema: pagerdutyPayload,
  convert(p, mapping = NO_MAPPING) {
    if (p.event_action === 'acknowledge') return conversion({ acknowledge: [p.dedup_key] });
    if (p.event_action === 'resolve') {
      return conversion({
        alerts: [{ input: nativeAlert({ service: 'pagerduty', severity: 'P3', title: `Resolved: ${p.dedup_key}`, status: 'resolved', dedup_key: p.dedup_key }), onlyIfOpen: true }],
      });
    }
    const d = p.payload;
    const details = d.custom_details;
    const detailFields: [string, unknown][] =
      details === undefined || details === null ? [] : typeof details === 'object' && !Array.isArray(details) ? Object.entries(details) : [['Details', details]];
    const parts = { source: d.source, component: d.component, group: d.group, class: d.class };
    return conversion({
      alerts: [
        {
          input: nativeAlert({
            service: firstLabel(parts, mapping.service_labels ?? SERVICE_FIELDS) ?? d.source,
            severity: severityOf(d.severity, 'P2', mapping),
            title: withoutStatePrefix(d.summary),
            dedup_key: p.dedup_key,
            labels: fitLabels(parts),
            fields: fields([...detailFields, ['Timestamp', d.timestamp]]),
            links: [...(p.links ?? []).flatMap((l) => link(l.text ?? 'Link', l.href)), ...link(p.client ?? 'Client', p.client_url)],
          }),
        },
      ],
    });
  },
};
