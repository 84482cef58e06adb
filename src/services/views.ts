import { z } from 'zod';
import { SEVERITIES } from '../domain/alert.js';
import { OUTSIDE_HOURS, WEEKDAYS } from '../domain/hours.js';

/** Answer schemas of the admin API: they document it, and the serializer sends only these fields. */
export const createdId = z.object({ id: z.number() });

export const sourceView = z.object({ id: z.number(), name: z.string(), created_at: z.number() });
export const createdSource = z.object({
  id: z.number(),
  name: z.string(),
  token: z.string().describe('Bearer token for POST /v1/alerts. Shown only in this answer: store it now.'),
});

export const channelView = z.object({
  id: z.number(),
  name: z.string(),
  discord_channel_id: z.string(),
  default: z.boolean(),
  created_at: z.number(),
  webhooks: z.object({ active: z.number(), quarantined: z.number() }),
  backlog: z.number().describe('Deliveries queued or in flight'),
});

export const webhookView = z.object({
  id: z.number(),
  channel_id: z.number(),
  discord_webhook_id: z.string(),
  url_masked: z.string().describe('Where Herald sends, token replaced by ****'),
  owner: z.enum(['app', 'external']),
  state: z.enum(['active', 'retired', 'quarantined', 'removed']).describe('retired: rotated out; sends nothing new, still edits its own messages'),
  breaker_state: z.enum(['closed', 'open', 'half_open']),
  last_error: z.string().nullable(),
  created_at: z.number(),
});

export const businessHoursView = z.object({
  timezone: z.string(),
  days: z.array(z.enum(WEEKDAYS)),
  start: z.string(),
  end: z.string(),
  outside: z.enum(OUTSIDE_HOURS),
});

export const routeView = z.object({
  id: z.number(),
  channel_id: z.number(),
  channel_name: z.string(),
  service: z.string().nullable(),
  severities: z.array(z.string()).nullable(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()).nullable(),
  business_hours: businessHoursView.nullable().describe('Outside these hours P2/P3 wait (or go only to the digest); null: always'),
  created_at: z.number(),
});

const severity = z.enum(SEVERITIES);

export const alertView = z.object({
  id: z.number(),
  source_id: z.number().nullable(),
  service: z.string(),
  severity,
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(['firing', 'resolved']),
  dedup_key: z.string().nullable(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()).nullable(),
  fields: z.array(z.object({ name: z.string(), value: z.string() })).nullable(),
  links: z.array(z.object({ title: z.string(), url: z.string() })).nullable(),
  unrouted: z.boolean(),
  received_at: z.number(),
  acknowledged_by: z.string().nullable(),
  acknowledged_at: z.number().nullable(),
  resolved_by: z.string().nullable(),
  resolved_at: z.number().nullable(),
  retracted_at: z.number().nullable(),
  retract_mode: z.enum(['delete', 'strike']).nullable(),
  retract_reason: z.string().nullable(),
  muted_by_mute_id: z.number().nullable().describe('The mute that silenced this alert: stored, not delivered'),
  occurrences: z.number().describe('How often it fired (repeats of its dedup key folded in); 0: a resolved that had nothing to resolve'),
  last_seen_at: z.number().nullable().describe('When it last fired again (null: only once)'),
  reopened_at: z.number().nullable().describe('When it last fired again after it resolved, reopening it'),
});

export const deliveryView = z.object({
  id: z.number(),
  channel_id: z.number(),
  state: z.enum(['pending', 'leased', 'sent', 'dead', 'cancelled', 'digest']).describe('digest: outside business hours on a digest-only route, never sent'),
  available_at: z.number().describe('Not sent before then (later than its alert: waiting for business hours)'),
  attempts: z.number().describe('Sends that counted: each failed try and the one that succeeded or was given up on (waits on a 429 are not tries; every request is in /v1/admin/attempts)'),
  last_error: z.string().nullable(),
  webhook_id: z.number().nullable(),
  discord_message_id: z.string().nullable(),
  sent_at: z.number().nullable(),
});

export const alertDetail = alertView.extend({ deliveries: z.array(deliveryView) });

export const deadLetterView = z.object({
  id: z.number(),
  delivery_id: z.number(),
  alert_id: z.number().nullable().describe('Null for a message about no alert (a daily digest)'),
  channel_id: z.number(),
  alert_title: z.string().nullable(),
  severity: severity.nullable(),
  reason: z.string(),
  discord_error: z.string().nullable().describe("Discord's error body (JSON text) when it gave one"),
  created_at: z.number(),
  replayed_at: z.number().nullable(),
});

export const attemptView = z.object({
  id: z.number(),
  delivery_id: z.number().nullable(),
  webhook_id: z.number().nullable(),
  at: z.number(),
  status: z.number().nullable().describe('HTTP status; null when Discord did not answer'),
  latency_ms: z.number(),
  outcome: z.string(),
  error: z.string().nullable(),
  rate_limit_scope: z.string().nullable(),
});

export const eventView = z.object({
  id: z.number(),
  kind: z.string(),
  channel_id: z.number().nullable(),
  webhook_id: z.number().nullable(),
  message: z.string(),
  at: z.number(),
});

export const statusView = z.object({
  queue_depth_by_priority: z.object({ P0: z.number(), P1: z.number(), P2: z.number(), P3: z.number() }),
  lanes: z.array(
    z.object({
      channel_id: z.number(),
      backlog: z.number(),
      webhooks: z.number(),
      budget: z.object({ cap: z.number(), effective_cap: z.number(), in_window: z.number(), in_flight: z.number(), blocked_until: z.number() }),
    }),
  ),
  dead_letters_pending: z.number(),
  breakers: z.record(z.string(), z.number()),
});

export const muteView = z.object({
  id: z.number(),
  service: z.string().nullable(),
  title: z.string().nullable().describe('With service: only alerts with this exact title'),
  route_id: z.number().nullable(),
  dedup_key: z.string().nullable(),
  reason: z.string().nullable(),
  created_by: z.string(),
  created_at: z.number(),
  expires_at: z.number(),
  ended_at: z.number().nullable(),
  active: z.boolean(),
  muted_alerts: z.number().describe('Alerts it silenced: stored, not delivered (GET /v1/admin/alerts?muted=true)'),
});
