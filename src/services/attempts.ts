import { and, desc, eq, lt } from 'drizzle-orm';
import { attempts } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { scrubSecrets } from '../log.js';
import type { AttemptView } from './views.js';

export interface AttemptFilter {
  limit: number;
  webhookId?: number;
  deliveryId?: number;
  status?: number;
  outcome?: string;
  beforeId?: number;
}

/** Requests Herald made to Discord, newest first. */
export function listAttempts(h: Pick<Herald, 'db'>, f: AttemptFilter): AttemptView[] {
  return h.db
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
