import { and, count, desc, eq, isNull, lt } from 'drizzle-orm';
import type { DeadLetterFilter, DeadLetterStore, DeadLetterView } from '../dead-letters.js';
import { conflict, notFound } from '../../domain/errors.js';
import { scrubSecrets } from '../../log.js';
import type { PgOutbox } from './deliveries.js';
import type { PgMessageOps } from './message-ops.js';
import type { PgExecutor } from './open.js';
import { alerts, deadLetters, deliveries } from './schema.js';

/** The siblings `replay` revives through, built over the executor it runs on (its own transaction). */
export interface DeadLetterSiblings {
  deliveries: Pick<PgOutbox, 'reviveDead'>;
  messageOps: Pick<PgMessageOps, 'reviveDead'>;
}

/**
 * `../dead-letters.ts` on PostgreSQL: the same queries. `replay` runs in a transaction of its own (a savepoint inside
 * the caller's) and revives the delivery or the message operation through the PostgreSQL outbox / message operations
 * modules built over that transaction (`siblings(tx)`), where SQLite's calls their `…Sync` twins. The dead letter's
 * row is locked (`for update of dead_letters`): of two replays at once, the second waits and then finds it replayed
 * (409), as SQLite's one writer gives.
 */
export class PgDeadLetterStore implements Pick<DeadLetterStore, keyof DeadLetterStore> {
  constructor(
    private readonly db: PgExecutor,
    private readonly siblings: (over: PgExecutor) => DeadLetterSiblings,
  ) {}

  /** Newest first, text scrubbed of secrets. */
  async list(f: DeadLetterFilter): Promise<DeadLetterView[]> {
    const rows = await this.db
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
      .limit(f.limit);
    return rows.map((d) => ({ ...d, reason: scrubSecrets(d.reason), discord_error: d.discord_error === null ? null : scrubSecrets(d.discord_error) }));
  }

  async replay(id: number, now: number): Promise<{ delivery_id: number; channel_id: number; op: boolean }> {
    return this.db.transaction(async (tx) => {
      const [dl] = await tx
        .select({ replayedAt: deadLetters.replayedAt, deliveryId: deadLetters.deliveryId, opId: deadLetters.opId, state: deliveries.state, channelId: deliveries.channelId, priority: deliveries.priority })
        .from(deadLetters)
        .innerJoin(deliveries, eq(deliveries.id, deadLetters.deliveryId))
        .where(eq(deadLetters.id, id))
        .for('update', { of: deadLetters });
      if (!dl) throw notFound('dead letter', id);
      if (dl.replayedAt !== null) throw conflict(`dead letter ${id} was already replayed`);
      const siblings = this.siblings(tx);
      if (dl.opId !== null) {
        // An edit or delete of the delivery's message: run that operation again from a fresh start.
        const n = await siblings.messageOps.reviveDead(dl.opId, now);
        if (!n) throw conflict(`the message edit of dead letter ${id} is no longer dead; nothing to replay`);
        await tx.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id));
        return { delivery_id: dl.deliveryId, channel_id: dl.channelId, op: true };
      }
      if (dl.state !== 'dead') throw conflict(`delivery ${dl.deliveryId} is ${dl.state}, not dead; nothing to replay`);
      await siblings.deliveries.reviveDead(dl.deliveryId, dl.priority, now);
      await tx.update(deadLetters).set({ replayedAt: now }).where(eq(deadLetters.id, id));
      return { delivery_id: dl.deliveryId, channel_id: dl.channelId, op: false };
    });
  }

  /** Dead letters not replayed yet, for /status (drizzle's `count()` maps PostgreSQL's bigint count to a number). */
  async countPending(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(deadLetters).where(isNull(deadLetters.replayedAt));
    return row?.n ?? 0;
  }
}
