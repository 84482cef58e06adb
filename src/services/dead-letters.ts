import { and, count, desc, eq, isNull, lt } from 'drizzle-orm';
import { alerts, deadLetters, deliveries, messageOps } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { scrubSecrets } from '../log.js';
import { conflict, notFound } from './errors.js';
import type { DeadLetterView } from './views.js';

export interface DeadLetterFilter {
  limit: number;
  /** Only those not replayed yet. */
  pending?: boolean;
  beforeId?: number;
}

/** Dead letters, newest first. */
export function listDeadLetters(h: Pick<Herald, 'db'>, f: DeadLetterFilter): DeadLetterView[] {
  return h.db
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
 * Sends a dead delivery again: back to pending with a fresh start (attempts 0, normal rendering,
 * available now, a new age budget), the dead letter marked replayed, and the channel's lane woken.
 */
export function replayDeadLetter(h: Pick<Herald, 'db' | 'scheduler' | 'config'>, id: number, now = Date.now()): { delivery_id: number; channel_id: number } {
  const result = h.db.transaction((tx) => {
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
      const n = tx
        .update(messageOps)
        .set({ state: 'pending', attempts: 0, availableAt: now, leaseUntil: null, createdAt: now })
        .where(and(eq(messageOps.id, dl.opId), eq(messageOps.state, 'dead')))
        .run().changes;
      if (!n) throw conflict(`the message edit of dead letter ${id} is no longer dead; nothing to replay`);
      tx.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id)).run();
      return { delivery_id: dl.deliveryId, channel_id: dl.channelId, op: true };
    }
    if (dl.state !== 'dead') throw conflict(`delivery ${dl.deliveryId} is ${dl.state}, not dead; nothing to replay`);
    tx.update(deliveries)
      .set({
        state: 'pending',
        attempts: 0,
        renderLevel: 0,
        availableAt: now,
        leaseUntil: null,
        // A fresh age budget: the retry limit by age counts from the replay, not from the first try.
        createdAt: now,
        sortKey: now + dl.priority * h.config.delivery.agingMs,
      })
      .where(eq(deliveries.id, dl.deliveryId))
      .run();
    tx.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id)).run();
    return { delivery_id: dl.deliveryId, channel_id: dl.channelId, op: false };
  });
  if (result.op) h.scheduler.wakeOps(result.channel_id);
  else h.scheduler.wake(result.channel_id, 1);
  return { delivery_id: result.delivery_id, channel_id: result.channel_id };
}

/** Dead letters not replayed yet, for /status. */
export function countPendingDeadLetters(h: Pick<Herald, 'db'>): number {
  return h.db.select({ n: count() }).from(deadLetters).where(isNull(deadLetters.replayedAt)).get()?.n ?? 0;
}
