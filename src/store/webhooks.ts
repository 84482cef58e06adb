import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { events, webhooks } from './sqlite/schema.js';
import type { BreakerSnapshot } from '../domain/breaker-state.js';

export interface ActiveWebhook {
  id: number;
  discordWebhookId: string;
  token: string;
  owner: 'app' | 'external';
  breaker: BreakerSnapshot;
}

/** What the delivery engine reads and writes about webhooks and admin-visible events. */
export class WebhookStore {
  constructor(private readonly db: Db) {}

  activeFor(channelId: number): ActiveWebhook[] {
    return this.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.channelId, channelId), eq(webhooks.state, 'active')))
      .orderBy(webhooks.id)
      .all()
      .map((w) => ({
        id: w.id,
        discordWebhookId: w.discordWebhookId,
        token: w.token,
        owner: w.owner,
        breaker: { state: w.breakerState, failures: w.breakerFailures, openedAt: w.breakerOpenedAt },
      }));
  }

  saveBreaker(id: number, snap: BreakerSnapshot): void {
    this.db
      .update(webhooks)
      .set({ breakerState: snap.state, breakerFailures: snap.failures, breakerOpenedAt: snap.openedAt })
      .where(eq(webhooks.id, id))
      .run();
  }

  /**
   * Discord said the webhook is gone or its token wrong: out of the pool until a person acts. `gone`
   * (a 404 or 401): edits of its messages go to the bot from now on. A retired webhook stays retired.
   */
  quarantine(id: number, channelId: number, reason: string, now: number, gone = false): void {
    this.db.transaction((tx) => {
      tx.update(webhooks)
        .set({ state: sql`case when ${webhooks.state} = 'active' then 'quarantined' else ${webhooks.state} end`, lastError: reason, ...(gone ? { goneAt: now } : {}) })
        .where(eq(webhooks.id, id))
        .run();
      tx.insert(events)
        .values({ kind: 'webhook_quarantined', channelId, webhookId: id, message: `webhook ${id} taken out of the pool: ${reason}`, at: now })
        .run();
    });
  }

  recordEvent(kind: string, message: string, now: number, ref: { channelId?: number; webhookId?: number } = {}): void {
    this.db.insert(events).values({ kind, message, at: now, channelId: ref.channelId ?? null, webhookId: ref.webhookId ?? null }).run();
  }

  breakerCounts(): Record<string, number> {
    const out: Record<string, number> = { closed: 0, open: 0, half_open: 0 };
    for (const w of this.db.select({ s: webhooks.breakerState }).from(webhooks).where(eq(webhooks.state, 'active')).all()) out[w.s] = (out[w.s] ?? 0) + 1;
    return out;
  }
}
