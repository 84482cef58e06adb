import { and, count, desc, eq, isNull, lt } from 'drizzle-orm';
import type { Outbox } from './deliveries.js';
import type { MessageOps } from './message-ops.js';
import { conflict, notFound } from '../domain/errors.js';
import { scrubSecrets } from '../log.js';
import type { Db } from './sqlite/open.js';
import { alerts, deadLetters, deliveries } from './sqlite/schema.js';

export interface DeadLetterView {
  id: number;
  delivery_id: number;
  /** Null for a message about no alert (a daily digest). */
  alert_id: number | null;
  channel_id: number;
  alert_title: string | null;
  severity: 'P0' | 'P1' | 'P2' | 'P3' | null;
  reason: string;
  /** Discord's own error body (JSON text) when it gave one. */
  discord_error: string | null;
  created_at: number;
  replayed_at: number | null;
}

export interface DeadLetterFilter {
  limit: number;
  /** Only those not replayed yet. */
  pending?: boolean;
  beforeId?: number;
}

/**
 * Dead letters (dead_letters): rows are added by the outbox and the message operations when they give up
 * (store/deliveries.ts, store/message-ops.ts, in the same transaction); listed and replayed here.
 */
export class DeadLetterStore {
  constructor(
    private readonly db: Db,
    private readonly deliveries: Pick<Outbox, 'reviveDeadSync'>,
    private readonly messageOps: Pick<MessageOps, 'reviveDeadSync'>,
  ) {}

  /** Newest first, text scrubbed of secrets. */
  async list(f: DeadLetterFilter): Promise<DeadLetterView[]> {
    return this.db
      .select({
        id: deadLetters.id,
        delivery_id: deadLetters.deliveryId,
        alert_id: deliveries.alertId,
        channel_id: deliveries.channelId,
        alert_title: alerts.title,
        severity: alerts.severity,
        reason: deadLetters.reason,
        discord_error: deadLetters.discordError,
        created_at: deadLetters.createdAt,
        replayed_at: deadLetters.replayedAt,
      })
      .from(deadLetters)
      .innerJoin(deliveries, eq(deliveries.id, deadLetters.deliveryId))
      .leftJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(and(f.pending ? isNull(deadLetters.replayedAt) : undefined, f.beforeId === undefined ? undefined : lt(deadLetters.id, f.beforeId)))
      .orderBy(desc(deadLetters.id))
      .limit(f.limit)
      .all()
      .map((d) => ({ ...d, reason: scrubSecrets(d.reason), discord_error: d.discord_error === null ? null : scrubSecrets(d.discord_error) }));
  }

  /**
   * Puts a dead delivery (or dead message operation) back from a fresh start (attempts 0, normal
   * rendering, available now, a new age budget) and marks the dead letter replayed, in one transaction.
   * 404 / 409 when there is nothing to replay. `op`: it was a message operation.
   */
  async replay(id: number, now: number): Promise<{ delivery_id: number; channel_id: number; op: boolean }> {
    return this.db.transaction((tx) => {
      const dl = tx
        .select({ replayedAt: deadLetters.replayedAt, deliveryId: deadLetters.deliveryId, opId: deadLetters.opId, state: deliveries.state, channelId: deliveries.channelId, priority: deliveries.priority })
        .from(deadLetters)
        .innerJoin(deliveries, eq(deliveries.id, deadLetters.deliveryId))
        .where(eq(deadLetters.id, id))
        .get();
      if (!dl) throw notFound('dead letter', id);
      if (dl.replayedAt !== null) throw conflict(`dead letter ${id} was already replayed`);
      if (dl.opId !== null) {
        // An edit or delete of the delivery's message: run that operation again from a fresh start.
        const n = this.messageOps.reviveDeadSync(dl.opId, now);
        if (!n) throw conflict(`the message edit of dead letter ${id} is no longer dead; nothing to replay`);
        tx.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id)).run();
        return { delivery_id: dl.deliveryId, channel_id: dl.channelId, op: true };
      }
      if (dl.state !== 'dead') throw conflict(`delivery ${dl.deliveryId} is ${dl.state}, not dead; nothing to replay`);
      this.deliveries.reviveDeadSync(dl.deliveryId, dl.priority, now);
      tx.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id)).run();
      return { delivery_id: dl.deliveryId, channel_id: dl.channelId, op: false };
    });
  }

  /** Dead letters not replayed yet, for /status. */
  async countPending(): Promise<number> {
    return this.db.select({ n: count() }).from(deadLetters).where(isNull(deadLetters.replayedAt)).get()?.n ?? 0;
  }
}
