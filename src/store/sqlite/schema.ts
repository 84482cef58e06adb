import { sql } from 'drizzle-orm';
import { type AnySQLiteColumn, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { BusinessHours } from '../../domain/hours.js';
import type { SourceMapping } from '../../domain/adapters/mapping.js';

/** Times are epoch milliseconds (integer) throughout: cheap to compare and index. */
const createdAt = () => integer('created_at').notNull().default(sql`(unixepoch('subsec') * 1000)`);

/**
 * Who owns an object's settings: null for the admin API and slash commands, `file` for the configuration
 * file (HERALD_CONFIG, services/config/): a file-managed object is changed only by reloading the file.
 */
const managedBy = () => text('managed_by', { enum: ['file'] });

/** A sender of alerts. Its bearer token is stored only as a SHA-256 hash. */
export const sources = sqliteTable('sources', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  tokenHash: text('token_hash').notNull().unique(),
  /** The payload format the hook expects from this sender when the request has no `?format=` (null: native). */
  format: text('format', { enum: ['native', 'alertmanager', 'pagerduty', 'jobs', 'pipeline', 'jobstatus'] }),
  /** A firing alert of this source with no repeat for this long resolves as stale (services/auto-resolve.ts); null: never. */
  autoResolveAfterMs: integer('auto_resolve_after_ms'),
  /** The source's own severity and service mapping (domain/adapters/mapping.ts); null: the formats' built-in tables. */
  mapping: text('mapping', { mode: 'json' }).$type<SourceMapping>(),
  managedBy: managedBy(),
  createdAt: createdAt(),
});

/**
 * Standard Webhooks signing secrets of a source (`whsec_<base64>`), several at once for key rotation.
 * HMAC verification needs the secret itself, so it is stored as given (like a Discord webhook token):
 * shown once when created, never returned or logged again (listed by id and a 4-character hint).
 */
export const sourceSecrets = sqliteTable(
  'source_secrets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').notNull().references(() => sources.id, { onDelete: 'cascade' }),
    secret: text('secret').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('source_secrets_source').on(t.sourceId)],
);

/**
 * `webhook-id`s of signed requests already stored, with the answer given, so a sender's retry (or a
 * replay) of the same message gets that answer again and stores nothing. Kept until `expiresAt`
 * (see ingest/replay.ts: longer than senders retry).
 */
export const seenWebhookIds = sqliteTable(
  'seen_webhook_ids',
  {
    sourceId: integer('source_id').notNull(),
    messageId: text('message_id').notNull(),
    expiresAt: integer('expires_at').notNull(),
    /** The first answer (`{"ids": […]}`), given again to the sender's retries of the same message. */
    response: text('response'),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.messageId] }), index('seen_webhook_ids_expires').on(t.expiresAt)],
);

/** A Discord channel that alerts are routed to; `isDefault` catches alerts no route matches. */
export const channels = sqliteTable('channels', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  discordChannelId: text('discord_channel_id').notNull(),
  isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
  /** A text channel, or a forum (Discord type 15): in a forum every card is a post of its own (a thread, `thread_name`). */
  kind: text('kind', { enum: ['text', 'forum'] }).notNull().default('text'),
  managedBy: managedBy(),
  /**
   * Set when the configuration file dropped the channel: its pending deliveries were dead-lettered, its webhooks
   * forgotten, and the row stays so those dead letters keep their channel (a channel deleted through the API
   * goes with its deliveries). The same name in the file later brings it back.
   */
  removedAt: integer('removed_at'),
  createdAt: createdAt(),
});

/**
 * A member of a channel's webhook pool. `token` is a credential: never logged, never returned.
 * `state`: active (in rotation), retired (rotated out: no new posts, still edits and deletes its own
 * messages, since only the webhook that posted a message can edit it), quarantined (Discord said
 * 401/404: out until an admin acts), removed.
 * `goneAt`: when Discord said the webhook no longer exists (or Herald deleted it): edits of its
 * messages then go straight to the bot instead of hammering a dead webhook.
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
    state: text('state', { enum: ['active', 'retired', 'quarantined', 'removed'] }).notNull().default('active'),
    breakerState: text('breaker_state', { enum: ['closed', 'open', 'half_open'] }).notNull().default('closed'),
    breakerFailures: integer('breaker_failures').notNull().default(0),
    breakerOpenedAt: integer('breaker_opened_at'),
    lastError: text('last_error'),
    goneAt: integer('gone_at'),
    managedBy: managedBy(),
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
  /** The escalation chain armed for alerts this route matches (issue 4: src/escalation). */
  escalationChainId: integer('escalation_chain_id').references((): AnySQLiteColumn => escalationChains.id, { onDelete: 'set null' }),
  /** Business hours (domain/hours.ts): outside them P2/P3 wait or go only to the digest; null: always open. */
  businessHours: text('business_hours', { mode: 'json' }).$type<BusinessHours>(),
  /** A firing alert this route matches with no repeat for this long resolves as stale (services/auto-resolve.ts); null: never. */
  autoResolveAfterMs: integer('auto_resolve_after_ms'),
  /** Each card of an alert this route matches gets a thread for its follow-ups (issue 10 §3; needs the bot in a text channel). */
  threads: integer('threads', { mode: 'boolean' }).notNull().default(false),
  /**
   * Incidents (issue 10 §1): the label names whose values make the incident key of the alerts this route matches
   * (Alertmanager's `group_by`; `["..."]`: every label). Null or empty: no grouping by this route.
   */
  groupBy: text('group_by', { mode: 'json' }).$type<string[]>(),
  /** How long an incident's first card waits for more members (null: the default, 5 s; 0: posted at once). */
  groupWaitMs: integer('group_wait_ms'),
  managedBy: managedBy(),
  /** A file-managed route's `name` in the file (its identity across edits); null for an unnamed one, matched by its criteria. */
  configName: text('config_name'),
  createdAt: createdAt(),
});

/**
 * An incident (issue 10 §1): the alerts of one group of one source, shown as one card per channel. `key` is
 * the group's identity within its source (an Alertmanager `groupKey`, a native alert's `group`, or a route's
 * `group_by` label values: domain/incidents.ts); `title` what its card is headed with. Its state (firing,
 * acknowledged, resolved) is its members', read from the alerts (`alerts.incident_id`), never stored twice.
 * No foreign key on `source_id`: like mutes, deleting a source must not merge its incidents with nobody's.
 */
export const incidents = sqliteTable(
  'incidents',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id'),
    key: text('key').notNull(),
    title: text('title').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('incidents_key').on(t.sourceId, t.key)],
);

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
    /** Lifecycle, set by the services in services/lifecycle.ts. `*By` is a display name, `*ByUser` a Discord user id. */
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedByUser: text('acknowledged_by_user'),
    acknowledgedAt: integer('acknowledged_at'),
    resolvedBy: text('resolved_by'),
    resolvedByUser: text('resolved_by_user'),
    resolvedAt: integer('resolved_at'),
    retractedAt: integer('retracted_at'),
    retractMode: text('retract_mode', { enum: ['delete', 'strike'] }),
    retractReason: text('retract_reason'),
    /** The mute that silenced this alert at ingest: stored, never delivered. */
    mutedByMuteId: integer('muted_by_mute_id'),
    /** Bumped by every lifecycle change: a send rendered before a change is followed by an edit. */
    changedAt: integer('changed_at'),
    /** Grouping (pipeline/dedup-stage.ts): how often it fired (repeats folded in), when last, when it last reopened. */
    occurrences: integer('occurrences').notNull().default(1),
    lastSeenAt: integer('last_seen_at'),
    reopenedAt: integer('reopened_at'),
    /**
     * When the firing last notified started, by its sender's clock (Alertmanager's startsAt; null for
     * senders without one): a re-send with the same start is a notification, not another firing.
     */
    firingStartedAt: integer('firing_started_at'),
    /** The incident it belongs to (incidents.id); null: it belongs to no group, an incident of one shown as its own card. */
    incidentId: integer('incident_id'),
  },
  (t) => [
    index('alerts_dedup').on(t.dedupKey),
    // Partial: an ungrouped alert (the common case, and every alert of the ingest bench) pays nothing for it.
    index('alerts_incident').on(t.incidentId).where(sql`${t.incidentId} IS NOT NULL`),
    index('alerts_unrouted').on(t.unrouted),
    // Partial where most rows hold NULL (the column is set on few rows, or only later): such a row costs no
    // index entry, and every query of these columns compares them (`=`, `>`, `is not null`), which implies
    // the index's condition, so SQLite still uses it.
    index('alerts_muted').on(t.mutedByMuteId).where(sql`${t.mutedByMuteId} IS NOT NULL`),
    // For a sender's resolved without a dedup key (same service and title); partial, so keyed alerts pay nothing for it.
    index('alerts_keyless').on(t.service, t.title).where(sql`${t.dedupKey} IS NULL`),
  ],
);

/** Who did what to an alert, and why: acknowledge, resolve, retract, mute, unmute. */
export const alertActions = sqliteTable(
  'alert_actions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    alertId: integer('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['ack', 'resolve', 'retract', 'mute', 'unmute', 'reopen'] }).notNull(),
    actorKind: text('actor_kind', { enum: ['discord', 'admin', 'system'] }).notNull(),
    actorUserId: text('actor_user_id'),
    actorName: text('actor_name').notNull(),
    reason: text('reason'),
    at: integer('at').notNull(),
  },
  (t) => [index('alert_actions_alert').on(t.alertId)],
);

/**
 * A mute: alerts matching it until `expiresAt` are stored (with the mute's id) but not delivered.
 * Exactly one of service (a glob, or an exact name when `title` is set too), routeId, dedupKey, incidentKey (the "Mute" button of an incident card).
 * `endedAt`: unmuted early; the row stays so muted alerts keep pointing at it.
 */
export const mutes = sqliteTable(
  'mutes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    service: text('service'),
    title: text('title'),
    routeId: integer('route_id'),
    dedupKey: text('dedup_key'),
    /** An incident's key (incidents.key): the group's later members are muted too; scoped to `sourceId`. */
    incidentKey: text('incident_key'),
    /**
     * With `dedupKey` or `incidentKey`: only that source's alerts (a dedup key is its sender's own name for a problem).
     * Null: any source's. No foreign key: deleting the source must not widen the mute to every source.
     */
    sourceId: integer('source_id'),
    reason: text('reason'),
    /** The alert a "Mute 1h" button was pressed on, if any. */
    alertId: integer('alert_id'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    endedAt: integer('ended_at'),
    managedBy: managedBy(),
    /** A maintenance window's name in the configuration file. */
    configName: text('config_name'),
    /** A maintenance window: it silences nothing before this (null: from its creation). */
    startsAt: integer('starts_at'),
    /** A recurring window: in force for `recurMs` from each time this cron expression fires (in `recurTimezone`). */
    recurCron: text('recur_cron'),
    recurMs: integer('recur_ms'),
    recurTimezone: text('recur_timezone'),
  },
  (t) => [index('mutes_expires').on(t.expiresAt)],
);

/**
 * The outbox: one row per (alert, channel) message to send. A delivery is a row before it is a request.
 * `sortKey` = created + priority × aging step: P0 first, yet an old P3 eventually overtakes new P2s.
 * `state`: pending → leased (a send in flight, until `leaseUntil`) → sent | dead; pending → cancelled (retracted).
 * `digest`: outside its route's business hours, with the route set to "digest only": never sent, counted by the digest.
 * A P2/P3 waiting for business hours is `pending` with `availableAt` at the window's opening (and `createdAt` too,
 * so the age limit counts from when it could first go).
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Null only for a message that is about no alert (a daily digest: see `message`). */
    alertId: integer('alert_id').references(() => alerts.id, { onDelete: 'cascade' }),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    priority: integer('priority').notNull(),
    /**
     * An escalation step's mention, `role:<id>` or `user:<id>`: the alert's card is sent alone with the
     * mention as content and allowed_mentions naming exactly it (nothing else may ping).
     */
    mention: text('mention'),
    /** A message rendered in advance (JSON of a WebhookMessage) for a delivery about no alert: a digest. */
    message: text('message'),
    sortKey: integer('sort_key').notNull(),
    /** `cancelled`: its alert was retracted before it was sent. */
    state: text('state', { enum: ['pending', 'leased', 'sent', 'dead', 'cancelled', 'digest'] }).notNull().default('pending'),
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
    /**
     * Threads (delivery/threads.ts). On a card: the Discord id of the thread started from it (text channel) or
     * that it opened (forum post), once it exists. On a follow-up (`note`): the thread it is posted into; null
     * after the thread was found locked or deleted (then it goes to the channel).
     */
    threadId: text('thread_id'),
    /** A short follow-up in the card's thread instead of a card: repeat, reopen, ack, resolve, escalation (with `mention`). */
    note: text('note', { enum: ['repeat', 'reopen', 'ack', 'resolve', 'escalation'] }),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    /**
     * The storm (storms.id) it was posted in, as one line of a compact storm message; null: posted as a card.
     * No foreign key: SQLite's ADD COLUMN cannot carry ON DELETE, and a number whose storm row is gone harms nothing.
     */
    stormId: integer('storm_id'),
  },
  (t) => [
    // Partial, like alerts_muted: a delivery gets its storm, message id and sent time only when it is posted.
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

/**
 * The outbox of operations on messages already sent: bring a message in line with its alerts' current
 * state. A row before it is a request, like a delivery. At send time the lane renders the message's
 * alerts as they are now (so quick successive actions collapse into one request) and edits it, or
 * deletes it when none of its alerts may be shown any more.
 * `via`: 'webhook' (the one that posted it, even retired) or 'bot' (that webhook is gone: the bot deletes
 * the message and, unless its alerts were retracted, the card is reposted as a new delivery).
 * `purpose`: the action that asked for it (ack, resolve, retract, sync; repeat and reopen: a sender's repeat folded in; `mute-end`: an
 * incident card's edit queued for when its group's mute runs out, available then). `outcome`: what finally happened.
 * `state`: pending → leased → done | dead.
 */
export const messageOps = sqliteTable(
  'message_ops',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    discordMessageId: text('discord_message_id').notNull(),
    /** A delivery that put this message there (any of them, for packed messages): for dead letters and history. */
    deliveryId: integer('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
    /** `thread`: the bot starts the card's thread from the message (a threads route in a text channel; via 'bot'). */
    purpose: text('purpose', { enum: ['ack', 'resolve', 'retract', 'sync', 'repeat', 'reopen', 'thread', 'mute-end'] }).notNull(),
    via: text('via', { enum: ['webhook', 'bot'] }).notNull().default('webhook'),
    state: text('state', { enum: ['pending', 'leased', 'done', 'dead'] }).notNull().default('pending'),
    availableAt: integer('available_at').notNull(),
    leaseUntil: integer('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    outcome: text('outcome'),
    createdAt: integer('created_at').notNull(),
    doneAt: integer('done_at'),
  },
  (t) => [
    index('message_ops_queue').on(t.channelId, t.state, t.availableAt),
    index('message_ops_message').on(t.discordMessageId, t.state),
    // Deleting a delivery (retention) makes SQLite look for its children: without this, a full scan per delivery.
    index('message_ops_delivery').on(t.deliveryId),
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
    /** Set for requests that edited or deleted a sent message (then `deliveryId` is the message's delivery). */
    opId: integer('op_id'),
  },
  (t) => [index('attempts_at').on(t.at), index('attempts_delivery').on(t.deliveryId)],
);

export const deadLetters = sqliteTable(
  'dead_letters',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: integer('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
    reason: text('reason').notNull(),
    /** Discord's own error body (JSON text) when it gave one. */
    discordError: text('discord_error'),
    createdAt: integer('created_at').notNull(),
    replayedAt: integer('replayed_at'),
    /** Set when what was given up on is an edit or delete of the delivery's message, not the delivery itself. */
    opId: integer('op_id'),
  },
  // Like message_ops_delivery: deleting a delivery (retention) looks its dead letters up by this.
  (t) => [index('dead_letters_delivery').on(t.deliveryId)],
);

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
    /** SHA-256 of the request (query and raw body): the key reused with another body is refused. Null for keys stored before. */
    bodyHash: text('body_hash'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.key] })],
);

/**
 * Outbound targets beyond Discord, per route: a Slack-compatible incoming webhook (`{"text": …}`) or a
 * generic JSON webhook signed with Standard Webhooks headers (`secret`, `whsec_…`). `url` is a
 * credential (Slack's carries its token): never logged or returned unmasked.
 */
export const outboundTargets = sqliteTable(
  'outbound_targets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    routeId: integer('route_id').notNull().references(() => routes.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['slack', 'webhook'] }).notNull(),
    url: text('url').notNull(),
    secret: text('secret'),
    managedBy: managedBy(),
    createdAt: createdAt(),
  },
  (t) => [index('outbound_targets_route').on(t.routeId)],
);

/**
 * The outbox of outbound targets: one row per (alert event, target), a row before it is a request, with
 * a lease, retries with the same backoff as Discord deliveries, and `dead` as its dead letter.
 * `event`: what the message says (alert.firing, alert.resolved, alert.acknowledged).
 */
export const outboundDeliveries = sqliteTable(
  'outbound_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    targetId: integer('target_id').notNull().references(() => outboundTargets.id, { onDelete: 'cascade' }),
    alertId: integer('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    event: text('event', { enum: ['alert.firing', 'alert.resolved', 'alert.acknowledged'] }).notNull(),
    state: text('state', { enum: ['pending', 'leased', 'sent', 'dead'] }).notNull().default('pending'),
    availableAt: integer('available_at').notNull(),
    leaseUntil: integer('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    /** When it was given up on (its dead letter), and when an admin replayed it. */
    deadAt: integer('dead_at'),
    replayedAt: integer('replayed_at'),
  },
  (t) => [index('outbound_deliveries_queue').on(t.state, t.availableAt), index('outbound_deliveries_alert').on(t.alertId)],
);

/**
 * An escalation chain: ordered steps, each after a delay (from the previous step, or from the alert for
 * the first): notify a channel, mention a role, mention a user. The whole chain runs 1 + `repeats`
 * times unless the alert is acknowledged or resolved; an acknowledgement not followed by a resolve
 * within `rearmAfterMs` re-arms it (null: an acknowledgement stops it for good).
 */
export const escalationChains = sqliteTable('escalation_chains', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  repeats: integer('repeats').notNull().default(0),
  rearmAfterMs: integer('rearm_after_ms'),
  createdAt: createdAt(),
  managedBy: managedBy(),
});

/**
 * One step of a chain. `kind`: channel (post the card in `channelId`), role or user (post the card
 * with a mention of `target`, a Discord id, in `channelId`, or when null in the channels the alert
 * was routed to).
 */
export const escalationSteps = sqliteTable(
  'escalation_steps',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    chainId: integer('chain_id').notNull().references(() => escalationChains.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    delayMs: integer('delay_ms').notNull(),
    kind: text('kind', { enum: ['channel', 'role', 'user'] }).notNull(),
    target: text('target'),
    channelId: integer('channel_id').references(() => channels.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('escalation_steps_position').on(t.chainId, t.position)],
);

/**
 * A chain armed on an alert: the durable timer. `stepIndex` is the next step to run (index in the
 * chain's steps by position) at `dueAt`; `round` counts repetitions, `cycle` re-arms after an
 * acknowledgement (`ackSeenAt`: the acknowledgement already acted on). `state`: active (a step is due
 * at `dueAt`) → acked (waiting until `dueAt` for a resolve, then re-armed) → done (`reason` says why).
 */
export const escalations = sqliteTable(
  'escalations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    alertId: integer('alert_id').notNull().references(() => alerts.id, { onDelete: 'cascade' }),
    chainId: integer('chain_id').notNull().references(() => escalationChains.id, { onDelete: 'cascade' }),
    /** Channels the alert was routed to (JSON array of channel ids): where mention steps post by default. */
    channelIds: text('channel_ids', { mode: 'json' }).$type<number[]>().notNull(),
    state: text('state', { enum: ['active', 'acked', 'done'] }).notNull().default('active'),
    stepIndex: integer('step_index').notNull().default(0),
    round: integer('round').notNull().default(0),
    cycle: integer('cycle').notNull().default(0),
    dueAt: integer('due_at').notNull(),
    ackSeenAt: integer('ack_seen_at'),
    /** Armed for an incident (on its first member, `alertId`): it stops on the incident's state, not that member's. */
    incidentId: integer('incident_id'),
    reason: text('reason'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('escalations_due').on(t.state, t.dueAt),
    uniqueIndex('escalations_alert_chain').on(t.alertId, t.chainId),
    // One chain per incident: looked up when a grouped alert arms (partial: alerts' own chains pay nothing).
    index('escalations_incident').on(t.incidentId, t.chainId).where(sql`${t.incidentId} IS NOT NULL`),
  ],
);

/**
 * Each step run, recorded in the transaction that queued its deliveries: the unique index makes
 * running a step twice impossible, even after a crash.
 */
export const escalationRuns = sqliteTable(
  'escalation_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    escalationId: integer('escalation_id').notNull().references(() => escalations.id, { onDelete: 'cascade' }),
    cycle: integer('cycle').notNull(),
    round: integer('round').notNull(),
    stepIndex: integer('step_index').notNull(),
    stepId: integer('step_id'),
    kind: text('kind').notNull(),
    target: text('target'),
    deliveries: integer('deliveries').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [uniqueIndex('escalation_runs_once').on(t.escalationId, t.cycle, t.round, t.stepIndex)],
);

/**
 * A channel's daily digest: posted at `time` (HH:MM) in `timezone` (IANA), covering the 24 hours
 * before. `lastSentAt`: the end of the last period posted (so a restart does not post it twice).
 */
export const digestSettings = sqliteTable('digest_settings', {
  channelId: integer('channel_id').primaryKey().references(() => channels.id, { onDelete: 'cascade' }),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  time: text('time').notNull(),
  timezone: text('timezone').notNull(),
  lastSentAt: integer('last_sent_at'),
  managedBy: managedBy(),
  createdAt: createdAt(),
});

/**
 * A heartbeat (dead man's switch) a source declared: it promises a beat (`POST /v1/heartbeats/:name`)
 * at least every `intervalMs`; `graceMs` later Herald raises an alert itself (services/heartbeats.ts).
 * `dueAt`: when it is missed without a beat (last beat, or declaration, + interval + grace).
 * `state`: ok (waiting for a beat) or missed (its alert `alertId` was raised and is firing).
 * `alertId` while `state` is ok: a beat came after a miss and the resolve of that alert is not yet
 * confirmed (the runner finishes it after a crash); null otherwise.
 */
export const heartbeats = sqliteTable(
  'heartbeats',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id').notNull().references(() => sources.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    intervalMs: integer('interval_ms').notNull(),
    graceMs: integer('grace_ms').notNull(),
    severity: text('severity', { enum: ['P0', 'P1', 'P2', 'P3'] }).notNull(),
    service: text('service').notNull(),
    environment: text('environment'),
    labels: text('labels', { mode: 'json' }).$type<Record<string, string>>(),
    lastBeatAt: integer('last_beat_at'),
    dueAt: integer('due_at').notNull(),
    state: text('state', { enum: ['ok', 'missed'] }).notNull().default('ok'),
    alertId: integer('alert_id').references(() => alerts.id, { onDelete: 'set null' }),
    /** When the last miss was raised. */
    missedAt: integer('missed_at'),
    managedBy: managedBy(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('heartbeats_source_name').on(t.sourceId, t.name), index('heartbeats_due').on(t.state, t.dueAt)],
);

/**
 * A channel's storm (delivery/storm-plan.ts): while its backlog cannot be posted within the storm horizon,
 * P2/P3 go out as compact lines and one summary card is edited in place. Its message id and webhook are
 * kept here so a restart mid-storm goes on editing the same card; `endedAt` is set when the backlog is gone.
 */
export const storms = sqliteTable(
  'storms',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channelId: integer('channel_id').notNull().references(() => channels.id, { onDelete: 'cascade' }),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    /** The webhook that posted the summary card: the only one that may edit it. */
    webhookId: integer('webhook_id').references(() => webhooks.id, { onDelete: 'set null' }),
    summaryMessageId: text('summary_message_id'),
  },
  (t) => [index('storms_channel').on(t.channelId, t.endedAt)],
);
