import { sql } from 'drizzle-orm';
import { type AnyPgColumn, bigint, boolean, index, integer, json, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { BusinessHours } from '../../domain/hours.js';
import type { SourceMapping } from '../../domain/adapters/mapping.js';

/**
 * The PostgreSQL mirror of `../sqlite/schema.ts`: the same tables, column names, defaults, indexes (partial ones
 * too) and foreign keys, which `test/pg-schema.test.ts` holds in step; what each table and column means is said
 * there. What differs is only what PostgreSQL needs said:
 * - Epoch-ms times, `sort_key` (a time plus an aging offset) and `*_ms` durations (an auto-resolve after 30 days
 *   is past 2^31 ms) are `bigint`, read as JS numbers (exact below 2^53).
 * - Ids of tables that grow with traffic (alerts, deliveries, requests and their children) are `bigint`; those of
 *   what people configure (sources, channels, routes, …) `integer`. A foreign key has its target's type.
 * - SQLite's 0/1 flags are `boolean`. JSON is `jsonb`, since no query compares its text, except `labels`:
 *   `json` keeps the sender's key order, which cards and the console show (jsonb would sort the keys).
 * - Ids are identity columns `BY DEFAULT`, so rows copied from a SQLite file keep their ids.
 * Tables only several instances need (`lane_leases`) are at the end.
 */
const ms = (name: string) => bigint(name, { mode: 'number' });
/** Like SQLite's `unixepoch('subsec') * 1000`: the transaction's time in epoch ms. */
const createdAt = () => ms('created_at').notNull().default(sql`(floor(extract(epoch from now()) * 1000))::bigint`);
const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity();
const bigId = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();
const bigRef = (name: string) => bigint(name, { mode: 'number' });
const managedBy = () => text('managed_by', { enum: ['file'] });

export const sources = pgTable('sources', {
  id: id(),
  name: text('name').notNull().unique(),
  tokenHash: text('token_hash').notNull().unique(),
  format: text('format', { enum: ['native', 'alertmanager', 'pagerduty', 'jobs', 'pipeline', 'jobstatus'] }),
  autoResolveAfterMs: ms('auto_resolve_after_ms'),
  mapping: jsonb('mapping').$type<SourceMapping>(),
  managedBy: managedBy(),
  createdAt: createdAt(),
});

export const sourceSecrets = pgTable(
  'source_secrets',
  {
    id: id(),
    sourceId: integer('source_id').notNull().references(() => sources.id, { onDelete: 'cascade' }),
    secret: text('secret').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('source_secrets_source').on(t.sourceId)],
);

export const seenWebhookIds = pgTable(
  'seen_webhook_ids',
  {
    sourceId: integer('source_id').notNull(),
    messageId: text('message_id').notNull(),
    expiresAt: ms('expires_at').notNull(),
    response: text('response'),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.messageId] }), index('seen_webhook_ids_expires').on(t.expiresAt)],
);

export const channels = pgTable('channels', {
  id: id(),
  name: text('name').notNull().unique(),
  discordChannelId: text('discord_channel_id').notNull(),
  isDefault: boolean('is_default').notNull().default(false),
  kind: text('kind', { enum: ['text', 'forum'] }).notNull().default('text'),
  managedBy: managedBy(),
  removedAt: ms('removed_at'),
  createdAt: createdAt(),
});

export const webhooks = pgTable(
  'webhooks',
  {
    id: id(),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    discordWebhookId: text('discord_webhook_id').notNull(),
    token: text('token').notNull(),
    owner: text('owner', { enum: ['app', 'external'] }).notNull().default('external'),
    state: text('state', { enum: ['active', 'retired', 'quarantined', 'removed'] }).notNull().default('active'),
    breakerState: text('breaker_state', { enum: ['closed', 'open', 'half_open'] }).notNull().default('closed'),
    breakerFailures: integer('breaker_failures').notNull().default(0),
    breakerOpenedAt: ms('breaker_opened_at'),
    lastError: text('last_error'),
    goneAt: ms('gone_at'),
    managedBy: managedBy(),
    createdAt: createdAt(),
  },
  (t) => [index('webhooks_channel').on(t.channelId), uniqueIndex('webhooks_discord_id').on(t.discordWebhookId)],
);

export const routes = pgTable('routes', {
  id: id(),
  channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
  service: text('service'),
  severities: jsonb('severities').$type<string[]>(),
  environment: text('environment'),
  labels: json('labels').$type<Record<string, string>>(),
  escalationChainId: integer('escalation_chain_id').references((): AnyPgColumn => escalationChains.id, { onDelete: 'set null' }),
  businessHours: jsonb('business_hours').$type<BusinessHours>(),
  autoResolveAfterMs: ms('auto_resolve_after_ms'),
  threads: boolean('threads').notNull().default(false),
  groupBy: jsonb('group_by').$type<string[]>(),
  groupWaitMs: ms('group_wait_ms'),
  managedBy: managedBy(),
  configName: text('config_name'),
  createdAt: createdAt(),
});

export const incidents = pgTable(
  'incidents',
  {
    id: bigId(),
    sourceId: integer('source_id'),
    key: text('key').notNull(),
    title: text('title').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('incidents_key').on(t.sourceId, t.key)],
);

export const alerts = pgTable(
  'alerts',
  {
    id: bigId(),
    sourceId: integer('source_id').references(() => sources.id, { onDelete: 'set null' }),
    service: text('service').notNull(),
    severity: text('severity', { enum: ['P0', 'P1', 'P2', 'P3'] }).notNull(),
    title: text('title').notNull(),
    description: text('description'),
    status: text('status', { enum: ['firing', 'resolved'] }).notNull().default('firing'),
    dedupKey: text('dedup_key'),
    environment: text('environment'),
    labels: json('labels').$type<Record<string, string>>(),
    fields: jsonb('fields').$type<{ name: string; value: string }[]>(),
    links: jsonb('links').$type<{ title: string; url: string }[]>(),
    unrouted: boolean('unrouted').notNull().default(false),
    receivedAt: ms('received_at').notNull(),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedByUser: text('acknowledged_by_user'),
    acknowledgedAt: ms('acknowledged_at'),
    resolvedBy: text('resolved_by'),
    resolvedByUser: text('resolved_by_user'),
    resolvedAt: ms('resolved_at'),
    retractedAt: ms('retracted_at'),
    retractMode: text('retract_mode', { enum: ['delete', 'strike'] }),
    retractReason: text('retract_reason'),
    mutedByMuteId: integer('muted_by_mute_id'),
    changedAt: ms('changed_at'),
    occurrences: integer('occurrences').notNull().default(1),
    lastSeenAt: ms('last_seen_at'),
    reopenedAt: ms('reopened_at'),
    firingStartedAt: ms('firing_started_at'),
    incidentId: bigRef('incident_id'),
  },
  (t) => [
    index('alerts_dedup').on(t.dedupKey),
    index('alerts_incident').on(t.incidentId).where(sql`${t.incidentId} IS NOT NULL`),
    index('alerts_unrouted').on(t.unrouted),
    index('alerts_muted').on(t.mutedByMuteId).where(sql`${t.mutedByMuteId} IS NOT NULL`),
    index('alerts_keyless').on(t.service, t.title).where(sql`${t.dedupKey} IS NULL`),
  ],
);

export const alertActions = pgTable(
  'alert_actions',
  {
    id: bigId(),
    alertId: bigRef('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['ack', 'resolve', 'retract', 'mute', 'unmute', 'reopen'] }).notNull(),
    actorKind: text('actor_kind', { enum: ['discord', 'admin', 'system'] }).notNull(),
    actorUserId: text('actor_user_id'),
    actorName: text('actor_name').notNull(),
    reason: text('reason'),
    at: ms('at').notNull(),
  },
  (t) => [index('alert_actions_alert').on(t.alertId)],
);

export const mutes = pgTable(
  'mutes',
  {
    id: id(),
    service: text('service'),
    title: text('title'),
    routeId: integer('route_id'),
    dedupKey: text('dedup_key'),
    incidentKey: text('incident_key'),
    sourceId: integer('source_id'),
    reason: text('reason'),
    alertId: bigRef('alert_id'),
    createdBy: text('created_by').notNull(),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    endedAt: ms('ended_at'),
    managedBy: managedBy(),
    configName: text('config_name'),
    startsAt: ms('starts_at'),
    recurCron: text('recur_cron'),
    recurMs: ms('recur_ms'),
    recurTimezone: text('recur_timezone'),
  },
  (t) => [index('mutes_expires').on(t.expiresAt)],
);

export const deliveries = pgTable(
  'deliveries',
  {
    id: bigId(),
    alertId: bigRef('alert_id').references(() => alerts.id, { onDelete: 'cascade' }),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    priority: integer('priority').notNull(),
    mention: text('mention'),
    /** JSON of a WebhookMessage, parsed by the store's callers: kept as text, as SQLite does. */
    message: text('message'),
    sortKey: ms('sort_key').notNull(),
    state: text('state', { enum: ['pending', 'leased', 'sent', 'dead', 'cancelled', 'digest'] }).notNull().default('pending'),
    availableAt: ms('available_at').notNull(),
    leaseUntil: ms('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    renderLevel: integer('render_level').notNull().default(0),
    lastError: text('last_error'),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    discordMessageId: text('discord_message_id'),
    threadId: text('thread_id'),
    note: text('note', { enum: ['repeat', 'reopen', 'ack', 'resolve', 'escalation'] }),
    createdAt: ms('created_at').notNull(),
    sentAt: ms('sent_at'),
    stormId: integer('storm_id'),
  },
  (t) => [
    index('deliveries_storm').on(t.stormId).where(sql`${t.stormId} IS NOT NULL`),
    index('deliveries_queue').on(t.channelId, t.state, t.sortKey),
    index('deliveries_urgent').on(t.channelId, t.state, t.priority, t.sortKey),
    index('deliveries_alert').on(t.alertId),
    index('deliveries_state').on(t.state, t.priority),
    index('deliveries_available').on(t.channelId, t.state, t.availableAt),
    index('deliveries_sent').on(t.channelId, t.sentAt).where(sql`${t.sentAt} IS NOT NULL`),
    index('deliveries_message').on(t.discordMessageId).where(sql`${t.discordMessageId} IS NOT NULL`),
  ],
);

export const messageOps = pgTable(
  'message_ops',
  {
    id: bigId(),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    discordMessageId: text('discord_message_id').notNull(),
    deliveryId: bigRef('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: ['ack', 'resolve', 'retract', 'sync', 'repeat', 'reopen', 'thread', 'mute-end'] }).notNull(),
    via: text('via', { enum: ['webhook', 'bot'] }).notNull().default('webhook'),
    state: text('state', { enum: ['pending', 'leased', 'done', 'dead'] }).notNull().default('pending'),
    availableAt: ms('available_at').notNull(),
    leaseUntil: ms('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    outcome: text('outcome'),
    createdAt: ms('created_at').notNull(),
    doneAt: ms('done_at'),
  },
  (t) => [
    index('message_ops_queue').on(t.channelId, t.state, t.availableAt),
    index('message_ops_message').on(t.discordMessageId, t.state),
    index('message_ops_delivery').on(t.deliveryId),
  ],
);

export const attempts = pgTable(
  'attempts',
  {
    id: bigId(),
    deliveryId: bigRef('delivery_id').references(() => deliveries.id, { onDelete: 'cascade' }),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    at: ms('at').notNull(),
    status: integer('status'),
    latencyMs: integer('latency_ms').notNull(),
    outcome: text('outcome').notNull(),
    error: text('error'),
    rateLimitScope: text('rate_limit_scope'),
    opId: bigRef('op_id'),
  },
  (t) => [index('attempts_at').on(t.at), index('attempts_delivery').on(t.deliveryId)],
);

export const deadLetters = pgTable(
  'dead_letters',
  {
    id: bigId(),
    deliveryId: bigRef('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
    reason: text('reason').notNull(),
    /** Discord's error body as it came: text, as in SQLite (shown, never queried). */
    discordError: text('discord_error'),
    createdAt: ms('created_at').notNull(),
    replayedAt: ms('replayed_at'),
    opId: bigRef('op_id'),
  },
  (t) => [index('dead_letters_delivery').on(t.deliveryId)],
);

export const events = pgTable('events', {
  id: bigId(),
  kind: text('kind').notNull(),
  channelId: integer('channel_id'),
  webhookId: integer('webhook_id'),
  message: text('message').notNull(),
  at: ms('at').notNull(),
});

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    sourceId: integer('source_id').notNull(),
    key: text('key').notNull(),
    response: text('response').notNull(),
    bodyHash: text('body_hash'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.key] })],
);

export const outboundTargets = pgTable(
  'outbound_targets',
  {
    id: id(),
    routeId: integer('route_id').notNull().references(() => routes.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['slack', 'webhook'] }).notNull(),
    url: text('url').notNull(),
    secret: text('secret'),
    managedBy: managedBy(),
    createdAt: createdAt(),
  },
  (t) => [index('outbound_targets_route').on(t.routeId)],
);

export const outboundDeliveries = pgTable(
  'outbound_deliveries',
  {
    id: bigId(),
    targetId: integer('target_id').notNull().references(() => outboundTargets.id, { onDelete: 'cascade' }),
    alertId: bigRef('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    event: text('event', { enum: ['alert.firing', 'alert.resolved', 'alert.acknowledged'] }).notNull(),
    state: text('state', { enum: ['pending', 'leased', 'sent', 'dead'] }).notNull().default('pending'),
    availableAt: ms('available_at').notNull(),
    leaseUntil: ms('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: ms('created_at').notNull(),
    sentAt: ms('sent_at'),
    deadAt: ms('dead_at'),
    replayedAt: ms('replayed_at'),
  },
  (t) => [index('outbound_deliveries_queue').on(t.state, t.availableAt), index('outbound_deliveries_alert').on(t.alertId)],
);

export const escalationChains = pgTable('escalation_chains', {
  id: id(),
  name: text('name').notNull().unique(),
  repeats: integer('repeats').notNull().default(0),
  rearmAfterMs: ms('rearm_after_ms'),
  createdAt: createdAt(),
  managedBy: managedBy(),
});

export const escalationSteps = pgTable(
  'escalation_steps',
  {
    id: id(),
    chainId: integer('chain_id').notNull().references(() => escalationChains.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    delayMs: ms('delay_ms').notNull(),
    kind: text('kind', { enum: ['channel', 'role', 'user'] }).notNull(),
    target: text('target'),
    channelId: integer('channel_id').references(() => channels.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('escalation_steps_position').on(t.chainId, t.position)],
);

export const escalations = pgTable(
  'escalations',
  {
    id: bigId(),
    alertId: bigRef('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    chainId: integer('chain_id').notNull().references(() => escalationChains.id, { onDelete: 'cascade' }),
    channelIds: jsonb('channel_ids').$type<number[]>().notNull(),
    state: text('state', { enum: ['active', 'acked', 'done'] }).notNull().default('active'),
    stepIndex: integer('step_index').notNull().default(0),
    round: integer('round').notNull().default(0),
    cycle: integer('cycle').notNull().default(0),
    dueAt: ms('due_at').notNull(),
    ackSeenAt: ms('ack_seen_at'),
    incidentId: bigRef('incident_id'),
    reason: text('reason'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    index('escalations_due').on(t.state, t.dueAt),
    uniqueIndex('escalations_alert_chain').on(t.alertId, t.chainId),
    index('escalations_incident').on(t.incidentId, t.chainId).where(sql`${t.incidentId} IS NOT NULL`),
  ],
);

export const escalationRuns = pgTable(
  'escalation_runs',
  {
    id: bigId(),
    escalationId: bigRef('escalation_id').notNull().references(() => escalations.id, { onDelete: 'cascade' }),
    cycle: integer('cycle').notNull(),
    round: integer('round').notNull(),
    stepIndex: integer('step_index').notNull(),
    stepId: integer('step_id'),
    kind: text('kind').notNull(),
    target: text('target'),
    deliveries: integer('deliveries').notNull(),
    at: ms('at').notNull(),
  },
  (t) => [uniqueIndex('escalation_runs_once').on(t.escalationId, t.cycle, t.round, t.stepIndex)],
);

export const digestSettings = pgTable('digest_settings', {
  channelId: integer('channel_id').primaryKey().references(() => channels.id, { onDelete: 'cascade' }),
  enabled: boolean('enabled').notNull().default(true),
  time: text('time').notNull(),
  timezone: text('timezone').notNull(),
  lastSentAt: ms('last_sent_at'),
  managedBy: managedBy(),
  createdAt: createdAt(),
});

export const heartbeats = pgTable(
  'heartbeats',
  {
    id: id(),
    sourceId: integer('source_id').notNull().references(() => sources.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    intervalMs: ms('interval_ms').notNull(),
    graceMs: ms('grace_ms').notNull(),
    severity: text('severity', { enum: ['P0', 'P1', 'P2', 'P3'] }).notNull(),
    service: text('service').notNull(),
    environment: text('environment'),
    labels: json('labels').$type<Record<string, string>>(),
    lastBeatAt: ms('last_beat_at'),
    dueAt: ms('due_at').notNull(),
    state: text('state', { enum: ['ok', 'missed'] }).notNull().default('ok'),
    alertId: bigRef('alert_id').references(() => alerts.id, { onDelete: 'set null' }),
    missedAt: ms('missed_at'),
    managedBy: managedBy(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [uniqueIndex('heartbeats_source_name').on(t.sourceId, t.name), index('heartbeats_due').on(t.state, t.dueAt)],
);

export const storms = pgTable(
  'storms',
  {
    id: id(),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    startedAt: ms('started_at').notNull(),
    endedAt: ms('ended_at'),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    summaryMessageId: text('summary_message_id'),
  },
  (t) => [index('storms_channel').on(t.channelId, t.endedAt)],
);

/**
 * Several instances (issue 12): which instance runs a channel's lane (`leases.ts`), so that one instance at a time
 * spends the channel's Discord budget. A row per channel ever leased; it is free when `expires_at` has passed (or
 * the row is gone: released). `expires_at` is a timestamptz set and compared only by the database's clock, never
 * an instance's: its type keeps it from being compared with the epoch-ms times of the other tables.
 */
export const laneLeases = pgTable('lane_leases', {
  channelId: integer('channel_id').primaryKey().references(() => channels.id, { onDelete: 'cascade' }),
  /** The owning instance's id: any text unique to one running instance and the same for its whole run. */
  owner: text('owner').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});
