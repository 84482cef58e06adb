import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { scrubSecrets } from '../log.js';
import type { Db } from './sqlite/open.js';
import { attempts } from './sqlite/schema.js';

export interface AttemptView {
  id: number;
  delivery_id: number | null;
  webhook_id: number | null;
  at: number;
  /** HTTP status, or null when Discord did not answer (timeout, connection error). */
  status: number | null;
  latency_ms: number;
  outcome: string;
  error: string | null;
  rate_limit_scope: string | null;
}

export interface AttemptFilter {
  limit: number;
  webhookId?: number;
  deliveryId?: number;
  status?: number;
  outcome?: string;
  beforeId?: number;
}

/** Requests Herald made to Discord (attempts); rows are written with the outcome they record (store/deliveries.ts, store/message-ops.ts). */
export class AttemptStore {
  constructor(private readonly db: Db) {}

  /** Newest first, error text scrubbed of secrets. */
  async list(f: AttemptFilter): Promise<AttemptView[]> {
    return this.db
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
      .limit(f.limit)
      .all()
      .map((a) => ({ ...a, error: a.error === null ? null : scrubSecrets(a.error) }));
  }

  /**
   * Requests to Discord per minute since `since` (epoch ms): how many, and how many were answered 429.
   * A request that carried several packed deliveries wrote one row per delivery, all with the same
   * webhook, time and operation: those count once. Only minutes with a request are listed (the caller
   * fills the gaps); reads the `attempts_at` index.
   */
  async perMinute(since: number): Promise<MinuteCount[]> {
    const minute = sql<number>`(${attempts.at} / 60000) * 60000`;
    const request = sql`coalesce(${attempts.webhookId}, '') || ':' || ${attempts.at} || ':' || coalesce(${attempts.opId}, '') || ':' || ${attempts.outcome}`;
    return this.db
      .select({
        minute,
        requests: sql<number>`count(distinct ${request})`,
        rateLimited: sql<number>`count(distinct case when ${attempts.status} = 429 then ${request} end)`,
      })
      .from(attempts)
      .where(gte(attempts.at, since))
      .groupBy(minute)
      .orderBy(minute)
      .all();
  }
}

/** One minute of requests to Discord (AttemptStore.perMinute). */
export interface MinuteCount {
  /** The minute's start, epoch ms. */
  minute: number;
  requests: number;
  rateLimited: number;
}
