import { lt } from 'drizzle-orm';
import type { Db } from '../store/sqlite/open.js';
import { seenWebhookIds } from '../store/sqlite/schema.js';

const PRUNE_EVERY_MS = 60_000;

/**
 * How long a signed message's `webhook-id` and its first answer are kept. Standard Webhooks senders
 * retry a message with the same id (and a fresh timestamp and signature) for more than a day (Svix:
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); each retry must get the first answer, not a second alert.
 */
export const WEBHOOK_ID_KEEP_MS = 3 * 86_400_000;

/**
 * The ids themselves are recorded by the acceptor, in the transaction that stores the message's alerts
 * (pipeline/accept.ts), so a message is either stored with its id or not at all, and two deliveries
 * of one message in flight at once are told apart there. This only forgets ids past their time.
 */
export class SeenWebhookIdPruner {
  private lastPrune = 0;

  constructor(private readonly db: Db) {}

  pruneNowAndThen(now = Date.now()): void {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.db.delete(seenWebhookIds).where(lt(seenWebhookIds.expiresAt, now)).run();
  }
}
