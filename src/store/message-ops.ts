import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { alerts, attempts, channels, deadLetters, deliveries, messageOps, webhooks } from './sqlite/schema.js';
import { attemptRow, renderColumns, type AttemptRecord } from './delivery-rows.js';
import type { StatefulAlert } from '../domain/alert-state.js';

export type OpPurpose = 'ack' | 'resolve' | 'retract' | 'sync' | 'repeat' | 'reopen' | 'thread' | 'mute-end';

/** A message operation ready to run, with the webhook that posted the message (whatever its state now). */
export interface ReadyOp {
  id: number;
  channelId: number;
  discordChannelId: string;
  discordMessageId: string;
  /** A forum's card lives inside its post (a thread with the message's id): edits then name that thread. */
  channelKind: 'text' | 'forum';
  deliveryId: number;
  purpose: OpPurpose;
  via: 'webhook' | 'bot';
  attempts: number;
  createdAt: number;
  webhook: { id: number; discordWebhookId: string; token: string; owner: 'app' | 'external'; gone: boolean } | null;
}

const p = sql.placeholder;

/**
 * The outbox of edits and deletes of messages already sent (message_ops). Like `Outbox` for
 * deliveries, every state change of an operation happens here; the lane decides when and how.
 * An operation names a message, not a rendering: the lane renders the message's alerts as they are
 * when it sends, so a pending operation already covers any later change (enqueue coalesces).
 */
export class MessageOps {
  private readonly selectReady;
  private readonly selectMessageAlerts;
  private readonly pendingFor;
  private readonly insertOp;
  private readonly sentOf;
  private readonly compactOf;
  private readonly incidentCardsOf;
  private readonly incidentMutedUntil;
  private readonly muteEndAt;

  constructor(private readonly db: Db) {
    // The repeat path (every repeat of a sent alert asks these three): plain better-sqlite3 statements, as the
    // alerts store's ingest statements are (drizzle's row and parameter mapping cost more than the queries).
    this.sentOf = db.$client.prepare<{ alertId: number }, { deliveryId: number; channelId: number; webhookId: number | null; messageId: string | null }>(
      `select min(id) as deliveryId, channel_id as channelId, webhook_id as webhookId, discord_message_id as messageId
       from deliveries where alert_id = @alertId and state = 'sent' and note is null group by discord_message_id`,
    );
    this.compactOf = db.$client
      .prepare<{ messageId: string }, number>(`select 1 from deliveries where discord_message_id = @messageId and storm_id is not null limit 1`)
      .pluck();
    this.selectReady = db
      .select({
        id: messageOps.id,
        channelId: messageOps.channelId,
        discordChannelId: channels.discordChannelId,
        discordMessageId: messageOps.discordMessageId,
        channelKind: channels.kind,
        deliveryId: messageOps.deliveryId,
        purpose: messageOps.purpose,
        via: messageOps.via,
        attempts: messageOps.attempts,
        createdAt: messageOps.createdAt,
        webhookId: webhooks.id,
        discordWebhookId: webhooks.discordWebhookId,
        token: webhooks.token,
        owner: webhooks.owner,
        goneAt: webhooks.goneAt,
      })
      .from(messageOps)
      .innerJoin(channels, eq(channels.id, messageOps.channelId))
      .leftJoin(webhooks, eq(webhooks.id, messageOps.webhookId))
      .where(and(eq(messageOps.channelId, p('channelId')), eq(messageOps.state, 'pending'), sql`${messageOps.availableAt} <= ${p('now')}`))
      .orderBy(asc(messageOps.id))
      .limit(p('limit'))
      .prepare();
    this.selectMessageAlerts = db
      .select({ ...renderColumns, mention: deliveries.mention })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(eq(deliveries.discordMessageId, p('messageId')), eq(deliveries.state, 'sent')))
      .orderBy(asc(deliveries.id))
      .prepare();
    // A `mute-end` edit waits for its mute to run out: it covers no change made before then.
    this.pendingFor = db.$client
      .prepare<{ messageId: string }, number>(`select id from message_ops where discord_message_id = @messageId and state = 'pending' and via = 'webhook' and purpose <> 'mute-end' limit 1`)
      .pluck();
    // Incidents only (never asked for an ungrouped alert): every sent message showing a member of the incident.
    this.incidentCardsOf = db.$client.prepare<{ incidentId: number }, { deliveryId: number; channelId: number; webhookId: number | null; messageId: string | null }>(
      `select min(d.id) as deliveryId, d.channel_id as channelId, d.webhook_id as webhookId, d.discord_message_id as messageId
       from alerts a join deliveries d on d.alert_id = a.id
       where a.incident_id = @incidentId and d.state = 'sent' and d.note is null and d.storm_id is null and d.discord_message_id is not null
       group by d.discord_message_id`,
    );
    this.incidentMutedUntil = db.$client
      .prepare<{ incidentId: number; now: number }, number | null>(
        `select max(m.expires_at) from incidents i join mutes m on m.incident_key = i.key and m.source_id is i.source_id
         where i.id = @incidentId and m.ended_at is null and m.expires_at > @now`,
      )
      .pluck();
    this.muteEndAt = db.$client
      .prepare<{ messageId: string; at: number }, number>(`select id from message_ops where discord_message_id = @messageId and purpose = 'mute-end' and state = 'pending' and available_at = @at limit 1`)
      .pluck();
    this.insertOp = db.$client.prepare<{ channelId: number; webhookId: number | null; messageId: string; deliveryId: number; purpose: OpPurpose; now: number }>(
      `insert into message_ops (channel_id, webhook_id, discord_message_id, delivery_id, purpose, available_at, created_at)
       values (@channelId, @webhookId, @messageId, @deliveryId, @purpose, @now, @now)`,
    );
  }

  /**
   * Queues a sync of every sent message of the alert (call inside the transaction that changed the
   * alert). A message that already has a pending operation gets no second one: that one renders the
   * state at send time. Returns the channels to wake and how many messages the alert has.
   */
  async enqueueForAlert(alertId: number, purpose: OpPurpose, now: number, skipMessageId?: string): Promise<{ channels: Set<number>; messages: number }> {
    // Prepared: a sender's repeats call this on the ingest path.
    const sent = this.sentOf.all({ alertId });
    const channels = new Set<number>();
    for (const m of sent) {
      if (m.messageId === null || m.messageId === skipMessageId) continue;
      if (this.enqueueMessageSync(m.channelId, m.webhookId, m.messageId, m.deliveryId, purpose, now)) channels.add(m.channelId);
    }
    return { channels, messages: sent.length };
  }

  /**
   * Queues an edit of every message showing the incident (its cards, and its escalation pages), for a change
   * of the incident as a whole (its group muted, the mute lifted). `at`: a `mute-end` edit, ready then (when
   * the mute runs out), which no earlier change waits for. Returns the channels to wake.
   */
  async enqueueForIncident(incidentId: number, now: number, opts: { skipMessageId?: string; at?: number } = {}): Promise<Set<number>> {
    const channels = new Set<number>();
    for (const m of this.incidentCardsOf.all({ incidentId })) {
      if (m.messageId === null) continue;
      if (opts.at !== undefined) {
        this.db.insert(messageOps).values({ channelId: m.channelId, webhookId: m.webhookId, discordMessageId: m.messageId, deliveryId: m.deliveryId, purpose: 'mute-end', availableAt: opts.at, createdAt: now }).run();
        channels.add(m.channelId);
      } else if (m.messageId !== opts.skipMessageId && this.enqueueMessageSync(m.channelId, m.webhookId, m.messageId, m.deliveryId, 'sync', now)) channels.add(m.channelId);
    }
    return channels;
  }

  /** Queues a sync of one message unless one is already pending; true when a row was added. */
  async enqueueMessage(channelId: number, webhookId: number | null, messageId: string, deliveryId: number, purpose: OpPurpose, now: number): Promise<boolean> {
    return this.enqueueMessageSync(channelId, webhookId, messageId, deliveryId, purpose, now);
  }

  /** `enqueueMessage` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  enqueueMessageSync(channelId: number, webhookId: number | null, messageId: string, deliveryId: number, purpose: OpPurpose, now: number): boolean {
    if (this.pendingFor.get({ messageId }) !== undefined) return false;
    this.insertOp.run({ channelId, webhookId, messageId, deliveryId, purpose, now });
    return true;
  }

  /**
   * Queues the bot's start of a thread from a card just posted (a threads route in a text channel), in the
   * transaction that records the post: a row before it is a request, so a crash between the two still starts it.
   */
  async enqueueThreadStart(channelId: number, webhookId: number, messageId: string, deliveryId: number, now: number): Promise<void> {
    this.db.insert(messageOps).values({ channelId, webhookId, discordMessageId: messageId, deliveryId, purpose: 'thread', via: 'bot', availableAt: now, createdAt: now }).run();
  }

  /** Ready operations of a channel, oldest first (not leased: the lane leases the one it sends). */
  async ready(channelId: number, now: number, limit: number): Promise<ReadyOp[]> {
    return this.selectReady.all({ channelId, now, limit }).map((r) => ({
      id: r.id,
      channelId: r.channelId,
      discordChannelId: r.discordChannelId,
      discordMessageId: r.discordMessageId,
      channelKind: r.channelKind,
      deliveryId: r.deliveryId,
      purpose: r.purpose,
      via: r.via,
      attempts: r.attempts,
      createdAt: r.createdAt,
      webhook:
        r.webhookId === null
          ? null
          : { id: r.webhookId, discordWebhookId: r.discordWebhookId!, token: r.token!, owner: r.owner!, gone: r.goneAt !== null },
    }));
  }

  async lease(id: number, until: number): Promise<void> {
    this.db.update(messageOps).set({ state: 'leased', leaseUntil: until }).where(eq(messageOps.id, id)).run();
  }

  /**
   * The alerts shown in a message (several when it was packed), as they are now; `mention`: the message is an
   * escalation step's (or an incident's page), which its edits render as such.
   */
  async alertsOf(messageId: string): Promise<(StatefulAlert & { changedAt: number | null; mention: string | null })[]> {
    const rows = this.selectMessageAlerts.all({ messageId });
    // Once each: an incident member whose severity went up joins its card again (a second delivery of it there).
    const seen = new Set<number>();
    return rows.filter((a) => !seen.has(a.id) && seen.add(a.id) !== undefined);
  }

  /** Whether the message is a compact storm message (its alerts are lines, not cards). */
  async isCompact(messageId: string): Promise<boolean> {
    return this.compactOf.get({ messageId }) !== undefined;
  }

  /**
   * After a send: if an alert changed (ack, resolve, retract) while its message was being rendered and
   * sent, the new message already shows an old state: queue a sync of it.
   */
  async syncIfChanged(sent: { id: number; changedAt: number | null }[], channelId: number, webhookId: number, messageId: string, deliveryId: number, now: number): Promise<boolean> {
    const ids = sent.map((a) => a.id);
    const current = new Map(this.db.select({ id: alerts.id, changedAt: alerts.changedAt }).from(alerts).where(inArray(alerts.id, ids)).all().map((r) => [r.id, r.changedAt]));
    if (!sent.some((a) => (current.get(a.id) ?? null) !== a.changedAt)) return false;
    return this.enqueueMessage(channelId, webhookId, messageId, deliveryId, 'sync', now);
  }

  /**
   * After a send of a message showing a member of a grouped incident: when the group's mute is in force, queue the
   * message's `mute-end` edit (unless it has one for that time). The mute's own edits reach only the cards already
   * sent when it was made; a card on its way then would otherwise keep its "Muted until" after the mute ran out.
   */
  async muteEndIfMuted(incidentId: number, channelId: number, webhookId: number, messageId: string, deliveryId: number, now: number): Promise<boolean> {
    const until = this.incidentMutedUntil.get({ incidentId, now });
    if (until === null || until === undefined) return false;
    const at = until + 1;
    if (this.muteEndAt.get({ messageId, at }) !== undefined) return false;
    this.db.insert(messageOps).values({ channelId, webhookId, discordMessageId: messageId, deliveryId, purpose: 'mute-end', availableAt: at, createdAt: now }).run();
    return true;
  }

  /** Earliest time a pending operation of this channel becomes ready (null: none pending). */
  async nextAvailableAt(channelId: number): Promise<number | null> {
    return (
      this.db
        .select({ at: sql<number | null>`min(${messageOps.availableAt})` })
        .from(messageOps)
        .where(and(eq(messageOps.channelId, channelId), eq(messageOps.state, 'pending')))
        .get()?.at ?? null
    );
  }

  /** Finished. `also` runs in the same transaction (a repost's new deliveries commit with the outcome). */
  async done(id: number, outcome: string, now: number, attempt?: AttemptRecord, also?: () => void): Promise<void> {
    this.db.transaction(() => {
      this.db.update(messageOps).set({ state: 'done', outcome, doneAt: now, leaseUntil: null }).where(eq(messageOps.id, id)).run();
      if (attempt) this.recordAttempt(id, attempt);
      also?.();
    });
  }

  /** Back to pending. `countAttempt` false for waits that are not failures (a 429, a busy webhook). */
  async retry(id: number, opts: { availableAt: number; countAttempt: boolean; error?: string; attempt?: AttemptRecord }): Promise<void> {
    this.db.transaction(() => {
      this.db
        .update(messageOps)
        .set({
          state: 'pending',
          leaseUntil: null,
          availableAt: opts.availableAt,
          ...(opts.countAttempt ? { attempts: sql`${messageOps.attempts} + 1` } : {}),
          ...(opts.error !== undefined ? { lastError: opts.error } : {}),
        })
        .where(eq(messageOps.id, id))
        .run();
      if (opts.attempt) this.recordAttempt(id, opts.attempt);
    });
  }

  /** The webhook that posted the message is gone: from now on the bot handles this operation. */
  async toBot(id: number, now: number, reason: string, attempt?: AttemptRecord): Promise<void> {
    this.db.transaction(() => {
      this.db
        .update(messageOps)
        .set({ state: 'pending', via: 'bot', attempts: 0, leaseUntil: null, availableAt: now, lastError: reason })
        .where(eq(messageOps.id, id))
        .run();
      if (attempt) this.recordAttempt(id, attempt);
    });
  }

  /** Gives up: the operation is dead and listed as a dead letter of its message's delivery, with the reason. */
  async dead(id: number, deliveryId: number, reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): Promise<void> {
    this.db.transaction(() => {
      this.db
        .update(messageOps)
        .set({ state: 'dead', outcome: 'dead', leaseUntil: null, lastError: reason, attempts: sql`${messageOps.attempts} + 1` })
        .where(eq(messageOps.id, id))
        .run();
      this.db.insert(deadLetters).values({ deliveryId, opId: id, reason, discordError, createdAt: now }).run();
      if (attempt) this.recordAttempt(id, attempt);
    });
  }

  /** A dead operation replayed: pending again from a fresh start. Returns 0 when it is no longer dead. */
  async reviveDead(id: number, now: number): Promise<number> {
    return this.reviveDeadSync(id, now);
  }

  /** `reviveDead` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  reviveDeadSync(id: number, now: number): number {
    return this.db
      .update(messageOps)
      .set({ state: 'pending', attempts: 0, availableAt: now, leaseUntil: null, createdAt: now })
      .where(and(eq(messageOps.id, id), eq(messageOps.state, 'dead')))
      .run().changes;
  }

  /** At start: operations leased by a process that died go back to pending. */
  async recoverLeases(): Promise<number> {
    return this.db.update(messageOps).set({ state: 'pending', leaseUntil: null }).where(eq(messageOps.state, 'leased')).run().changes;
  }

  /**
   * While running: operations of these channels leased past their time, except those this process still
   * holds (`held`), go back to pending. Returns the channels that got some back.
   */
  async reclaimExpiredLeases(now: number, channelIds: readonly number[], held: ReadonlySet<number>): Promise<Set<number>> {
    if (channelIds.length === 0) return new Set();
    return this.db.transaction((tx) => {
      const expired = tx
        .select({ id: messageOps.id, channelId: messageOps.channelId })
        .from(messageOps)
        .where(and(inArray(messageOps.channelId, [...channelIds]), eq(messageOps.state, 'leased'), sql`${messageOps.leaseUntil} < ${now}`))
        .all()
        .filter((o) => !held.has(o.id));
      if (expired.length === 0) return new Set<number>();
      tx.update(messageOps)
        .set({ state: 'pending', leaseUntil: null })
        .where(and(inArray(messageOps.id, expired.map((o) => o.id)), eq(messageOps.state, 'leased')))
        .run();
      return new Set(expired.map((o) => o.channelId));
    });
  }

  async pendingByChannel(): Promise<Map<number, number>> {
    const rows = this.db
      .select({ channelId: messageOps.channelId, n: sql<number>`count(*)` })
      .from(messageOps)
      .where(inArray(messageOps.state, ['pending', 'leased']))
      .groupBy(messageOps.channelId)
      .all();
    return new Map(rows.map((r) => [r.channelId, r.n]));
  }

  private recordAttempt(opId: number, a: AttemptRecord): void {
    this.db.insert(attempts).values(attemptRow(a, a.deliveryIds[0] ?? null, opId)).run();
  }
}
