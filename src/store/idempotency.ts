import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { idempotencyKeys, seenWebhookIds } from './sqlite/schema.js';

const p = sql.placeholder;
const PRUNE_EVERY_MS = 60_000;

/**
 * What makes a request the same as an earlier one: senders' Idempotency-Keys (idempotency_keys) and
 * signed messages' `webhook-id`s (seen_webhook_ids), each with the answer first given. Written inside
 * the ingest transaction that stores the request's alerts, so a request is stored with its key or not
 * at all. Statements prepared once: they run on the ingest path.
 */
export class IdempotencyStore {
  private readonly findKey;
  private readonly saveKey;
  private readonly findWebhookId;
  private readonly saveWebhookId;
  private lastPrune = 0;

  constructor(private readonly db: Db) {
    this.findKey = db
      .select({ response: idempotencyKeys.response, bodyHash: idempotencyKeys.bodyHash })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.sourceId, p('sourceId')), eq(idempotencyKeys.key, p('key'))))
      .prepare();
    this.saveKey = db
      .insert(idempotencyKeys)
      .values({ sourceId: p('sourceId'), key: p('key'), response: p('response'), bodyHash: p('bodyHash'), createdAt: p('createdAt') })
      .prepare();
    this.findWebhookId = db
      .select({ response: seenWebhookIds.response })
      .from(seenWebhookIds)
      .where(and(eq(seenWebhookIds.sourceId, p('sourceId')), eq(seenWebhookIds.messageId, p('messageId'))))
      .prepare();
    this.saveWebhookId = db
      .insert(seenWebhookIds)
      .values({ sourceId: p('sourceId'), messageId: p('messageId'), expiresAt: p('expiresAt'), response: p('response') })
      // A row without an answer is from before answers were kept: the message is stored now, so keep this one.
      .onConflictDoUpdate({ target: [seenWebhookIds.sourceId, seenWebhookIds.messageId], set: { response: sql`excluded.response`, expiresAt: sql`excluded.expires_at` } })
      .prepare();
  }

  /** The answer recorded for this Idempotency-Key, and the fingerprint of the request it came with. */
  async key(sourceId: number | null, key: string): Promise<{ response: string; bodyHash: string | null } | undefined> {
    return this.findKey.get({ sourceId, key });
  }

  async saveKeyAnswer(sourceId: number | null, key: string, fingerprint: string, response: string, createdAt: number): Promise<void> {
    this.saveKey.run({ sourceId, key, response, bodyHash: fingerprint, createdAt });
  }

  /** The answer recorded for a signed message's id (null: recorded before answers were kept). */
  async webhookIdAnswer(sourceId: number | null, messageId: string): Promise<string | null | undefined> {
    return this.findWebhookId.get({ sourceId, messageId })?.response;
  }

  async saveWebhookIdAnswer(sourceId: number | null, messageId: string, keepUntil: number, response: string): Promise<void> {
    this.saveWebhookId.run({ sourceId, messageId, expiresAt: keepUntil, response });
  }

  /** Forgets a source's keys and ids (the source was deleted; inside that transaction). */
  async forgetSource(sourceId: number): Promise<void> {
    this.forgetSourceSync(sourceId);
  }

  /** `forgetSource` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  forgetSourceSync(sourceId: number): void {
    this.db.delete(idempotencyKeys).where(eq(idempotencyKeys.sourceId, sourceId)).run();
    this.db.delete(seenWebhookIds).where(eq(seenWebhookIds.sourceId, sourceId)).run();
  }

  /** Forgets webhook ids past their time, at most once a minute (the hook calls it on each signed request). */
  async pruneWebhookIdsNowAndThen(now = Date.now()): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.db.delete(seenWebhookIds).where(lt(seenWebhookIds.expiresAt, now)).run();
  }
}
