import { and, eq, lt, sql } from 'drizzle-orm';
import type { IdempotencyStore } from '../idempotency.js';
import type { PgExecutor } from './open.js';
import { idempotencyKeys, seenWebhookIds } from './schema.js';

const PRUNE_EVERY_MS = 60_000;

/**
 * A source id as the methods take it, `number | null`, bound as a parameter: the columns are NOT NULL, so a null
 * matches nothing and cannot be saved (a not-null violation), as on SQLite, whose placeholders take it untyped.
 */
const source = (id: number | null) => sql<number>`${id}`;

/** When `pruneWebhookIdsNowAndThen` last pruned: one per store, shared by the pool's module and each transaction's. */
export interface PruneClock {
  lastPrune: number;
}

/**
 * `../idempotency.ts` on PostgreSQL: the same statements, as plain queries (SQLite's are prepared once for the
 * ingest path; with node-postgres a prepared statement is per connection, which is a later optimisation if ever).
 * Its public methods but `forgetSourceSync`: that twin exists for better-sqlite3's synchronous transactions
 * (`sources.ts` calls it inside one), which PostgreSQL does not have: a PostgreSQL `sources` awaits `forgetSource`.
 */
export class PgIdempotencyStore implements Pick<IdempotencyStore, Exclude<keyof IdempotencyStore, 'forgetSourceSync'>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly clock: PruneClock,
  ) {}

  /** The answer recorded for this Idempotency-Key, and the fingerprint of the request it came with. */
  async key(sourceId: number | null, key: string): Promise<{ response: string; bodyHash: string | null } | undefined> {
    const [row] = await this.db
      .select({ response: idempotencyKeys.response, bodyHash: idempotencyKeys.bodyHash })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.sourceId, source(sourceId)), eq(idempotencyKeys.key, key)))
      .limit(1);
    return row;
  }

  async saveKeyAnswer(sourceId: number | null, key: string, fingerprint: string, response: string, createdAt: number): Promise<void> {
    await this.db.insert(idempotencyKeys).values({ sourceId: source(sourceId), key, response, bodyHash: fingerprint, createdAt });
  }

  /** The answer recorded for a signed message's id (null: recorded before answers were kept). */
  async webhookIdAnswer(sourceId: number | null, messageId: string): Promise<string | null | undefined> {
    const [row] = await this.db
      .select({ response: seenWebhookIds.response })
      .from(seenWebhookIds)
      .where(and(eq(seenWebhookIds.sourceId, source(sourceId)), eq(seenWebhookIds.messageId, messageId)))
      .limit(1);
    return row?.response;
  }

  async saveWebhookIdAnswer(sourceId: number | null, messageId: string, keepUntil: number, response: string): Promise<void> {
    await this.db
      .insert(seenWebhookIds)
      .values({ sourceId: source(sourceId), messageId, expiresAt: keepUntil, response })
      // A row without an answer is from before answers were kept: the message is stored now, so keep this one.
      .onConflictDoUpdate({ target: [seenWebhookIds.sourceId, seenWebhookIds.messageId], set: { response: sql`excluded.response`, expiresAt: sql`excluded.expires_at` } });
  }

  /** Forgets a source's keys and ids (the source was deleted; inside that transaction). */
  async forgetSource(sourceId: number): Promise<void> {
    await this.db.delete(idempotencyKeys).where(eq(idempotencyKeys.sourceId, sourceId));
    await this.db.delete(seenWebhookIds).where(eq(seenWebhookIds.sourceId, sourceId));
  }

  /** Forgets webhook ids past their time, at most once a minute (the hook calls it on each signed request). */
  async pruneWebhookIdsNowAndThen(now = Date.now()): Promise<void> {
    if (now - this.clock.lastPrune < PRUNE_EVERY_MS) return;
    this.clock.lastPrune = now;
    await this.db.delete(seenWebhookIds).where(lt(seenWebhookIds.expiresAt, now));
  }
}
