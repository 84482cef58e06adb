import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { scrubSecrets } from '../../log.js';
import type { AttemptFilter, AttemptStore, AttemptView, MinuteCount } from '../attempts.js';
import type { PgExecutor } from './open.js';
import { attempts } from './schema.js';

/**
 * `../attempts.ts` on PostgreSQL. The same queries; what PostgreSQL needs said: a bigint expression or a `count` comes
 * back from node-postgres as a string, so those are mapped to numbers (`mapWith(Number)`), and the text key of a
 * request casts its integer columns (`coalesce(webhook_id, '')` would not type-check).
 */
export class PgAttemptStore implements Pick<AttemptStore, keyof AttemptStore> {
  constructor(private readonly db: PgExecutor) {}

  /** Newest first, error text scrubbed of secrets. */
  async list(f: AttemptFilter): Promise<AttemptView[]> {
    const rows = await this.db
      .select({
        id: attempts.id,
        delivery_id: attempts.deliveryId,
        webhook_id: attempts.webhookId,
        at: attempts.at,
        status: attempts.status,
        latency_ms: attempts.latencyMs,
        outcome: attempts.outcome,
        error: attempts.error,
        rate_limit_scope: attempts.rateLimitScope,
      })
      .from(attempts)
      .where(
        and(
          f.webhookId === undefined ? undefined : eq(attempts.webhookId, f.webhookId),
          f.deliveryId === undefined ? undefined : eq(attempts.deliveryId, f.deliveryId),
          f.status === undefined ? undefined : eq(attempts.status, f.status),
          f.outcome === undefined ? undefined : eq(attempts.outcome, f.outcome),
          f.beforeId === undefined ? undefined : lt(attempts.id, f.beforeId),
        ),
      )
      .orderBy(desc(attempts.id))
      .limit(f.limit);
    return rows.map((a) => ({ ...a, error: a.error === null ? null : scrubSecrets(a.error) }));
  }

  /**
   * Requests to Discord per minute since `since` (epoch ms): how many, and how many were answered 429; a packed
   * request's rows (one per delivery, same webhook, time, operation and outcome) count once. Only minutes with a
   * request are listed; reads the `attempts_at` index. `at / 60000` is bigint division, which truncates, as SQLite's
   * integer division does (times are positive).
   */
  async perMinute(since: number): Promise<MinuteCount[]> {
    // No parameters in these two: GROUP BY and ORDER BY repeat the select's expression, which PostgreSQL matches by its text.
    const minute = sql<number>`(${attempts.at} / 60000) * 60000`;
    const request = sql`coalesce(${attempts.webhookId}::text, '') || ':' || ${attempts.at}::text || ':' || coalesce(${attempts.opId}::text, '') || ':' || ${attempts.outcome}`;
    return this.db
      .select({
        minute: minute.mapWith(Number),
        requests: sql<number>`count(distinct ${request})`.mapWith(Number),
        rateLimited: sql<number>`count(distinct case when ${attempts.status} = 429 then ${request} end)`.mapWith(Number),
      })
      .from(attempts)
      .where(gte(attempts.at, since))
      .groupBy(minute)
      .orderBy(minute);
  }
}
