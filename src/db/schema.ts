import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Times are epoch milliseconds (integer) throughout: cheap to compare and index. */
const createdAt = () => integer('created_at').notNull().default(sql`(unixepoch('subsec') * 1000)`);

/** A sender of alerts. Its bearer token is stored only as a SHA-256 hash. */
export const sources = sqliteTable('sources', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: createdAt(),
});

/** A Discord channel that alerts are routed to; `isDefault` catches alerts no route matches. */
export const channels = sqliteTable('channels', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  discordChannelId: text('discord_channel_id').notNull(),
  isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
  createdAt: createdAt(),
});

/**
 * A member of a channel's webhook pool. `token` is a credential: never logged, never returned.
 * `state`: active (in rotation), quarantined (Discord said 401/404: out until an admin acts), removed.
 * `breaker*`: the per-webhook circuit breaker for 5xx and timeouts (closed, open, half_open).
 */
export const webhooks = sqliteTable(
  'webhooks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    discordWebhookId: text('discord_webhook_id').notNull(),
    token: text('token').notNull(),
    owner: text('owner', { enum: ['app', 'external'] }).notNull().default('external'),
    state: text('state', { enum: ['active', 'quarantined', 'removed'] }).notNull().default('active'),
    breakerState: text('breaker_state', { enum: ['closed', 'open', 'half_open'] }).notNull().default('closed'),
    breakerFailures: integer('breaker_failures').notNull().default(0),
    breakerOpenedAt: integer('breaker_opened_at'),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (t) => [index('webhooks_channel').on(t.channelId), uniqueIndex('webhooks_discord_id').on(t.discordWebhookId)],
);

/** A routing rule: alerts matching every given criterion go to `channelId`. Unset criteria match anything. */
export const routes = sqliteTable('routes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
  /** A glob such as `payments-*`. */
  service: text('service'),
  /** JSON array of severities, e.g. ["P0","P1"]. */
  severities: text('severities', { mode: 'json' }).$type<string[]>(),
  environment: text('environment'),
  /** JSON object: every key must be present on the alert with the same value. */
  labels: text('labels', { mode: 'json' }).$type<Record<string, string>>(),
  createdAt: createdAt(),
});

export const alerts = sqliteTable(
  'alerts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').references(() => sources.id, { onDelete: 'set null' }),
    service: text('service').notNull(),
    severity: text('severity', { enum: ['P0', 'P1', 'P2', 'P3'] }).notNull(),
    title: text('title').notNull(),
    description: text('description'),
    status: text('status', { enum: ['firing', 'resolved'] }).notNull().default('firing'),
    dedupKey: text('dedup_key'),
    environment: text('environment'),
    labels: text('labels', { mode: 'json' }).$type<Record<string, string>>(),
    fields: text('fields', { mode: 'json' }).$type<{ name: string; value: string }[]>(),
    links: text('links', { mode: 'json' }).$type<{ title: string; url: string }[]>(),
    /** True when no route and no default channel matched: kept and listed, never dropped. */
    unrouted: integer('unrouted', { mode: 'boolean' }).notNull().default(false),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [index('alerts_dedup').on(t.dedupKey), index('alerts_unrouted').on(t.unrouted)],
);

/**
 * The outbox: one row per (alert, channel) message to send. A delivery is a row before it is a request.
 * `sortKey` = created + priority × aging step: P0 first, yet an old P3 eventually overtakes new P2s.
 * `state`: pending → leased (a send in flight, until `leaseUntil`) → sent | dead.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    alertId: integer('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    priority: integer('priority').notNull(),
    sortKey: integer('sort_key').notNull(),
    state: text('state', { enum: ['pending', 'leased', 'sent', 'dead'] }).notNull().default('pending'),
    availableAt: integer('available_at').notNull(),
    leaseUntil: integer('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    /**
     * How cautiously to render after Discord answered 400: 0 normal (may be packed with others),
     * 1 sent alone, 2 sent alone in the degraded form. A 400 at level 2 dead-letters.
     */
    renderLevel: integer('render_level').notNull().default(0),
    lastError: text('last_error'),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    discordMessageId: text('discord_message_id'),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
  },
  (t) => [
    index('deliveries_queue').on(t.channelId, t.state, t.sortKey),
    index('deliveries_urgent').on(t.channelId, t.state, t.priority, t.sortKey),
    index('deliveries_alert').on(t.alertId),
    index('deliveries_state').on(t.state, t.priority),
    index('deliveries_available').on(t.channelId, t.state, t.availableAt),
    index('deliveries_sent').on(t.channelId, t.sentAt),
  ],
);

/** Every request Herald made to Discord, successful or not. */
export const attempts = sqliteTable(
  'attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: integer('delivery_id').references(() => deliveries.id, { onDelete: 'cascade' }),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    at: integer('at').notNull(),
    /** HTTP status, or null when no answer came (timeout, connection error). */
    status: integer('status'),
    latencyMs: integer('latency_ms').notNull(),
    outcome: text('outcome').notNull(),
    error: text('error'),
    rateLimitScope: text('rate_limit_scope'),
  },
  (t) => [index('attempts_at').on(t.at), index('attempts_delivery').on(t.deliveryId)],
);

export const deadLetters = sqliteTable('dead_letters', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  deliveryId: integer('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
  reason: text('reason').notNull(),
  /** Discord's own error body (JSON text) when it gave one. */
  discordError: text('discord_error'),
  createdAt: integer('created_at').notNull(),
  replayedAt: integer('replayed_at'),
});

/** Admin-visible happenings that need a person: a webhook quarantined, a channel with no healthy webhook. */
export const events = sqliteTable('events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind').notNull(),
  channelId: integer('channel_id'),
  webhookId: integer('webhook_id'),
  message: text('message').notNull(),
  at: integer('at').notNull(),
});

/** Answers already given for an Idempotency-Key, so a retried POST queues nothing twice. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    sourceId: integer('source_id').notNull(),
    key: text('key').notNull(),
    response: text('response').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.key] })],
);
