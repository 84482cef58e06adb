import { z } from 'zod';
import { FORMATS } from '../domain/adapters/index.js';
import { SEVERITIES } from '../domain/alert.js';
import { OUTSIDE_HOURS, WEEKDAYS } from '../domain/hours.js';

/**
 * The one definition of each resource as the services return it and the admin API answers it: the
 * services' view types are inferred from these schemas, which also document the API (OpenAPI) and
 * make the serializer send only these fields. Change a view here, and both follow.
 */
export const createdId = z.object({ id: z.number() });

/** Present on objects the configuration file manages (docs/config-file.md): they are changed by editing the file. */
const managedByField = z.literal('file').optional().describe('"file": managed by the configuration file (HERALD_CONFIG); the API refuses to change it (409). Absent: made through the API');

export const sourceView = z.object({ id: z.number(), name: z.string(), created_at: z.number() });
export type SourceView = z.output<typeof sourceView>;
export const createdSource = z.object({
  id: z.number(),
  name: z.string(),
  token: z.string().describe('Bearer token for POST /v1/alerts. Shown only in this answer: store it now.'),
});
export type CreatedSource = z.output<typeof createdSource>;
export const secretView = z.object({
  id: z.number(),
  hint: z.string().describe("The secret's last 4 characters, to tell secrets apart; the secret itself is never shown again"),
  created_at: z.number(),
});
export type SecretView = z.output<typeof secretView>;
const severityLevel = z.enum(SEVERITIES);
export const sourceMappingView = z
  .object({
    severity_label: z.string().optional(),
    severity_words: z.record(z.string(), severityLevel).optional().describe('Lower-case, as they are compared'),
    default_severity: severityLevel.optional(),
    service_labels: z.array(z.string()).optional(),
  })
  .describe("The source's own severity and service mapping; what it leaves out keeps the format's built-in tables (docs/senders.md)");
export const sourceDetail = sourceView.extend({
  format: z.enum(FORMATS),
  auto_resolve_after_ms: z.number().optional().describe('A firing alert of this source with no repeat for this long resolves as stale; absent: never'),
  mapping: sourceMappingView.optional().describe('Absent: the built-in tables'),
  secrets: z.array(secretView).describe('Standard Webhooks secrets: when there is any, requests must be signed with one of them'),
});
export type SourceDetail = z.output<typeof sourceDetail>;
export const createdSecret = z.object({
  id: z.number(),
  secret: z.string().describe('The whsec_ secret: shown only in this answer. Configure the sender with it.'),
  created_at: z.number(),
});

export const channelView = z.object({
  id: z.number(),
  name: z.string(),
  discord_channel_id: z.string(),
  default: z.boolean(),
  created_at: z.number(),
  webhooks: z.object({ active: z.number(), quarantined: z.number() }),
  backlog: z.number().describe('Deliveries queued or in flight'),
  kind: z.literal('forum').optional().describe('A forum channel: each card is a post (thread) of its own; absent: a text channel'),
  managed_by: managedByField,
});
export type ChannelView = z.output<typeof channelView>;

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
  managed_by: managedByField,
});
export type WebhookView = z.output<typeof webhookView>;

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
  auto_resolve_after_ms: z.number().optional().describe('A firing alert this route matches with no repeat for this long resolves as stale; absent: never'),
  threads: z.literal(true).optional().describe('Each card gets a thread for its follow-ups (repeats, acknowledgement, resolve, escalation mentions); absent: no threads'),
  group_by: z.array(z.string()).optional().describe('Alerts this route matches are grouped into incidents by the values of these labels (["..."]: every label); absent: no grouping by this route'),
  group_wait_ms: z.number().optional().describe("How long an incident's first card waits for more members; absent: the default, 5000"),
  managed_by: managedByField,
  name: z.string().optional().describe("A file-managed route's name in the configuration file"),
  created_at: z.number(),
});
export type RouteView = z.output<typeof routeView>;

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
  occurrences: z.number().describe('How often it fired (repeats of its dedup key folded in; a re-send of the same firing, same firing_started_at, is not counted); 0: a resolved that had nothing to resolve'),
  last_seen_at: z.number().nullable().describe('When its sender last sent it again, a new firing or a re-send of the same one (null: only once)'),
  reopened_at: z.number().nullable().describe('When it last fired again after it resolved, reopening it'),
  firing_started_at: z.number().nullable().describe("When the firing last notified started, by its sender's clock (Alertmanager's startsAt); null for senders without one"),
});
export type AlertView = z.output<typeof alertView>;

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
export type DeliveryView = z.output<typeof deliveryView>;

export const alertDetail = alertView.extend({
  deliveries: z.array(deliveryView),
  incident_id: z.number().optional().describe('The incident it belongs to (GET /v1/admin/incidents/{id}); absent: none, an incident of one'),
});
export type AlertDetail = z.output<typeof alertDetail>;

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
export type DeadLetterView = z.output<typeof deadLetterView>;

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
export type AttemptView = z.output<typeof attemptView>;

export const eventView = z.object({
  id: z.number(),
  kind: z.string(),
  channel_id: z.number().nullable(),
  webhook_id: z.number().nullable(),
  message: z.string(),
  at: z.number(),
});
export type EventView = z.output<typeof eventView>;

export const laneView = z.object({
  channel_id: z.number(),
  backlog: z.number(),
  webhooks: z.number(),
  budget: z.object({ cap: z.number(), effective_cap: z.number(), in_window: z.number(), in_flight: z.number(), blocked_until: z.number() }),
});
export type LaneView = z.output<typeof laneView>;

export const statusView = z.object({
  queue_depth_by_priority: z.object({ P0: z.number(), P1: z.number(), P2: z.number(), P3: z.number() }).describe('Deliveries queued or in flight, by severity'),
  lanes: z.array(laneView),
  dead_letters_pending: z.number().describe('Dead letters not replayed yet'),
  breakers: z.record(z.string(), z.number()).describe('Active webhooks by breaker state'),
});
export type StatusView = z.output<typeof statusView>;

export const muteView = z.object({
  id: z.number(),
  service: z.string().nullable(),
  title: z.string().nullable().describe('With service: only alerts with this exact title'),
  route_id: z.number().nullable(),
  dedup_key: z.string().nullable(),
  source_id: z.number().nullable().describe("With dedup_key: the only source whose alerts it mutes; null: every source's"),
  reason: z.string().nullable(),
  created_by: z.string(),
  created_at: z.number(),
  expires_at: z.number(),
  ended_at: z.number().nullable().describe('Set when it was lifted before it expired'),
  active: z.boolean().describe('Not ended and not expired (a maintenance window: and open now)'),
  muted_alerts: z.number().describe('Alerts it silenced: stored, not delivered (GET /v1/admin/alerts?muted=true)'),
  incident_key: z.string().optional().describe("Made from an incident card's Mute: the group's later members (of source_id) are muted; absent otherwise"),
  name: z.string().optional().describe("A maintenance window's name in the configuration file"),
  starts_at: z.number().optional().describe('A one-off maintenance window: when it opens (expires_at: when it closes)'),
  recurrence: z
    .object({ cron: z.string(), duration_ms: z.number(), timezone: z.string() })
    .optional()
    .describe('A recurring maintenance window: open for duration_ms from each time cron fires (in timezone)'),
  managed_by: managedByField,
});
export type MuteView = z.output<typeof muteView>;

export const digestSettingView = z.object({
  channel_id: z.number(),
  enabled: z.boolean(),
  time: z.string().describe('HH:MM in `timezone`'),
  timezone: z.string(),
  last_sent_at: z.number().nullable().describe('The end of the period last posted'),
});
export type DigestSettingView = z.output<typeof digestSettingView>;

// The digest report's schema lives with its type in domain/ (cards render it; the admin API answers it).
export { digestReport, digestRow, type DigestReport, type DigestRow } from '../domain/digest.js';

export const stepView = z.object({
  id: z.number(),
  position: z.number().describe('Order in the chain, from 0'),
  kind: z.enum(['channel', 'role', 'user']),
  delay_ms: z.number(),
  target: z.string().nullable().describe('The mentioned role or user id'),
  channel_id: z.number().nullable(),
});
export type StepView = z.output<typeof stepView>;

export const chainView = z.object({
  id: z.number(),
  name: z.string(),
  repeats: z.number().describe('Extra runs of the whole chain after the first'),
  rearm_after_ms: z.number().nullable(),
  steps: z.array(stepView),
  route_ids: z.array(z.number()).describe('Routes that arm this chain'),
  created_at: z.number(),
});
export type ChainView = z.output<typeof chainView>;

export const escalationView = z.object({
  id: z.number(),
  alert_id: z.number(),
  chain_id: z.number(),
  state: z.enum(['active', 'acked', 'done']).describe('active: a step is due at due_at; acked: re-armed at due_at unless resolved; done: see reason'),
  step_index: z.number().describe('The next step to run'),
  round: z.number(),
  cycle: z.number().describe('Re-arms after an acknowledgement so far'),
  due_at: z.number(),
  reason: z.string().nullable(),
  runs: z.array(
    z.object({ cycle: z.number(), round: z.number(), step_index: z.number(), kind: z.string(), target: z.string().nullable(), deliveries: z.number(), at: z.number() }),
  ),
});
export type EscalationView = z.output<typeof escalationView>;

export const heartbeatView = z.object({
  id: z.number(),
  source_id: z.number(),
  source_name: z.string(),
  name: z.string().describe('Beat with POST /v1/heartbeats/{name} and the source\'s token'),
  interval_ms: z.number(),
  grace_ms: z.number(),
  severity,
  service: z.string(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()).nullable(),
  state: z.enum(['ok', 'missed']).describe('missed: no beat by due_at; its alert (alert_id) is firing until the next beat'),
  last_beat_at: z.number().nullable().describe('Null: no beat since it was declared'),
  due_at: z.number().describe('Missed if no beat comes before then (last beat, or declaration, + interval + grace)'),
  alert_id: z.number().nullable().describe('The alert raised for the current miss (null when none is open)'),
  missed_at: z.number().nullable().describe('When the last miss was raised'),
  created_at: z.number(),
});
export type HeartbeatView = z.output<typeof heartbeatView>;

export const beatView = z.object({
  name: z.string(),
  state: z.literal('ok'),
  last_beat_at: z.number(),
  due_at: z.number().describe('The next beat is due before then'),
  resolved_alert_id: z.number().nullable().describe('The missed-heartbeat alert this beat resolved, if the heartbeat was missed'),
});
export type BeatView = z.output<typeof beatView>;

export const incidentView = z.object({
  id: z.number(),
  source_id: z.number().nullable(),
  key: z.string().describe("The group within its source: `am:<groupKey>` (Alertmanager), `group:<name>` (a native alert's group), `route:<id>:<label values>` (a route's group_by)"),
  title: z.string().describe("What its cards are headed with: the group's labels, or the group's name"),
  created_at: z.number(),
  status: z.enum(['firing', 'resolved']).describe('resolved: its last firing member resolved (or every member was retracted)'),
  severity: severity.nullable().describe('Its worst firing member\'s severity (with none firing: its worst member\'s)'),
  members: z.number(),
  firing: z.number(),
  acknowledged: z.number().describe('Firing members acknowledged'),
  resolved: z.number(),
  retracted: z.number(),
  acknowledged_at: z.number().nullable().describe('Set while every firing member is acknowledged: the latest of those acknowledgements'),
  resolved_at: z.number().nullable().describe('Once resolved: when its last member resolved'),
});
export type IncidentView = z.output<typeof incidentView>;

export const incidentMemberView = z.object({
  id: z.number(),
  service: z.string(),
  severity,
  title: z.string(),
  status: z.enum(['firing', 'resolved']),
  dedup_key: z.string().nullable(),
  received_at: z.number(),
  acknowledged_at: z.number().nullable(),
  resolved_at: z.number().nullable(),
  retracted_at: z.number().nullable(),
});

export const incidentDetail = incidentView.extend({ alerts: z.array(incidentMemberView).describe('Its members, oldest first (GET /v1/admin/alerts/{id} for each one\'s deliveries)') });
export type IncidentDetail = z.output<typeof incidentDetail>;

/** What acting on an incident did: the incident now, and the members the action changed (empty: nothing to do). */
export const incidentActionView = z.object({ incident: incidentDetail, changed: z.array(z.number()).describe('The members it acknowledged or resolved') });
