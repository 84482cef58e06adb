import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { BreakerSnapshot } from '../../domain/breaker-state.js';
import { conflict, notFound } from '../../domain/errors.js';
import { MAX_WEBHOOKS_PER_CHANNEL } from '../../discord/limits.js';
import type { ActiveWebhook, NewMember, WebhookRow, WebhookStore } from '../webhooks.js';
import { isPgUniqueViolation } from './errors.js';
import type { PgExecutor } from './open.js';
import { channels, events, webhooks } from './schema.js';

/** The SQLite-only members: twins run inside better-sqlite3's synchronous transactions. */
type SyncTwins = 'checkJoinSync' | 'checkRoomSync' | 'recordEventSync';

/** A pool member from a clean start: active, breaker closed, no error (`../webhooks.ts`'s `fresh`). */
const fresh = (channelId: number, m: NewMember) =>
  ({ channelId, token: m.token, owner: m.owner, state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null }) as const;

/** What a webhook row keeps once it leaves Herald for good (`../webhooks.ts`'s `forgotten`). */
const forgotten = (now: number) => ({ state: 'removed', token: '', goneAt: now }) as const;

/**
 * `../webhooks.ts` on PostgreSQL: the same statements, without the `…Sync` twins. The transactional methods
 * (`join`, `addCreated`, `rotate`, `quarantine`) run their checks on drizzle's transaction (a savepoint when the
 * module is itself bound to one). SQLite runs one writer at a time; here transactions run side by side at read
 * committed, so `join`, `addCreated` and `rotate` first lock the channel's row, which serialises the pool changes
 * of one channel (the room check), and `rotate` the retiring webhook's row too (the "rotated meanwhile" check).
 * The locks are `for no key update`: they leave alone the key-share locks that other tables' foreign keys take
 * (a delivery inserted for the channel on the hot path does not wait for them). A Discord webhook added to two
 * pools at once fails one insert on the unique index: `join` and `rotate` answer it with their check's 409.
 */
export class PgWebhookStore implements Pick<WebhookStore, Exclude<keyof WebhookStore, SyncTwins>> {
  constructor(private readonly db: PgExecutor) {}

  // --- the admin's pool changes ---

  async find(id: number): Promise<WebhookRow | undefined> {
    const [row] = await this.db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
    return row;
  }

  /** The channel's webhooks, oldest first (removed ones only with `includeRemoved`); 404 when there is no such channel. */
  async list(channelId: number, opts: { includeRemoved?: boolean | undefined } = {}): Promise<WebhookRow[]> {
    if (!(await liveChannel(this.db, channelId))) throw notFound('channel', channelId);
    return this.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.channelId, channelId), opts.includeRemoved ? undefined : ne(webhooks.state, 'removed')))
      .orderBy(asc(webhooks.id));
  }

  /** A Discord webhook may join this pool: in no other pool, and the pool has room (409 otherwise). Returns its removed row, if any. */
  async checkJoin(channelId: number, discordWebhookId: string): Promise<WebhookRow | undefined> {
    return checkJoin(this.db, channelId, discordWebhookId);
  }

  /** The channel has room for one more webhook on Discord's side (409 otherwise). */
  async checkRoom(channelId: number): Promise<void> {
    await checkRoom(this.db, channelId);
  }

  /** Adds a pasted webhook to the pool (one removed earlier is brought back, same row); checked again inside the transaction. */
  async join(channelId: number, m: NewMember): Promise<WebhookRow> {
    return this.inPoolOnClash(m.discordWebhookId, async (tx) => {
      if (!(await liveChannel(tx, channelId, true))) throw notFound('channel', channelId);
      const existing = await checkJoin(tx, channelId, m.discordWebhookId);
      const managedBy = m.managedBy ?? null;
      if (existing) return one(await tx.update(webhooks).set({ ...fresh(channelId, m), managedBy }).where(eq(webhooks.id, existing.id)).returning());
      return one(await tx.insert(webhooks).values({ ...fresh(channelId, m), discordWebhookId: m.discordWebhookId, managedBy }).returning());
    });
  }

  /** Adds a webhook the bot just created (room checked again inside the transaction). */
  async addCreated(channelId: number, hook: { id: string; token: string }): Promise<WebhookRow> {
    return this.db.transaction(async (tx) => {
      await lockChannel(tx, channelId);
      await checkRoom(tx, channelId);
      return one(await tx.insert(webhooks).values({ channelId, discordWebhookId: hook.id, token: hook.token, owner: 'app' }).returning());
    });
  }

  /** Takes a webhook out for good, wiping its token (the row stays, state removed). */
  async forget(id: number, now: number, lastError?: string): Promise<void> {
    await this.db
      .update(webhooks)
      .set({ ...forgotten(now), ...(lastError !== undefined ? { lastError } : {}) })
      .where(eq(webhooks.id, id));
  }

  /** The file took over a webhook already in the pool, or gives it a new token; its state and breaker stay as they are. */
  async setFromFile(id: number, m: { token: string; owner: 'app' | 'external' }): Promise<void> {
    await this.db.update(webhooks).set({ token: m.token, owner: m.owner, managedBy: 'file' }).where(eq(webhooks.id, id));
  }

  /** Every webhook of every channel still in a pool (not removed), for the configuration file's diff. */
  async allInPools(): Promise<WebhookRow[]> {
    return this.db.select().from(webhooks).where(ne(webhooks.state, 'removed')).orderBy(asc(webhooks.id));
  }

  /**
   * Back in rotation with a closed breaker. Like SQLite's `.returning().get()`, resolves to `undefined` (typed as
   * a row) when there is no such webhook.
   */
  async restore(id: number): Promise<WebhookRow> {
    const [row] = await this.db
      .update(webhooks)
      .set({ state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null })
      .where(eq(webhooks.id, id))
      .returning();
    return row as WebhookRow;
  }

  /**
   * Rotation in one transaction: the new member joins the old one's pool and the old one is retired
   * (409 when it was rotated meanwhile, the new one is in another pool, or there is no room); recorded as an event.
   */
  async rotate(webhookId: number, channelId: number, m: NewMember, now: number): Promise<{ added: WebhookRow; retired: WebhookRow }> {
    return this.inPoolOnClash(m.discordWebhookId, async (tx) => {
      await lockChannel(tx, channelId);
      const [again] = await tx.select({ state: webhooks.state }).from(webhooks).where(eq(webhooks.id, webhookId)).for('no key update');
      if (again?.state === 'retired' || again?.state === 'removed') throw conflict(`webhook ${webhookId} was rotated meanwhile`);
      const [existing] = await tx.select().from(webhooks).where(eq(webhooks.discordWebhookId, m.discordWebhookId)).limit(1);
      if (existing && existing.state !== 'removed') {
        throw conflict(`Discord webhook ${m.discordWebhookId} is already in the pool of channel ${existing.channelId} (as webhook ${existing.id})`);
      }
      await checkRoom(tx, channelId);
      const added = one(
        existing
          ? await tx.update(webhooks).set(fresh(channelId, m)).where(eq(webhooks.id, existing.id)).returning()
          : await tx.insert(webhooks).values({ ...fresh(channelId, m), discordWebhookId: m.discordWebhookId }).returning(),
      );
      const [retired] = await tx.update(webhooks).set({ state: 'retired' }).where(eq(webhooks.id, webhookId)).returning();
      await recordEvent(tx, 'webhook_rotated', `webhook ${webhookId} retired in channel ${channelId}; webhook ${added.id} took its place`, now, { channelId, webhookId });
      return { added, retired: retired as WebhookRow };
    });
  }

  /**
   * Runs `fn` as a transaction (a savepoint inside one) that adds `discordWebhookId` to a pool. Its check found the
   * id in no pool, but another transaction may add it between that check and this one's insert (SQLite's one writer
   * cannot): the insert then fails on the unique index once the other commits. That is the check's 409, with the
   * same message, read after the rollback (of the savepoint: the caller's transaction goes on, as on SQLite).
   */
  private async inPoolOnClash<T>(discordWebhookId: string, fn: (tx: PgExecutor) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(fn);
    } catch (err) {
      if (!isPgUniqueViolation(err)) throw err;
      const [other] = await this.db.select().from(webhooks).where(eq(webhooks.discordWebhookId, discordWebhookId)).limit(1);
      if (!other || other.state === 'removed') throw err;
      throw conflict(`Discord webhook ${discordWebhookId} is already in the pool of channel ${other.channelId} (as webhook ${other.id})`);
    }
  }

  // --- the delivery engine ---

  async activeFor(channelId: number): Promise<ActiveWebhook[]> {
    const rows = await this.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.channelId, channelId), eq(webhooks.state, 'active')))
      .orderBy(webhooks.id);
    return rows.map((w) => ({
      id: w.id,
      discordWebhookId: w.discordWebhookId,
      token: w.token,
      owner: w.owner,
      breaker: { state: w.breakerState, failures: w.breakerFailures, openedAt: w.breakerOpenedAt },
    }));
  }

  async saveBreaker(id: number, snap: BreakerSnapshot): Promise<void> {
    await this.db
      .update(webhooks)
      .set({ breakerState: snap.state, breakerFailures: snap.failures, breakerOpenedAt: snap.openedAt })
      .where(eq(webhooks.id, id));
  }

  /**
   * Discord said the webhook is gone or its token wrong: out of the pool until a person acts. `gone`
   * (a 404 or 401): edits of its messages go to the bot from now on. A retired webhook stays retired.
   */
  async quarantine(id: number, channelId: number, reason: string, now: number, gone = false): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(webhooks)
        .set({ state: sql`case when ${webhooks.state} = 'active' then 'quarantined' else ${webhooks.state} end`, lastError: reason, ...(gone ? { goneAt: now } : {}) })
        .where(eq(webhooks.id, id));
      await tx.insert(events).values({ kind: 'webhook_quarantined', channelId, webhookId: id, message: `webhook ${id} taken out of the pool: ${reason}`, at: now });
    });
  }

  async recordEvent(kind: string, message: string, now: number, ref: { channelId?: number; webhookId?: number } = {}): Promise<void> {
    await recordEvent(this.db, kind, message, now, ref);
  }

  async breakerCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = { closed: 0, open: 0, half_open: 0 };
    for (const w of await this.db.select({ s: webhooks.breakerState }).from(webhooks).where(eq(webhooks.state, 'active'))) out[w.s] = (out[w.s] ?? 0) + 1;
    return out;
  }
}

/** The row a `returning()` of one row gave. */
function one<T>(rows: T[]): T {
  return rows[0] as T;
}

/** Whether the channel exists and is not removed; `lock`: and holds its row until the transaction ends. */
async function liveChannel(db: PgExecutor, channelId: number, lock = false): Promise<boolean> {
  const q = db.select({ id: channels.id }).from(channels).where(and(eq(channels.id, channelId), isNull(channels.removedAt)));
  return (await (lock ? q.for('no key update') : q)).length > 0;
}

/** Holds the channel's row (if any) until the transaction ends: one pool change of a channel at a time. */
async function lockChannel(db: PgExecutor, channelId: number): Promise<void> {
  await db.select({ id: channels.id }).from(channels).where(eq(channels.id, channelId)).for('no key update');
}

async function checkJoin(db: PgExecutor, channelId: number, discordWebhookId: string): Promise<WebhookRow | undefined> {
  const [existing] = await db.select().from(webhooks).where(eq(webhooks.discordWebhookId, discordWebhookId)).limit(1);
  if (existing && existing.state !== 'removed') {
    throw conflict(`Discord webhook ${discordWebhookId} is already in the pool of channel ${existing.channelId} (as webhook ${existing.id})`);
  }
  const pool = await db.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.channelId, channelId), ne(webhooks.state, 'removed')));
  if (pool.length >= MAX_WEBHOOKS_PER_CHANNEL) {
    throw conflict(`channel ${channelId} already has ${pool.length} webhooks; Discord allows at most ${MAX_WEBHOOKS_PER_CHANNEL} per channel`);
  }
  return existing;
}

async function checkRoom(db: PgExecutor, channelId: number): Promise<void> {
  const pool = await db.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.channelId, channelId), ne(webhooks.state, 'removed')));
  if (pool.length >= MAX_WEBHOOKS_PER_CHANNEL) {
    throw conflict(`channel ${channelId} already has ${pool.length} webhooks; Discord allows at most ${MAX_WEBHOOKS_PER_CHANNEL} per channel (delete retired ones first)`);
  }
}

async function recordEvent(db: PgExecutor, kind: string, message: string, now: number, ref: { channelId?: number; webhookId?: number }): Promise<void> {
  await db.insert(events).values({ kind, message, at: now, channelId: ref.channelId ?? null, webhookId: ref.webhookId ?? null });
}
