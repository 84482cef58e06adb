import { and, asc, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { alerts, attempts, deadLetters, deliveries } from './sqlite/schema.js';
import { attemptRow, postColumns, type AttemptRecord } from './delivery-rows.js';
import type { StatefulAlert } from '../domain/alert-state.js';
import type { WebhookMessage } from '../discord/message.js';
import type { ThreadNote } from '../domain/threads.js';

/** A claimed delivery with what render needs of its alert. */
export interface ClaimedDelivery {
  id: number;
  /** Null for a message about no alert (a digest: `message`). */
  alertId: number | null;
  channelId: number;
  /** An escalation step's mention (`role:<id>` or `user:<id>`): the card goes alone, with it. */
  mention: string | null;
  /** A message rendered in advance (a digest): sent as it is, alone. */
  message: WebhookMessage | null;
  /** A follow-up for the card's thread (delivery/threads.ts) instead of a card; with `threadId` null it goes to the channel. */
  note: ThreadNote | null;
  /** The thread a follow-up goes into (null: the channel itself). */
  threadId: string | null;
  priority: number;
  attempts: number;
  renderLevel: number;
  createdAt: number;
  /** As it was when claimed; `changedAt` tells, after the send, whether it changed meanwhile (then an edit follows). Null with `message`. */
  alert: (StatefulAlert & { changedAt: number | null }) | null;
}

export type { ThreadNote };

/** What a delivery carries besides its alert's card (escalation steps, digests, thread follow-ups). */
interface InsertDeliveryParams {
  alertId: number | null;
  channelId: number;
  priority: number;
  mention: string | null;
  message: string | null;
  note: ThreadNote | null;
  threadId: string | null;
  sortKey: number;
  state: string;
  availableAt: number;
}

/** An incident's card in a channel, as its first member's sent delivery records it: where later members join. */
export interface IncidentCard {
  deliveryId: number;
  webhookId: number | null;
  messageId: string;
  threadId: string | null;
  sentAt: number | null;
}

export interface DeliveryExtra {
  mention?: string | null;
  message?: WebhookMessage | null;
}

const p = sql.placeholder;

/**
 * The columns a claim reads: the delivery's own and its alert's for a first post (`postColumns`: posting is the hot
 * path, so without the mute subquery of delivery-rows.ts). The shape `toClaimed` maps to a ClaimedDelivery.
 */
const claimedColumns = {
  deliveryId: deliveries.id,
  alertId: deliveries.alertId,
  channelId: deliveries.channelId,
  priority: deliveries.priority,
  attempts: deliveries.attempts,
  renderLevel: deliveries.renderLevel,
  createdAt: deliveries.createdAt,
  mention: deliveries.mention,
  message: deliveries.message,
  note: deliveries.note,
  threadId: deliveries.threadId,
  ...postColumns,
};

/**
 * The transactional outbox: every delivery is a row before it is a request, and every state change
 * of a delivery happens here. The scheduler decides *when*; this module only records *what*.
 */
export class Outbox {
  private readonly insertDelivery;
  private readonly selectReady;
  private readonly selectUrgent;
  private readonly nextAvailable;
  private readonly threadsOf;
  private readonly pendingNote;
  private readonly incidentCardOf;
  private readonly pendingIncidentNote;
  private readonly incidentBusyOf;
  private readonly incidentPending;
  private readonly backlogStmt;

  constructor(
    private readonly db: Db,
    private readonly agingMs: number,
  ) {
    // Plain better-sqlite3: one insert per delivery on the ingest hot path (see accept.ts's insertAlert).
    this.insertDelivery = db.$client.prepare<InsertDeliveryParams>(
      `INSERT INTO deliveries (alert_id, channel_id, priority, mention, message, note, thread_id, sort_key, state, available_at, created_at)
       VALUES (@alertId, @channelId, @priority, @mention, @message, @note, @threadId, @sortKey, @state, @availableAt, @availableAt)`,
    );
    // Asked by every lifecycle change and repeat of a sent alert (the ingest path): plain statements, on the alert index.
    this.threadsOf = db.$client.prepare<{ alertId: number }, { channelId: number; threadId: string; priority: number; incidentId: number | null }>(
      `select d.channel_id as channelId, d.thread_id as threadId, min(d.priority) as priority, (select a.incident_id from alerts a where a.id = @alertId) as incidentId
       from deliveries d
       where d.alert_id = @alertId and d.state = 'sent' and d.note is null and d.thread_id is not null group by d.channel_id, d.thread_id`,
    );
    // An incident's card has one thread for all its members: one waiting note of a kind covers them all (an
    // incident's Acknowledge is one line there, not one per member). Asked only for members of an incident.
    this.pendingIncidentNote = db.$client
      .prepare<{ incidentId: number; threadId: string; note: ThreadNote }, number>(
        `select d.id from alerts a join deliveries d on d.alert_id = a.id
         where a.incident_id = @incidentId and d.thread_id = @threadId and d.note = @note and d.state in ('pending', 'leased') limit 1`,
      )
      .pluck();
    this.pendingNote = db.$client
      .prepare<{ alertId: number; channelId: number; note: ThreadNote }, number>(
        `select id from deliveries where alert_id = @alertId and channel_id = @channelId and note = @note and state in ('pending', 'leased') limit 1`,
      )
      .pluck();
    // Incidents (asked by the lane only for members of an incident, never for an ungrouped alert's delivery).
    // A card is a member's sent delivery in the channel that is no thread follow-up, no escalation mention, no storm line.
    this.incidentCardOf = db.$client.prepare<{ incidentId: number; channelId: number }, IncidentCard>(
      `select d.id as deliveryId, d.webhook_id as webhookId, d.discord_message_id as messageId, d.thread_id as threadId, d.sent_at as sentAt
       from alerts a join deliveries d on d.alert_id = a.id
       where a.incident_id = @incidentId and d.channel_id = @channelId and d.state = 'sent' and d.note is null and d.mention is null
         and d.storm_id is null and d.discord_message_id is not null
         -- A card the bot deleted (its webhook was gone; its members were queued again) is no card to join.
         and not exists (select 1 from message_ops o where o.discord_message_id = d.discord_message_id and o.outcome in ('reposted', 'deleted_by_bot'))
       order by d.id desc limit 1`,
    );
    this.backlogStmt = db.$client
      .prepare<{ channelId: number; now: number }, number>(
        `select count(*) - count(a.incident_id) + count(distinct a.incident_id) from deliveries d left join alerts a on a.id = d.alert_id
         where d.channel_id = @channelId and (d.state = 'leased' or (d.state = 'pending' and d.available_at <= @now))`,
      )
      .pluck();
    this.incidentBusyOf = db.$client
      .prepare<{ incidentId: number; channelId: number }, number>(
        `select d.id from alerts a join deliveries d on d.alert_id = a.id
         where a.incident_id = @incidentId and d.channel_id = @channelId and d.state = 'leased' and d.note is null and d.mention is null`,
      )
      .pluck();
    this.incidentPending = this.db
      .select(claimedColumns)
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(
        and(
          eq(alerts.incidentId, p('incidentId')),
          eq(deliveries.channelId, p('channelId')),
          eq(deliveries.state, 'pending'),
          sql`${deliveries.availableAt} <= ${p('now')}`,
          isNull(deliveries.note),
          isNull(deliveries.mention),
          isNull(deliveries.message),
        ),
      )
      .orderBy(asc(deliveries.sortKey))
      .limit(500)
      .prepare();
    this.selectReady = this.readyQuery(false);
    this.selectUrgent = this.readyQuery(true);
    this.nextAvailable = db
      .select({ at: sql<number | null>`min(${deliveries.availableAt})` })
      .from(deliveries)
      .where(and(eq(deliveries.channelId, p('channelId')), eq(deliveries.state, 'pending')))
      .prepare();
  }

  /**
   * Queues one delivery; called inside the ingest transaction so the alert and its deliveries commit together.
   * `availableAt`: not before then (business hours; its age, for the give-up limit, counts from then too).
   * `state: 'digest'`: outside business hours on a digest-only route: kept for the digest, never sent.
   * `mention` / `message`: an escalation step's mention, or a pre-rendered message about no alert (a digest).
   */
  async enqueue(alertId: number | null, channelId: number, priority: number, now: number, opts: DeliveryExtra & { availableAt?: number; state?: 'pending' | 'digest' } = {}): Promise<void> {
    const availableAt = opts.availableAt ?? now;
    // An escalation step's mention for an alert whose card has a thread here goes into that thread.
    const thread = opts.mention && alertId !== null ? this.threadsOf.all({ alertId }).find((t) => t.channelId === channelId) : undefined;
    this.insertDelivery.run({
      alertId,
      channelId,
      priority,
      mention: opts.mention ?? null,
      message: opts.message ? JSON.stringify(opts.message) : null,
      note: thread ? 'escalation' : null,
      threadId: thread?.threadId ?? null,
      sortKey: availableAt + priority * this.agingMs,
      availableAt,
      state: opts.state ?? 'pending',
    });
  }

  /**
   * Queues a follow-up into each thread of the alert's cards (a repeat, a reopen, an acknowledgement, a
   * resolve), inside the transaction that made the change. A repeat or reopen already waiting covers the
   * next (it says the count at send time). Returns the channels to wake.
   */
  async enqueueThreadNotes(alertId: number, note: ThreadNote, now: number): Promise<Set<number>> {
    const channels = new Set<number>();
    for (const t of this.threadsOf.all({ alertId })) {
      if ((note === 'repeat' || note === 'reopen') && this.pendingNote.get({ alertId, channelId: t.channelId, note }) !== undefined) continue;
      if (t.incidentId !== null && this.pendingIncidentNote.get({ incidentId: t.incidentId, threadId: t.threadId, note }) !== undefined) continue;
      this.insertDelivery.run({ alertId, channelId: t.channelId, priority: t.priority, mention: null, message: null, note, threadId: t.threadId, sortKey: now + t.priority * this.agingMs, availableAt: now, state: 'pending' });
      channels.add(t.channelId);
    }
    return channels;
  }

  /** The thread of a card exists now (started from its message, or the forum post it opened). */
  async setThread(messageId: string, threadId: string): Promise<void> {
    this.db.update(deliveries).set({ threadId }).where(and(eq(deliveries.discordMessageId, messageId), sql`${deliveries.note} is null`)).run();
  }

  /**
   * Discord says the thread is locked or gone: no follow-up goes into it any more. Follow-ups still
   * queued for it go to the channel instead, and the card no longer counts as having a thread.
   */
  async dropThread(threadId: string): Promise<void> {
    this.db.update(deliveries).set({ threadId: null }).where(eq(deliveries.threadId, threadId)).run();
  }

  /**
   * Leases up to `limit` ready deliveries of a channel, best first (P0 first, aged), no lower than
   * `maxPriority` (the channel's reserved headroom is for P0/P1 only). Leased rows survive a crash as
   * leased and are released at the next start.
   */
  async claim(channelId: number, now: number, limit: number, maxPriority: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.db.transaction(() => {
      const rows = (maxPriority >= 3 ? this.selectReady : this.selectUrgent).all({ channelId, now, limit });
      if (rows.length === 0) return [];
      this.db
        .update(deliveries)
        .set({ state: 'leased', leaseUntil: now + leaseMs })
        .where(inArray(deliveries.id, rows.map((r) => r.deliveryId)))
        .run();
      return rows.map(toClaimed);
    });
  }

  /**
   * What is waiting in a channel, as the lane's backlog counts it (pending and ready, or in flight): each
   * delivery of no incident once, and the members of an incident once for the incident (they are one card).
   * The lane asks it only to correct its running estimate once that estimate reaches zero and it has seen
   * incident members, whose joins and storm lines it cannot count exactly as they go.
   */
  async backlogOf(channelId: number, now: number): Promise<number> {
    return this.backlogStmt.get({ channelId, now }) ?? 0;
  }

  /**
   * Incidents: the card of an incident in a channel (a member's sent delivery), if it was posted; later
   * members join it (`attach`) instead of posting.
   */
  async incidentCard(incidentId: number, channelId: number): Promise<IncidentCard | undefined> {
    return this.incidentCardOf.get({ incidentId, channelId });
  }

  /** Deliveries of an incident's members in a channel that are being sent now (its card in flight), but `except`. */
  async incidentInFlight(incidentId: number, channelId: number, except: ReadonlySet<number>): Promise<boolean> {
    return this.incidentBusyOf.all({ incidentId, channelId }).some((id) => !except.has(id));
  }

  /**
   * Leases every ready delivery of an incident's members in a channel (but `except`, already leased by the
   * caller), so its first card holds every member that arrived within its group_wait.
   */
  async claimIncident(incidentId: number, channelId: number, now: number, leaseMs: number, except: readonly number[]): Promise<ClaimedDelivery[]> {
    return this.db.transaction(() => {
      const rows = this.incidentPending.all({ incidentId, channelId, now }).filter((r) => !except.includes(r.deliveryId));
      if (rows.length === 0) return [];
      this.db
        .update(deliveries)
        .set({ state: 'leased', leaseUntil: now + leaseMs })
        .where(and(inArray(deliveries.id, rows.map((r) => r.deliveryId)), eq(deliveries.state, 'pending')))
        .run();
      return rows.map(toClaimed);
    });
  }

  /**
   * Members that join an incident's card already posted: their deliveries are recorded as sent in the card's
   * message (through the webhook that posted it, in its thread), so every later edit of the card renders
   * them, and their own lifecycle changes edit it. No post: the caller queues the card's edit in this transaction.
   */
  async attach(ids: number[], card: IncidentCard, now: number): Promise<void> {
    if (ids.length === 0) return;
    this.db
      .update(deliveries)
      .set({ state: 'sent', webhookId: card.webhookId, discordMessageId: card.messageId, threadId: card.threadId, sentAt: card.sentAt ?? now, leaseUntil: null, lastError: null })
      .where(and(inArray(deliveries.id, ids), notInArray(deliveries.state, ['sent', 'cancelled', 'dead'])))
      .run();
  }

  /**
   * Ready deliveries in queue order. `+available_at` keeps SQLite off the availability index: walking
   * the queue index in sort order and skipping the few rows in backoff is far cheaper than sorting the
   * whole backlog (measured with 100k queued: 64 ms → about 1 ms per claim).
   */
  private readyQuery(urgentOnly: boolean) {
    return this.db
      .select(claimedColumns)
      .from(deliveries)
      .leftJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(
        and(
          eq(deliveries.channelId, p('channelId')),
          eq(deliveries.state, 'pending'),
          sql`+${deliveries.availableAt} <= ${p('now')}`,
          // P0 and P1 only: the channel's reserved headroom.
          urgentOnly ? inArray(deliveries.priority, [0, 1]) : undefined,
        ),
      )
      // For the urgent query, `+sort_key` stops SQLite from walking the whole queue index for order;
      // it then seeks the (priority, sort_key) index for P0 and P1 and sorts those few rows.
      .orderBy(urgentOnly ? sql`+${deliveries.sortKey}` : asc(deliveries.sortKey))
      .limit(p('limit'))
      .prepare();
  }

  /** Earliest time a pending delivery of this channel becomes ready (null: nothing pending). */
  async nextAvailableAt(channelId: number): Promise<number | null> {
    return this.nextAvailable.get({ channelId })?.at ?? null;
  }

  /**
   * Discord took the message: remember which webhook posted it and its id (edits must use the same webhook).
   * The send that succeeded is an attempt too, counted like the last one of a dead letter: a delivery
   * sent at the first try shows 1 attempt, after three 5xx answers 4. `stormId`: posted as lines of a
   * compact storm message (its later edits re-render those lines).
   */
  async markSent(ids: number[], webhookId: number, messageId: string, now: number, attempt: AttemptRecord, openedThread?: string, stormId: number | null = null): Promise<void> {
    this.db.transaction((tx) => {
      tx.update(deliveries)
        .set({
          state: 'sent',
          webhookId,
          discordMessageId: messageId,
          sentAt: now,
          leaseUntil: null,
          lastError: null,
          attempts: sql`${deliveries.attempts} + 1`,
          stormId,
          // A forum post: the card opened its thread.
          ...(openedThread ? { threadId: openedThread } : {}),
        })
        .where(inArray(deliveries.id, ids))
        .run();
      this.insertAttempts(attempt);
    });
  }

  /**
   * Puts deliveries back in the queue. `countAttempt` is false for waits that are not failures
   * (a 429, a webhook taken out of the pool); `renderLevel` raises caution after a 400.
   */
  async release(
    ids: number[],
    opts: { availableAt: number; countAttempt: boolean; error?: string | null; renderLevel?: number; attempt?: AttemptRecord },
  ): Promise<void> {
    if (ids.length === 0) return;
    this.db.transaction((tx) => {
      tx.update(deliveries)
        .set({
          state: 'pending',
          leaseUntil: null,
          availableAt: opts.availableAt,
          ...(opts.countAttempt ? { attempts: sql`${deliveries.attempts} + 1` } : {}),
          ...(opts.error !== undefined ? { lastError: opts.error } : {}),
          ...(opts.renderLevel !== undefined ? { renderLevel: opts.renderLevel } : {}),
        })
        .where(inArray(deliveries.id, ids))
        .run();
      if (opts.attempt) this.insertAttempts(opts.attempt);
    });
  }

  /** Gives up on deliveries: they stay visible as dead letters, with Discord's error, and can be replayed. */
  async deadLetter(ids: number[], reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): Promise<void> {
    this.deadLetterSync(ids, reason, discordError, now, attempt);
  }

  /** `deadLetter` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  deadLetterSync(ids: number[], reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): void {
    if (ids.length === 0) return;
    this.db.transaction((tx) => {
      tx.update(deliveries)
        .set({ state: 'dead', leaseUntil: null, lastError: reason, attempts: sql`${deliveries.attempts} + 1` })
        .where(inArray(deliveries.id, ids))
        .run();
      for (const id of ids) tx.insert(deadLetters).values({ deliveryId: id, reason, discordError, createdAt: now }).run();
      if (attempt) this.insertAttempts(attempt);
    });
  }

  /**
   * The configuration file dropped the channel: its deliveries still queued become dead letters with the
   * reason (replayable once the channel is back), never dropped. Sends in flight finish and are recorded.
   */
  async deadLetterChannel(channelId: number, reason: string, now: number): Promise<number> {
    return this.db.transaction((tx) => {
      const ids = tx
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'pending')))
        .all()
        .map((r) => r.id);
      for (const part of chunks(ids, 500)) this.deadLetterSync(part, reason, null, now);
      return ids.length;
    });
  }

  /** How many deliveries of the channel are queued (what dropping it would dead-letter). */
  async pendingIn(channelId: number): Promise<number> {
    return this.db.select({ n: sql<number>`count(*)` }).from(deliveries).where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'pending'))).get()?.n ?? 0;
  }

  /** A retracted alert's deliveries not sent yet are cancelled (never sent); returns how many, per channel. */
  async cancelForAlert(alertId: number): Promise<number> {
    return this.db
      .update(deliveries)
      .set({ state: 'cancelled', leaseUntil: null, lastError: 'alert retracted before it was sent' })
      .where(and(eq(deliveries.alertId, alertId), eq(deliveries.state, 'pending')))
      .run().changes;
  }

  /**
   * A dead delivery replayed: pending again from a fresh start (attempts 0, normal rendering, available
   * now, a new age budget: the retry limit by age counts from the replay, not from the first try).
   */
  async reviveDead(id: number, priority: number, now: number): Promise<void> {
    this.reviveDeadSync(id, priority, now);
  }

  /** `reviveDead` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  reviveDeadSync(id: number, priority: number, now: number): void {
    this.db
      .update(deliveries)
      .set({ state: 'pending', attempts: 0, renderLevel: 0, availableAt: now, leaseUntil: null, createdAt: now, sortKey: now + priority * this.agingMs })
      .where(eq(deliveries.id, id))
      .run();
  }

  /** At start: a lease held by a process that died is void, so its deliveries go back to the queue. */
  async recoverLeases(): Promise<number> {
    return this.db
      .update(deliveries)
      .set({ state: 'pending', leaseUntil: null })
      .where(eq(deliveries.state, 'leased'))
      .run().changes;
  }

  /**
   * While running: leases past their time whose holder lost track of them (a send whose outcome could not
   * be settled, a release that failed) go back to the queue. `held`: deliveries this process still has a
   * request or an unrecorded outcome for; they are left alone (reclaiming them would post them twice).
   * Returns the reclaimed deliveries per channel.
   */
  async reclaimExpiredLeases(now: number, held: ReadonlySet<number>): Promise<Map<number, number>> {
    return this.db.transaction((tx) => {
      const expired = tx
        .select({ id: deliveries.id, channelId: deliveries.channelId })
        .from(deliveries)
        .where(and(eq(deliveries.state, 'leased'), sql`${deliveries.leaseUntil} < ${now}`))
        .all()
        .filter((d) => !held.has(d.id));
      const perChannel = new Map<number, number>();
      if (expired.length === 0) return perChannel;
      tx.update(deliveries)
        .set({ state: 'pending', leaseUntil: null })
        .where(and(inArray(deliveries.id, expired.map((d) => d.id)), eq(deliveries.state, 'leased')))
        .run();
      for (const d of expired) perChannel.set(d.channelId, (perChannel.get(d.channelId) ?? 0) + 1);
      return perChannel;
    });
  }

  /**
   * When this channel's recent messages were posted (one time per message, oldest first), so a lane
   * started after a restart knows how much of Discord's sliding window is already used.
   */
  async recentMessageTimes(channelId: number, since: number): Promise<number[]> {
    return this.db
      .select({ at: sql<number>`max(${deliveries.sentAt})` })
      .from(deliveries)
      .where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'sent'), sql`${deliveries.sentAt} > ${since}`))
      .groupBy(deliveries.discordMessageId)
      .orderBy(sql`1`)
      .all()
      .map((r) => r.at);
  }

  /** When the last message was sent (any channel), for /status; null: none yet. */
  async lastSentAt(): Promise<number | null> {
    return this.db.select({ at: sql<number | null>`max(${deliveries.sentAt})` }).from(deliveries).get()?.at ?? null;
  }

  /** Pending deliveries per channel, to seed the scheduler's lanes at start. */
  async pendingByChannel(): Promise<Map<number, number>> {
    const rows = this.db
      .select({ channelId: deliveries.channelId, n: sql<number>`count(*)` })
      .from(deliveries)
      .where(inArray(deliveries.state, ['pending', 'leased']))
      .groupBy(deliveries.channelId)
      .all();
    return new Map(rows.map((r) => [r.channelId, r.n]));
  }

  /** Queue depth by priority (pending or in flight), for /metrics and /status. */
  async depthByPriority(): Promise<Record<number, number>> {
    const out: Record<number, number> = { 0: 0, 1: 0, 2: 0, 3: 0 };
    const rows = this.db
      .select({ priority: deliveries.priority, n: sql<number>`count(*)` })
      .from(deliveries)
      .where(inArray(deliveries.state, ['pending', 'leased']))
      .groupBy(deliveries.priority)
      .all();
    for (const r of rows) out[r.priority] = r.n;
    return out;
  }

  private insertAttempts(a: AttemptRecord): void {
    // One request may carry several packed deliveries; each gets the attempt so its history is complete.
    const ids = a.deliveryIds.length ? a.deliveryIds : [null];
    for (const deliveryId of ids) {
      this.db.insert(attempts).values(attemptRow(a, deliveryId)).run();
    }
  }
}

/** A claimed row (the ready queries' shape) as the lane takes it; `pg/deliveries.ts` maps its rows with it too. */
export function toClaimed(r: {
  deliveryId: number;
  alertId: number | null;
  channelId: number;
  priority: number;
  attempts: number;
  renderLevel: number;
  createdAt: number;
  mention: string | null;
  message: string | null;
  note: ThreadNote | null;
  threadId: string | null;
  id: number | null;
}): ClaimedDelivery {
  const { deliveryId, alertId, channelId, priority, attempts: n, renderLevel, createdAt, mention, message, note, threadId, ...alert } = r;
  return {
    id: deliveryId,
    alertId,
    channelId,
    mention,
    message: message === null ? null : (JSON.parse(message) as WebhookMessage),
    note,
    threadId,
    priority,
    attempts: n,
    renderLevel,
    createdAt,
    alert: alert.id === null ? null : (alert as unknown as ClaimedDelivery['alert']),
  };
}

/** `list` in parts of at most `n` (SQLite's limit on bound parameters; `pg/deliveries.ts` dead-letters in the same parts). */
export function chunks<T>(list: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}
