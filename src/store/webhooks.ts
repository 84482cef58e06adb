import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { channels, events, webhooks } from './sqlite/schema.js';
import type { BreakerSnapshot } from '../domain/breaker-state.js';
import { conflict, notFound } from '../domain/errors.js';
import { MAX_WEBHOOKS_PER_CHANNEL } from '../discord/limits.js';

export type WebhookRow = typeof webhooks.$inferSelect;

/** Discord's limit of webhooks per channel (everything not removed counts towards it). */

/** A webhook joining a pool: its Discord id and token, and who owns it. */
export interface NewMember {
  discordWebhookId: string;
  token: string;
  owner: 'app' | 'external';
  /** Set for a webhook of the configuration file's pools. */
  managedBy?: 'file';
}

/** A pool member from a clean start: active, breaker closed, no error. */
const fresh = (channelId: number, m: NewMember) =>
  ({ channelId, token: m.token, owner: m.owner, state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null }) as const;

/**
 * What a webhook row keeps once it leaves Herald for good: no token (the credential is wiped, so the
 * stored URL can post nothing), and `goneAt`, so edits of its old messages go to the bot at once.
 * The row itself stays: past deliveries and attempts keep their reference.
 */
const forgotten = (now: number) => ({ state: 'removed', token: '', goneAt: now }) as const;

export interface ActiveWebhook {
  id: number;
  discordWebhookId: string;
  token: string;
  owner: 'app' | 'external';
  breaker: BreakerSnapshot;
}

/** The webhooks table (the delivery engine's reads and writes, and the admin's pool changes) and admin-visible events. */
export class WebhookStore {
  constructor(private readonly db: Db) {}

  // --- the admin's pool changes ---

  async find(id: number): Promise<WebhookRow | undefined> {
    return this.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
  }

  /** The channel's webhooks, oldest first (removed ones only with `includeRemoved`); 404 when there is no such channel. */
  async list(channelId: number, opts: { includeRemoved?: boolean | undefined } = {}): Promise<WebhookRow[]> {
    if (!this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.id, channelId), isNull(channels.removedAt))).get()) throw notFound('channel', channelId);
    return this.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.channelId, channelId), opts.includeRemoved ? undefined : ne(webhooks.state, 'removed')))
      .orderBy(asc(webhooks.id))
      .all();
  }

  /** A Discord webhook may join this pool: in no other pool, and the pool has room (409 otherwise). Returns its removed row, if any. */
  async checkJoin(channelId: number, discordWebhookId: string): Promise<WebhookRow | undefined> {
    return this.checkJoinSync(channelId, discordWebhookId);
  }

  /** `checkJoin` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  checkJoinSync(channelId: number, discordWebhookId: string): WebhookRow | undefined {
    const existing = this.db.select().from(webhooks).where(eq(webhooks.discordWebhookId, discordWebhookId)).get();
    if (existing && existing.state !== 'removed') {
      throw conflict(`Discord webhook ${discordWebhookId} is already in the pool of channel ${existing.channelId} (as webhook ${existing.id})`);
    }
    const pool = this.db.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.channelId, channelId), ne(webhooks.state, 'removed'))).all();
    if (pool.length >= MAX_WEBHOOKS_PER_CHANNEL) {
      throw conflict(`channel ${channelId} already has ${pool.length} webhooks; Discord allows at most ${MAX_WEBHOOKS_PER_CHANNEL} per channel`);
    }
    return existing;
  }

  /** The channel has room for one more webhook on Discord's side (409 otherwise). */
  async checkRoom(channelId: number): Promise<void> {
    this.checkRoomSync(channelId);
  }

  /** `checkRoom` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  checkRoomSync(channelId: number): void {
    const pool = this.db.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.channelId, channelId), ne(webhooks.state, 'removed'))).all();
    if (pool.length >= MAX_WEBHOOKS_PER_CHANNEL) {
      throw conflict(
        `channel ${channelId} already has ${pool.length} webhooks; Discord allows at most ${MAX_WEBHOOKS_PER_CHANNEL} per channel (delete retired ones first)`,
      );
    }
  }

  /** Adds a pasted webhook to the pool (one removed earlier is brought back, same row); checked again inside the transaction. */
  async join(channelId: number, m: NewMember): Promise<WebhookRow> {
    return this.db.transaction(() => {
      if (!this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.id, channelId), isNull(channels.removedAt))).get()) throw notFound('channel', channelId);
      const existing = this.checkJoinSync(channelId, m.discordWebhookId);
      const managedBy = m.managedBy ?? null;
      if (existing) return this.db.update(webhooks).set({ ...fresh(channelId, m), managedBy }).where(eq(webhooks.id, existing.id)).returning().get();
      return this.db.insert(webhooks).values({ ...fresh(channelId, m), discordWebhookId: m.discordWebhookId, managedBy }).returning().get();
    });
  }

  /** Adds a webhook the bot just created (room checked again inside the transaction). */
  async addCreated(channelId: number, hook: { id: string; token: string }): Promise<WebhookRow> {
    return this.db.transaction(() => {
      this.checkRoomSync(channelId);
      return this.db.insert(webhooks).values({ channelId, discordWebhookId: hook.id, token: hook.token, owner: 'app' }).returning().get();
    });
  }

  /** Takes a webhook out for good, wiping its token (the row stays, state removed). */
  async forget(id: number, now: number, lastError?: string): Promise<void> {
    this.db
      .update(webhooks)
      .set({ ...forgotten(now), ...(lastError !== undefined ? { lastError } : {}) })
      .where(eq(webhooks.id, id))
      .run();
  }

  /**
   * The file took over a webhook already in the pool (as the API added it), or gives it a new token (the
   * file's URL changed: Discord's "reset token"); its state and breaker stay as they are.
   */
  async setFromFile(id: number, m: { token: string; owner: 'app' | 'external' }): Promise<void> {
    this.db.update(webhooks).set({ token: m.token, owner: m.owner, managedBy: 'file' }).where(eq(webhooks.id, id)).run();
  }

  /** Every webhook of every channel still in a pool (not removed), for the configuration file's diff. */
  async allInPools(): Promise<WebhookRow[]> {
    return this.db.select().from(webhooks).where(ne(webhooks.state, 'removed')).orderBy(asc(webhooks.id)).all();
  }

  /** Back in rotation with a closed breaker. */
  async restore(id: number): Promise<WebhookRow> {
    return this.db
      .update(webhooks)
      .set({ state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null })
      .where(eq(webhooks.id, id))
      .returning()
      .get();
  }

  /**
   * Rotation in one transaction: the new member joins the old one's pool and the old one is retired
   * (409 when it was rotated meanwhile, the new one is in another pool, or there is no room); recorded as an event.
   */
  async rotate(webhookId: number, channelId: number, m: NewMember, now: number): Promise<{ added: WebhookRow; retired: WebhookRow }> {
    return this.db.transaction(() => {
      const again = this.db.select({ state: webhooks.state }).from(webhooks).where(eq(webhooks.id, webhookId)).get();
      if (again?.state === 'retired' || again?.state === 'removed') throw conflict(`webhook ${webhookId} was rotated meanwhile`);
      const existing = this.db.select().from(webhooks).where(eq(webhooks.discordWebhookId, m.discordWebhookId)).get();
      if (existing && existing.state !== 'removed') {
        throw conflict(`Discord webhook ${m.discordWebhookId} is already in the pool of channel ${existing.channelId} (as webhook ${existing.id})`);
      }
      this.checkRoomSync(channelId);
      const added = existing
        ? this.db.update(webhooks).set(fresh(channelId, m)).where(eq(webhooks.id, existing.id)).returning().get()
        : this.db.insert(webhooks).values({ ...fresh(channelId, m), discordWebhookId: m.discordWebhookId }).returning().get();
      const retired = this.db.update(webhooks).set({ state: 'retired' }).where(eq(webhooks.id, webhookId)).returning().get();
      this.recordEventSync('webhook_rotated', `webhook ${webhookId} retired in channel ${channelId}; webhook ${added.id} took its place`, now, { channelId, webhookId });
      return { added, retired };
    });
  }

  // --- the delivery engine ---

  async activeFor(channelId: number): Promise<ActiveWebhook[]> {
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

  async saveBreaker(id: number, snap: BreakerSnapshot): Promise<void> {
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
  async quarantine(id: number, channelId: number, reason: string, now: number, gone = false): Promise<void> {
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

  async recordEvent(kind: string, message: string, now: number, ref: { channelId?: number; webhookId?: number } = {}): Promise<void> {
    this.recordEventSync(kind, message, now, ref);
  }

  /** `recordEvent` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  recordEventSync(kind: string, message: string, now: number, ref: { channelId?: number; webhookId?: number } = {}): void {
    this.db.insert(events).values({ kind, message, at: now, channelId: ref.channelId ?? null, webhookId: ref.webhookId ?? null }).run();
  }

  async breakerCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = { closed: 0, open: 0, half_open: 0 };
    for (const w of this.db.select({ s: webhooks.breakerState }).from(webhooks).where(eq(webhooks.state, 'active')).all()) out[w.s] = (out[w.s] ?? 0) + 1;
    return out;
  }
}
