import { and, asc, eq, inArray, isNull, lt, lte, ne, sql } from 'drizzle-orm';
import type { StatefulAlert } from '../../domain/alert-state.js';
import { attemptRow, type AttemptRecord } from '../delivery-rows.js';
import type { MessageOps, OpPurpose, ReadyOp } from '../message-ops.js';
import { renderColumns } from './delivery-rows.js';
import type { PgExecutor } from './open.js';
import { alerts, attempts, channels, deadLetters, deliveries, messageOps, webhooks } from './schema.js';

/** One sent message: its first delivery, with that row's channel and webhook. */
interface SentMessage {
  deliveryId: number;
  channelId: number;
  webhookId: number | null;
  messageId: string | null;
}

/**
 * `../message-ops.ts` on PostgreSQL: every method but the `…Sync` twins (SQLite's siblings call them inside
 * synchronous better-sqlite3 transactions; PostgreSQL's siblings await `enqueueMessage` and `reviveDead`).
 *
 * What PostgreSQL needs said:
 * - SQLite's `select min(id), channel_id, … group by discord_message_id` takes the bare columns from the row with the
 *   smallest id (SQLite's rule for a lone min()); here the first delivery of each message is picked by id
 *   (`id in (select min(id) … group by …)`), in SQLite's group order (the message id, bytewise: `collate "C"`,
 *   nulls first).
 * - Where SQLite's one writer needs nothing, lanes here may run side by side: `ready` skips the operations another
 *   transaction has locked (`for update of message_ops skip locked`), and `lease` leases an operation only while it
 *   is pending and no other transaction holds it (`for update skip locked`): of two lanes that read the same ready
 *   operation, each in a transaction with its lease, one leases it and the other's `ready` does not see it (or its
 *   `lease` changes nothing: the operation stays the first lane's, with its lease time). A `lease` of an operation
 *   no longer pending (SQLite would lease it again) leaves it as it is.
 * - Counts, `min`/`max` of a bigint come back as strings: mapped to numbers.
 */
export class PgMessageOps implements Pick<MessageOps, Exclude<keyof MessageOps, 'enqueueMessageSync' | 'reviveDeadSync'>> {
  constructor(private readonly db: PgExecutor) {}

  /** The first delivery of each sent message matching `where`, in SQLite's group order. */
  private async firstDeliveries(where: ReturnType<typeof and>): Promise<SentMessage[]> {
    const d = deliveries;
    const first = this.db.select({ id: sql`min(${d.id})` }).from(d).where(where).groupBy(d.discordMessageId);
    return this.db
      .select({ deliveryId: d.id, channelId: d.channelId, webhookId: d.webhookId, messageId: d.discordMessageId })
      .from(d)
      .where(inArray(d.id, first))
      .orderBy(sql`${d.discordMessageId} collate "C" nulls first`);
  }

  async enqueueForAlert(alertId: number, purpose: OpPurpose, now: number, skipMessageId?: string): Promise<{ channels: Set<number>; messages: number }> {
    const d = deliveries;
    const sent = await this.firstDeliveries(and(eq(d.alertId, alertId), eq(d.state, 'sent'), isNull(d.note)));
    const channelIds = new Set<number>();
    for (const m of sent) {
      if (m.messageId === null || m.messageId === skipMessageId) continue;
      if (await this.enqueueMessage(m.channelId, m.webhookId, m.messageId, m.deliveryId, purpose, now)) channelIds.add(m.channelId);
    }
    return { channels: channelIds, messages: sent.length };
  }

  async enqueueForIncident(incidentId: number, now: number, opts: { skipMessageId?: string; at?: number } = {}): Promise<Set<number>> {
    const d = deliveries;
    const cards = await this.firstDeliveries(
      and(
        inArray(d.alertId, this.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.incidentId, incidentId))),
        eq(d.state, 'sent'),
        isNull(d.note),
        isNull(d.stormId),
        sql`${d.discordMessageId} is not null`,
      ),
    );
    const channelIds = new Set<number>();
    for (const m of cards) {
      if (m.messageId === null) continue;
      if (opts.at !== undefined) {
        await this.db.insert(messageOps).values({ channelId: m.channelId, webhookId: m.webhookId, discordMessageId: m.messageId, deliveryId: m.deliveryId, purpose: 'mute-end', availableAt: opts.at, createdAt: now });
        channelIds.add(m.channelId);
      } else if (m.messageId !== opts.skipMessageId && (await this.enqueueMessage(m.channelId, m.webhookId, m.messageId, m.deliveryId, 'sync', now))) channelIds.add(m.channelId);
    }
    return channelIds;
  }

  async enqueueMessage(channelId: number, webhookId: number | null, messageId: string, deliveryId: number, purpose: OpPurpose, now: number): Promise<boolean> {
    const o = messageOps;
    // A `mute-end` edit waits for its mute to run out: it covers no change made before then.
    const pending = await this.db
      .select({ id: o.id })
      .from(o)
      .where(and(eq(o.discordMessageId, messageId), eq(o.state, 'pending'), eq(o.via, 'webhook'), ne(o.purpose, 'mute-end')))
      .limit(1);
    if (pending.length > 0) return false;
    await this.db.insert(o).values({ channelId, webhookId, discordMessageId: messageId, deliveryId, purpose, availableAt: now, createdAt: now });
    return true;
  }

  async enqueueThreadStart(channelId: number, webhookId: number, messageId: string, deliveryId: number, now: number): Promise<void> {
    await this.db.insert(messageOps).values({ channelId, webhookId, discordMessageId: messageId, deliveryId, purpose: 'thread', via: 'bot', availableAt: now, createdAt: now });
  }

  /** Ready operations of a channel, oldest first; those another transaction holds locked are skipped. */
  async ready(channelId: number, now: number, limit: number): Promise<ReadyOp[]> {
    const o = messageOps;
    const rows = await this.db
      .select({
        id: o.id,
        channelId: o.channelId,
        discordChannelId: channels.discordChannelId,
        discordMessageId: o.discordMessageId,
        channelKind: channels.kind,
        deliveryId: o.deliveryId,
        purpose: o.purpose,
        via: o.via,
        attempts: o.attempts,
        createdAt: o.createdAt,
        webhookId: webhooks.id,
        discordWebhookId: webhooks.discordWebhookId,
        token: webhooks.token,
        owner: webhooks.owner,
        goneAt: webhooks.goneAt,
      })
      .from(o)
      .innerJoin(channels, eq(channels.id, o.channelId))
      .leftJoin(webhooks, eq(webhooks.id, o.webhookId))
      .where(and(eq(o.channelId, channelId), eq(o.state, 'pending'), lte(o.availableAt, now)))
      .orderBy(asc(o.id))
      .limit(limit)
      .for('update', { of: o, skipLocked: true });
    return rows.map((r) => ({
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
        r.webhookId === null ? null : { id: r.webhookId, discordWebhookId: r.discordWebhookId!, token: r.token!, owner: r.owner!, gone: r.goneAt !== null },
    }));
  }

  /** Leases a pending operation no other transaction holds (see the class's comment). */
  async lease(id: number, until: number): Promise<void> {
    const o = messageOps;
    const free = this.db
      .select({ id: o.id })
      .from(o)
      .where(and(eq(o.id, id), eq(o.state, 'pending')))
      .for('update', { skipLocked: true });
    await this.db.update(o).set({ state: 'leased', leaseUntil: until }).where(inArray(o.id, free));
  }

  async alertsOf(messageId: string): Promise<(StatefulAlert & { changedAt: number | null; mention: string | null })[]> {
    const rows = await this.db
      .select({ ...renderColumns, mention: deliveries.mention })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(eq(deliveries.discordMessageId, messageId), eq(deliveries.state, 'sent')))
      .orderBy(asc(deliveries.id));
    // Once each: an incident member whose severity went up joins its card again (a second delivery of it there).
    const seen = new Set<number>();
    return rows.filter((a) => !seen.has(a.id) && seen.add(a.id) !== undefined);
  }

  async isCompact(messageId: string): Promise<boolean> {
    const rows = await this.db
      .select({ one: sql`1` })
      .from(deliveries)
      .where(and(eq(deliveries.discordMessageId, messageId), sql`${deliveries.stormId} is not null`))
      .limit(1);
    return rows.length > 0;
  }

  async syncIfChanged(sent: { id: number; changedAt: number | null }[], channelId: number, webhookId: number, messageId: string, deliveryId: number, now: number): Promise<boolean> {
    const ids = sent.map((a) => a.id);
    const rows = ids.length === 0 ? [] : await this.db.select({ id: alerts.id, changedAt: alerts.changedAt }).from(alerts).where(inArray(alerts.id, ids));
    const current = new Map(rows.map((r) => [r.id, r.changedAt]));
    if (!sent.some((a) => (current.get(a.id) ?? null) !== a.changedAt)) return false;
    return this.enqueueMessage(channelId, webhookId, messageId, deliveryId, 'sync', now);
  }

  async muteEndIfMuted(incidentId: number, channelId: number, webhookId: number, messageId: string, deliveryId: number, now: number): Promise<boolean> {
    const [row] = await this.db.execute<{ until: string | null }>(
      sql`select max(m.expires_at) as until from incidents i join mutes m on m.incident_key = i.key and m.source_id is not distinct from i.source_id
          where i.id = ${incidentId} and m.ended_at is null and m.expires_at > ${now}`,
    ).then((r) => r.rows);
    if (row === undefined || row.until === null) return false;
    const at = Number(row.until) + 1;
    const o = messageOps;
    const existing = await this.db
      .select({ id: o.id })
      .from(o)
      .where(and(eq(o.discordMessageId, messageId), eq(o.purpose, 'mute-end'), eq(o.state, 'pending'), eq(o.availableAt, at)))
      .limit(1);
    if (existing.length > 0) return false;
    await this.db.insert(o).values({ channelId, webhookId, discordMessageId: messageId, deliveryId, purpose: 'mute-end', availableAt: at, createdAt: now });
    return true;
  }

  async nextAvailableAt(channelId: number): Promise<number | null> {
    const [row] = await this.db
      .select({ at: sql<number | null>`min(${messageOps.availableAt})`.mapWith(Number) })
      .from(messageOps)
      .where(and(eq(messageOps.channelId, channelId), eq(messageOps.state, 'pending')));
    return row?.at ?? null;
  }

  /** Finished. `also` runs in the same transaction, awaited (a repost's new deliveries commit with the outcome). */
  async done(id: number, outcome: string, now: number, attempt?: AttemptRecord, also?: () => void | Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.update(messageOps).set({ state: 'done', outcome, doneAt: now, leaseUntil: null }).where(eq(messageOps.id, id));
      if (attempt) await this.recordAttempt(tx, id, attempt);
      await also?.();
    });
  }

  async retry(id: number, opts: { availableAt: number; countAttempt: boolean; error?: string; attempt?: AttemptRecord }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(messageOps)
        .set({
          state: 'pending',
          leaseUntil: null,
          availableAt: opts.availableAt,
          ...(opts.countAttempt ? { attempts: sql`${messageOps.attempts} + 1` } : {}),
          ...(opts.error !== undefined ? { lastError: opts.error } : {}),
        })
        .where(eq(messageOps.id, id));
      if (opts.attempt) await this.recordAttempt(tx, id, opts.attempt);
    });
  }

  async toBot(id: number, now: number, reason: string, attempt?: AttemptRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.update(messageOps).set({ state: 'pending', via: 'bot', attempts: 0, leaseUntil: null, availableAt: now, lastError: reason }).where(eq(messageOps.id, id));
      if (attempt) await this.recordAttempt(tx, id, attempt);
    });
  }

  async dead(id: number, deliveryId: number, reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(messageOps)
        .set({ state: 'dead', outcome: 'dead', leaseUntil: null, lastError: reason, attempts: sql`${messageOps.attempts} + 1` })
        .where(eq(messageOps.id, id));
      await tx.insert(deadLetters).values({ deliveryId, opId: id, reason, discordError, createdAt: now });
      if (attempt) await this.recordAttempt(tx, id, attempt);
    });
  }

  async reviveDead(id: number, now: number): Promise<number> {
    const rows = await this.db
      .update(messageOps)
      .set({ state: 'pending', attempts: 0, availableAt: now, leaseUntil: null, createdAt: now })
      .where(and(eq(messageOps.id, id), eq(messageOps.state, 'dead')))
      .returning({ id: messageOps.id });
    return rows.length;
  }

  async recoverLeases(): Promise<number> {
    const rows = await this.db.update(messageOps).set({ state: 'pending', leaseUntil: null }).where(eq(messageOps.state, 'leased')).returning({ id: messageOps.id });
    return rows.length;
  }

  /**
   * As SQLite's; an expired lease another transaction holds locked (its outcome being written) is skipped, not
   * waited for.
   */
  async reclaimExpiredLeases(now: number, channelIds: readonly number[], held: ReadonlySet<number>): Promise<Set<number>> {
    if (channelIds.length === 0) return new Set();
    const o = messageOps;
    return this.db.transaction(async (tx) => {
      const expired = (
        await tx
          .select({ id: o.id, channelId: o.channelId })
          .from(o)
          .where(and(inArray(o.channelId, [...channelIds]), eq(o.state, 'leased'), lt(o.leaseUntil, now)))
          .orderBy(asc(o.id))
          .for('update', { skipLocked: true })
      ).filter((r) => !held.has(r.id));
      if (expired.length === 0) return new Set<number>();
      await tx
        .update(o)
        .set({ state: 'pending', leaseUntil: null })
        .where(and(inArray(o.id, expired.map((r) => r.id)), eq(o.state, 'leased')));
      return new Set(expired.map((r) => r.channelId));
    });
  }

  async pendingByChannel(): Promise<Map<number, number>> {
    const rows = await this.db
      .select({ channelId: messageOps.channelId, n: sql<number>`count(*)`.mapWith(Number) })
      .from(messageOps)
      .where(inArray(messageOps.state, ['pending', 'leased']))
      .groupBy(messageOps.channelId)
      .orderBy(messageOps.channelId);
    return new Map(rows.map((r) => [r.channelId, r.n]));
  }

  private async recordAttempt(tx: PgExecutor, opId: number, a: AttemptRecord): Promise<void> {
    await tx.insert(attempts).values(attemptRow(a, a.deliveryIds[0] ?? null, opId));
  }
}
