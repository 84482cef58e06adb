import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { seenWebhookIds } from '../db/schema.js';
import { TOLERANCE_SECONDS } from './signatures.js';

const PRUNE_EVERY_MS = 60_000;

/**
 * Refuses a signed message seen before (same source, same `webhook-id`), durably: ids live in SQLite
 * until their timestamp falls out of the tolerance window, after which the timestamp check refuses a
 * replay on its own. An id is taken before the alerts are accepted and given back if accepting fails,
 * so a sender's retry after a 503 is not refused.
 */
export class ReplayGuard {
  private readonly insert;
  private readonly remove;
  private lastPrune = 0;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.insert = db
      .insert(seenWebhookIds)
      .values({ sourceId: p('sourceId'), messageId: p('messageId'), expiresAt: p('expiresAt') })
      .onConflictDoNothing()
      .prepare();
    this.remove = db.delete(seenWebhookIds).where(and(eq(seenWebhookIds.sourceId, p('sourceId')), eq(seenWebhookIds.messageId, p('messageId')))).prepare();
  }

  /** True when the id is new (and is now taken); false for a replay. */
  take(sourceId: number, messageId: string, timestampSec: number, now = Date.now()): boolean {
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.db.delete(seenWebhookIds).where(lt(seenWebhookIds.expiresAt, now)).run();
    }
    // Kept a minute past the window's end: clocks differ.
    const expiresAt = (timestampSec + TOLERANCE_SECONDS + 60) * 1000;
    return this.insert.run({ sourceId, messageId, expiresAt }).changes === 1;
  }

  release(sourceId: number, messageId: string): void {
    this.remove.run({ sourceId, messageId });
  }
}
