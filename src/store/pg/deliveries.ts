import { and, asc, desc, eq, inArray, isNotNull, isNull, notInArray, sql } from 'drizzle-orm';
import type { ThreadNote } from '../../domain/threads.js';
import { chunks, toClaimed, type ClaimedDelivery, type DeliveryExtra, type IncidentCard, type Outbox } from '../deliveries.js';
import { attemptRow, type AttemptRecord } from '../delivery-rows.js';
import { postColumns } from './delivery-rows.js';
import type { PgExecutor } from './open.js';
import { alerts, attempts, deadLetters, deliveries } from './schema.js';

/** The columns a claim reads (`../deliveries.ts`'s `claimedColumns` on the PostgreSQL schema). */
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

/** A delivery's row as `enqueue` and `enqueueThreadNotes` insert it. */
interface InsertDelivery {
  alertId: number | null;
  channelId: number;
  priority: number;
  mention: string | null;
  message: string | null;
  note: ThreadNote | null;
  threadId: string | null;
  sortKey: number;
  state: 'pending' | 'digest';
  availableAt: number;
}

/**
 * `../deliveries.ts` (the outbox) on PostgreSQL: every method but the `…Sync` twins SQLite's sibling modules call
 * inside their synchronous transactions (here the async methods are awaited inside drizzle's). The same filters,
 * order and results; what PostgreSQL needs said:
 *
 * - Queue order is `sort_key` (the time a delivery became available plus its priority times `agingMs`), then id:
 *   the order SQLite's queue index gives (its entries for one sort key follow the rowid). Said explicitly here.
 * - The claims (`claim`, `claimIncident`) lock the rows they pick `for update of deliveries skip locked` (the alert
 *   joined is only read): two lanes claiming at once, on instances side by side, lease disjoint rows, where SQLite's
 *   one writer needs nothing. A row another claim leased and committed meanwhile is re-checked (read committed) and
 *   no longer pending, so it is not taken either.
 * - `deadLetterChannel` and `reclaimExpiredLeases` lock what they select (`for update`), waiting for a claim in
 *   flight: a row it leased meanwhile is no longer pending (or no longer expired) and is left alone, and what
 *   `reclaimExpiredLeases` counts per channel is what its update changed.
 * - Attempts and dead letters rows are written in the same transaction through the schema (`pg/attempts.ts` only
 *   reads); counts, `min` and `max` of bigints come back as strings and are mapped to numbers.
 * - Thread lists are ordered by channel, then thread id `collate "C"` (SQLite's group-by order, byte order).
 */
export class PgOutbox implements Pick<Outbox, Exclude<keyof Outbox, 'deadLetterSync' | 'reviveDeadSync'>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly agingMs: number,
  ) {}

  async enqueue(alertId: number | null, channelId: number, priority: number, now: number, opts: DeliveryExtra & { availableAt?: number; state?: 'pending' | 'digest' } = {}): Promise<void> {
    const availableAt = opts.availableAt ?? now;
    // An escalation step's mention for an alert whose card has a thread here goes into that thread.
    const thread = opts.mention && alertId !== null ? (await this.threadsOf(alertId)).find((t) => t.channelId === channelId) : undefined;
    await this.insert({
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

  async enqueueThreadNotes(alertId: number, note: ThreadNote, now: number): Promise<Set<number>> {
    const channels = new Set<number>();
    const d = deliveries;
    const waiting = ['pending', 'leased'] as const;
    for (const t of await this.threadsOf(alertId)) {
      if (note === 'repeat' || note === 'reopen') {
        const [pending] = await this.db
          .select({ id: d.id })
          .from(d)
          .where(and(eq(d.alertId, alertId), eq(d.channelId, t.channelId), eq(d.note, note), inArray(d.state, waiting)))
          .limit(1);
        if (pending) continue;
      }
      if (t.incidentId !== null) {
        const [pending] = await this.db
          .select({ id: d.id })
          .from(alerts)
          .innerJoin(d, eq(d.alertId, alerts.id))
          .where(and(eq(alerts.incidentId, t.incidentId), eq(d.threadId, t.threadId), eq(d.note, note), inArray(d.state, waiting)))
          .limit(1);
        if (pending) continue;
      }
      await this.insert({ alertId, channelId: t.channelId, priority: t.priority, mention: null, message: null, note, threadId: t.threadId, sortKey: now + t.priority * this.agingMs, availableAt: now, state: 'pending' });
      channels.add(t.channelId);
    }
    return channels;
  }

  async setThread(messageId: string, threadId: string): Promise<void> {
    await this.db.update(deliveries).set({ threadId }).where(and(eq(deliveries.discordMessageId, messageId), isNull(deliveries.note)));
  }

  async dropThread(threadId: string): Promise<void> {
    await this.db.update(deliveries).set({ threadId: null }).where(eq(deliveries.threadId, threadId));
  }

  /** Leases up to `limit` ready deliveries of a channel, best first; rows another claim holds are skipped. */
  async claim(channelId: number, now: number, limit: number, maxPriority: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const d = deliveries;
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select(claimedColumns)
        .from(d)
        .leftJoin(alerts, eq(alerts.id, d.alertId))
        .where(
          and(
            eq(d.channelId, channelId),
            eq(d.state, 'pending'),
            sql`${d.availableAt} <= ${now}`,
            // P0 and P1 only: the channel's reserved headroom.
            maxPriority >= 3 ? undefined : inArray(d.priority, [0, 1]),
          ),
        )
        .orderBy(asc(d.sortKey), asc(d.id))
        .limit(limit)
        .for('update', { of: d, skipLocked: true });
      if (rows.length === 0) return [];
      await tx
        .update(d)
        .set({ state: 'leased', leaseUntil: now + leaseMs })
        .where(inArray(d.id, rows.map((r) => r.deliveryId)));
      return rows.map(toClaimed);
    });
  }

  async backlogOf(channelId: number, now: number): Promise<number> {
    const d = deliveries;
    const [row] = await this.db
      .select({ n: sql<number>`count(*) - count(${alerts.incidentId}) + count(distinct ${alerts.incidentId})`.mapWith(Number) })
      .from(d)
      .leftJoin(alerts, eq(alerts.id, d.alertId))
      .where(and(eq(d.channelId, channelId), sql`(${d.state} = 'leased' or (${d.state} = 'pending' and ${d.availableAt} <= ${now}))`));
    return row?.n ?? 0;
  }

  async incidentCard(incidentId: number, channelId: number): Promise<IncidentCard | undefined> {
    const d = deliveries;
    const [card] = await this.db
      .select({ deliveryId: d.id, webhookId: d.webhookId, messageId: sql<string>`${d.discordMessageId}`, threadId: d.threadId, sentAt: d.sentAt })
      .from(alerts)
      .innerJoin(d, eq(d.alertId, alerts.id))
      .where(
        and(
          eq(alerts.incidentId, incidentId),
          eq(d.channelId, channelId),
          eq(d.state, 'sent'),
          isNull(d.note),
          isNull(d.mention),
          isNull(d.stormId),
          isNotNull(d.discordMessageId),
          // A card the bot deleted (its webhook was gone; its members were queued again) is no card to join.
          sql`not exists (select 1 from message_ops o where o.discord_message_id = ${d.discordMessageId} and o.outcome in ('reposted', 'deleted_by_bot'))`,
        ),
      )
      .orderBy(desc(d.id))
      .limit(1);
    return card;
  }

  async incidentInFlight(incidentId: number, channelId: number, except: ReadonlySet<number>): Promise<boolean> {
    const d = deliveries;
    const rows = await this.db
      .select({ id: d.id })
      .from(alerts)
      .innerJoin(d, eq(d.alertId, alerts.id))
      .where(and(eq(alerts.incidentId, incidentId), eq(d.channelId, channelId), eq(d.state, 'leased'), isNull(d.note), isNull(d.mention)));
    return rows.some((r) => !except.has(r.id));
  }

  /** Leases every ready delivery of an incident's members in a channel (but `except`); rows another claim holds are skipped. */
  async claimIncident(incidentId: number, channelId: number, now: number, leaseMs: number, except: readonly number[]): Promise<ClaimedDelivery[]> {
    const d = deliveries;
    return this.db.transaction(async (tx) => {
      const rows = (
        await tx
          .select(claimedColumns)
          .from(d)
          .innerJoin(alerts, eq(alerts.id, d.alertId))
          .where(
            and(
              eq(alerts.incidentId, incidentId),
              eq(d.channelId, channelId),
              eq(d.state, 'pending'),
              sql`${d.availableAt} <= ${now}`,
              isNull(d.note),
              isNull(d.mention),
              isNull(d.message),
            ),
          )
          .orderBy(asc(d.sortKey), asc(d.id))
          .limit(500)
          .for('update', { of: d, skipLocked: true })
      ).filter((r) => !except.includes(r.deliveryId));
      if (rows.length === 0) return [];
      await tx
        .update(d)
        .set({ state: 'leased', leaseUntil: now + leaseMs })
        .where(and(inArray(d.id, rows.map((r) => r.deliveryId)), eq(d.state, 'pending')));
      return rows.map(toClaimed);
    });
  }

  async attach(ids: number[], card: IncidentCard, now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(deliveries)
      .set({ state: 'sent', webhookId: card.webhookId, discordMessageId: card.messageId, threadId: card.threadId, sentAt: card.sentAt ?? now, leaseUntil: null, lastError: null })
      .where(and(inArray(deliveries.id, ids), notInArray(deliveries.state, ['sent', 'cancelled', 'dead'])));
  }

  async nextAvailableAt(channelId: number): Promise<number | null> {
    const [row] = await this.db
      .select({ at: sql<number | null>`min(${deliveries.availableAt})`.mapWith(Number) })
      .from(deliveries)
      .where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'pending')));
    return row?.at ?? null;
  }

  async markSent(ids: number[], webhookId: number, messageId: string, now: number, attempt: AttemptRecord, openedThread?: string, stormId: number | null = null): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(deliveries)
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
        .where(inArray(deliveries.id, ids));
      await insertAttempts(tx, attempt);
    });
  }

  async release(ids: number[], opts: { availableAt: number; countAttempt: boolean; error?: string | null; renderLevel?: number; attempt?: AttemptRecord }): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx
        .update(deliveries)
        .set({
          state: 'pending',
          leaseUntil: null,
          availableAt: opts.availableAt,
          ...(opts.countAttempt ? { attempts: sql`${deliveries.attempts} + 1` } : {}),
          ...(opts.error !== undefined ? { lastError: opts.error } : {}),
          ...(opts.renderLevel !== undefined ? { renderLevel: opts.renderLevel } : {}),
        })
        .where(inArray(deliveries.id, ids));
      if (opts.attempt) await insertAttempts(tx, opts.attempt);
    });
  }

  async deadLetter(ids: number[], reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx
        .update(deliveries)
        .set({ state: 'dead', leaseUntil: null, lastError: reason, attempts: sql`${deliveries.attempts} + 1` })
        .where(inArray(deliveries.id, ids));
      // One row per delivery, in the order given (their ids follow it, as SQLite's inserts one by one do).
      await tx.insert(deadLetters).values(ids.map((deliveryId) => ({ deliveryId, reason, discordError, createdAt: now })));
      if (attempt) await insertAttempts(tx, attempt);
    });
  }

  async deadLetterChannel(channelId: number, reason: string, now: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      // Locked: a claim in flight is waited for, and what it leased is no longer pending.
      const ids = (
        await tx
          .select({ id: deliveries.id })
          .from(deliveries)
          .where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'pending')))
          .orderBy(asc(deliveries.id))
          .for('update')
      ).map((r) => r.id);
      const inTx = new PgOutbox(tx, this.agingMs);
      for (const part of chunks(ids, 500)) await inTx.deadLetter(part, reason, null, now);
      return ids.length;
    });
  }

  async pendingIn(channelId: number): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(deliveries)
      .where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'pending')));
    return row?.n ?? 0;
  }

  async cancelForAlert(alertId: number): Promise<number> {
    const rows = await this.db
      .update(deliveries)
      .set({ state: 'cancelled', leaseUntil: null, lastError: 'alert retracted before it was sent' })
      .where(and(eq(deliveries.alertId, alertId), eq(deliveries.state, 'pending')))
      .returning({ id: deliveries.id });
    return rows.length;
  }

  async reviveDead(id: number, priority: number, now: number): Promise<void> {
    await this.db
      .update(deliveries)
      .set({ state: 'pending', attempts: 0, renderLevel: 0, availableAt: now, leaseUntil: null, createdAt: now, sortKey: now + priority * this.agingMs })
      .where(eq(deliveries.id, id));
  }

  async recoverLeases(): Promise<number> {
    const rows = await this.db.update(deliveries).set({ state: 'pending', leaseUntil: null }).where(eq(deliveries.state, 'leased')).returning({ id: deliveries.id });
    return rows.length;
  }

  async reclaimExpiredLeases(now: number, held: ReadonlySet<number>): Promise<Map<number, number>> {
    const d = deliveries;
    return this.db.transaction(async (tx) => {
      const expired = (
        await tx
          .select({ id: d.id })
          .from(d)
          .where(and(eq(d.state, 'leased'), sql`${d.leaseUntil} < ${now}`))
          .orderBy(asc(d.id))
          .for('update')
      ).filter((r) => !held.has(r.id));
      const perChannel = new Map<number, number>();
      if (expired.length === 0) return perChannel;
      const reclaimed = await tx
        .update(d)
        .set({ state: 'pending', leaseUntil: null })
        .where(and(inArray(d.id, expired.map((r) => r.id)), eq(d.state, 'leased')))
        .returning({ id: d.id, channelId: d.channelId });
      for (const r of reclaimed.sort((a, b) => a.id - b.id)) perChannel.set(r.channelId, (perChannel.get(r.channelId) ?? 0) + 1);
      return perChannel;
    });
  }

  async recentMessageTimes(channelId: number, since: number): Promise<number[]> {
    const rows = await this.db
      .select({ at: sql<number>`max(${deliveries.sentAt})`.mapWith(Number) })
      .from(deliveries)
      .where(and(eq(deliveries.channelId, channelId), eq(deliveries.state, 'sent'), sql`${deliveries.sentAt} > ${since}`))
      .groupBy(deliveries.discordMessageId)
      .orderBy(sql`1`);
    return rows.map((r) => r.at);
  }

  async lastSentAt(): Promise<number | null> {
    const [row] = await this.db.select({ at: sql<number | null>`max(${deliveries.sentAt})`.mapWith(Number) }).from(deliveries);
    return row?.at ?? null;
  }

  async pendingByChannel(): Promise<Map<number, number>> {
    const rows = await this.db
      .select({ channelId: deliveries.channelId, n: sql<number>`count(*)`.mapWith(Number) })
      .from(deliveries)
      .where(inArray(deliveries.state, ['pending', 'leased']))
      .groupBy(deliveries.channelId)
      .orderBy(asc(deliveries.channelId));
    return new Map(rows.map((r) => [r.channelId, r.n]));
  }

  async depthByPriority(): Promise<Record<number, number>> {
    const out: Record<number, number> = { 0: 0, 1: 0, 2: 0, 3: 0 };
    const rows = await this.db
      .select({ priority: deliveries.priority, n: sql<number>`count(*)`.mapWith(Number) })
      .from(deliveries)
      .where(inArray(deliveries.state, ['pending', 'leased']))
      .groupBy(deliveries.priority)
      .orderBy(asc(deliveries.priority));
    for (const r of rows) out[r.priority] = r.n;
    return out;
  }

  /** The threads of the alert's sent cards, by channel then thread id (SQLite's group-by order), with its incident. */
  private async threadsOf(alertId: number): Promise<{ channelId: number; threadId: string; priority: number; incidentId: number | null }[]> {
    const d = deliveries;
    return this.db
      .select({
        channelId: d.channelId,
        threadId: sql<string>`${d.threadId}`,
        priority: sql<number>`min(${d.priority})`.mapWith(Number),
        incidentId: sql<number | null>`(select a.incident_id from alerts a where a.id = ${alertId})`.mapWith(Number),
      })
      .from(d)
      .where(and(eq(d.alertId, alertId), eq(d.state, 'sent'), isNull(d.note), isNotNull(d.threadId)))
      .groupBy(d.channelId, d.threadId)
      .orderBy(asc(d.channelId), sql`${d.threadId} collate "C"`);
  }

  private async insert(row: InsertDelivery): Promise<void> {
    await this.db.insert(deliveries).values({ ...row, createdAt: row.availableAt });
  }
}

/** One request may carry several packed deliveries; each gets the attempt so its history is complete. */
async function insertAttempts(db: PgExecutor, a: AttemptRecord): Promise<void> {
  const ids = a.deliveryIds.length ? a.deliveryIds : [null];
  await db.insert(attempts).values(ids.map((deliveryId) => attemptRow(a, deliveryId)));
}
