import { and, asc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { conflict, notFound } from '../../domain/errors.js';
import type { ChannelKind, ChannelRow, ChannelStore, ChannelView, FileChannelSettings } from '../channels.js';
import { isPgUniqueViolation } from './errors.js';
import { LOCK_KEYS, LOCK_SPACE } from './locks.js';
import type { PgExecutor } from './open.js';
import type { PgRouteStore } from './routes.js';
import { channels, deliveries, webhooks } from './schema.js';

/**
 * Which channels are forums (`../channels.ts`'s `kindOf` cache): one per store, shared by the pool's module and each
 * transaction's, so a write through either is seen by `kindOf` at once.
 */
export interface ChannelKindCache {
  forums: Set<number>;
  /** Re-reads started and the latest one applied: a re-read that returns after a later-started one is dropped. */
  started: number;
  applied: number;
}

/**
 * Empty until the first `refresh()`: SQLite's `kindOf` reads the forums synchronously the first time it is asked,
 * which a PostgreSQL module cannot, so whoever opens the store awaits `channels.refresh()` before the delivery lanes
 * read `kindOf`; after that every write here that can change a kind re-reads it (SQLite's drops it, read on use).
 */
export const channelKindCache = (): ChannelKindCache => ({ forums: new Set(), started: 0, applied: 0 });

/** Channels in use: a channel the configuration file dropped stays as a row (its dead letters keep it) and is otherwise gone. */
const live = isNull(channels.removedAt);

/**
 * `../channels.ts` on PostgreSQL: the same statements, the same 404s and 409s, the forum cache as shared state
 * (`ChannelKindCache`). Its public methods but `load()`, SQLite's synchronous re-read for its sibling modules'
 * transactions (here: `refresh()`, awaited). Where SQLite's writes call `routes.load()` (the default channel, the
 * routes deleted with a channel), these await the PostgreSQL routes module's `refresh()`, built over the same
 * executor (inside a transaction, it reads what the transaction wrote, as SQLite's does).
 * Where SQLite's one writer needs nothing, transactions here run side by side: making a channel the default takes
 * an advisory lock held to the transaction's end (`LOCK_KEYS.defaultChannel`), so two of them take turns and the
 * second sees the first's default (a 409, or it moves it) instead of both becoming the default.
 */
export class PgChannelStore implements Pick<ChannelStore, Exclude<keyof ChannelStore, 'load'>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly cache: ChannelKindCache,
    private readonly routes: Pick<PgRouteStore, 'refresh'>,
  ) {}

  /**
   * Only one channel is the default. Taking the default from another channel silently reroutes every
   * unrouted alert, so it is done only when asked (`move`); otherwise a 409 names the current default.
   * Inside the transaction that sets the new default.
   */
  private async takeDefault(tx: PgExecutor, newDefaultId: number | null, move: boolean | undefined): Promise<void> {
    await lockDefault(tx);
    const [current] = await tx
      .select({ id: channels.id, name: channels.name })
      .from(channels)
      .where(newDefaultId === null ? and(eq(channels.isDefault, true), live) : and(eq(channels.isDefault, true), ne(channels.id, newDefaultId), live))
      .orderBy(asc(channels.id))
      .limit(1);
    if (!current) return;
    if (!move) {
      throw conflict(`channel "${current.name}" (id ${current.id}) is already the default; send "move_default": true to make this channel the default instead`);
    }
    await tx.update(channels).set({ isDefault: false }).where(eq(channels.id, current.id));
  }

  /** Adds a channel; 409 when the name is taken, or (see takeDefault) when it would take the default without `moveDefault`. */
  async create(c: { name: string; discordChannelId: string; isDefault: boolean; moveDefault?: boolean | undefined; kind?: ChannelKind | undefined; managedBy?: 'file' }): Promise<number> {
    const taken = () => conflict(`a channel named "${c.name}" already exists`);
    const [existing] = await this.db.select({ id: channels.id }).from(channels).where(eq(channels.name, c.name)).limit(1);
    if (existing) throw taken();
    let id: number;
    try {
      // Over the pool, a transaction of its own; inside a caller's, a savepoint (as SQLite's nested transaction).
      // A unique violation (the name taken since) is answered with the 409, which rolls a caller's transaction back.
      id = await this.db.transaction(async (tx) => {
        if (c.isDefault) await this.takeDefault(tx, null, c.moveDefault);
        const [row] = await tx
          .insert(channels)
          .values({ name: c.name, discordChannelId: c.discordChannelId, isDefault: c.isDefault, kind: c.kind ?? 'text', managedBy: c.managedBy ?? null })
          .returning({ id: channels.id });
        return row!.id;
      });
    } catch (err) {
      if (isPgUniqueViolation(err)) throw taken();
      throw err;
    }
    await this.refreshKinds();
    await this.routes.refresh();
    return id;
  }

  /** Makes the channel the default or stops it being it; 404 for an unknown channel. */
  async setDefault(id: number, isDefault: boolean, moveDefault: boolean | undefined): Promise<void> {
    await this.db.transaction(async (tx) => {
      // The default's lock before the row's, the order every change of the default takes (takeDefault's own is
      // then a re-entry): a create moving the default off this row, side by side, waits instead of deadlocking.
      if (isDefault) await lockDefault(tx);
      // The row locked (not its key: deliveries inserted for the channel do not wait): a delete or retire of it
      // side by side is waited for, then seen (a 404).
      const [row] = await tx.select({ id: channels.id }).from(channels).where(and(eq(channels.id, id), live)).for('no key update');
      if (!row) throw notFound('channel', id);
      if (isDefault) await this.takeDefault(tx, id, moveDefault);
      await tx.update(channels).set({ isDefault }).where(eq(channels.id, id));
    });
    await this.routes.refresh();
  }

  /** Says whether the channel is a text channel or a forum; 404 for an unknown channel. */
  async setKind(id: number, kind: ChannelKind): Promise<void> {
    const changed = await this.db.update(channels).set({ kind }).where(and(eq(channels.id, id), live)).returning({ id: channels.id });
    if (!changed.length) throw notFound('channel', id);
    await this.refreshKinds();
  }

  /** Which channels are forums (cached for the delivery lanes: every card there is a post with `thread_name`). */
  kindOf(id: number): ChannelKind {
    return this.cache.forums.has(id) ? 'forum' : 'text';
  }

  /** Re-reads the forums (as SQLite's `readForums`: dropped channels too). */
  private async refreshKinds(): Promise<void> {
    const ticket = ++this.cache.started;
    const rows = await this.db.select({ id: channels.id }).from(channels).where(eq(channels.kind, 'forum'));
    // On SQLite re-reads cannot overlap; here one begun earlier (on an older snapshot) may return later.
    if (ticket < this.cache.applied) return;
    this.cache.applied = ticket;
    this.cache.forums = new Set(rows.map((c) => c.id));
  }

  /** Deletes a channel with its webhooks, routes and queued deliveries; 404 when there is none. */
  async delete(id: number): Promise<void> {
    const gone = await this.db.delete(channels).where(eq(channels.id, id)).returning({ id: channels.id });
    if (!gone.length) throw notFound('channel', id);
    await this.routes.refresh();
  }

  async exists(id: number): Promise<boolean> {
    const [row] = await this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.id, id), live)).limit(1);
    return row !== undefined;
  }

  // --- the configuration file's writes (services/config/apply.ts, inside its transaction) ---

  /** Who manages the channel (null: the admin API); undefined when there is no such channel. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    const [row] = await this.db.select({ m: channels.managedBy }).from(channels).where(and(eq(channels.id, id), live)).limit(1);
    return row?.m;
  }

  /**
   * Sets a channel as the file says, and marks it file-managed (an API-made one is taken over, a dropped one
   * brought back). Taking the default needs no `move_default` here: the file says which one channel is the default.
   */
  async setFromFile(id: number, c: FileChannelSettings): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (c.isDefault) {
        await lockDefault(tx);
        await tx.update(channels).set({ isDefault: false }).where(and(eq(channels.isDefault, true), ne(channels.id, id)));
      }
      await tx.update(channels).set({ discordChannelId: c.discordChannelId, isDefault: c.isDefault, kind: c.kind, managedBy: 'file', removedAt: null }).where(eq(channels.id, id));
    });
    await this.refreshKinds();
    await this.routes.refresh();
  }

  /** The file dropped the channel: it stops being one (not the default, not listed); the row stays for its dead letters. */
  async retire(id: number, now: number): Promise<void> {
    await this.db.update(channels).set({ removedAt: now, isDefault: false }).where(eq(channels.id, id));
    await this.refreshKinds();
    await this.routes.refresh();
  }

  /** Every channel in use with its settings, for the configuration file's diff and export. */
  async allRows(): Promise<(typeof channels.$inferSelect)[]> {
    return this.db.select().from(channels).where(live).orderBy(asc(channels.id));
  }

  /** After a transaction that wrote channels was rolled back (and once when the store opens): the forum cache is read again. */
  async refresh(): Promise<void> {
    await this.refreshKinds();
  }

  /** A channel by name, dropped ones included (the file brings a dropped channel back under its name). */
  async byName(name: string): Promise<{ id: number; removed: boolean; managedBy: 'file' | null } | undefined> {
    const [r] = await this.db.select({ id: channels.id, removedAt: channels.removedAt, managedBy: channels.managedBy }).from(channels).where(eq(channels.name, name)).limit(1);
    return r && { id: r.id, removed: r.removedAt !== null, managedBy: r.managedBy };
  }

  /** The channel's row; 404 when there is none. */
  async row(id: number): Promise<ChannelRow> {
    const [c] = await this.db.select({ id: channels.id, name: channels.name, discordChannelId: channels.discordChannelId }).from(channels).where(and(eq(channels.id, id), live)).limit(1);
    if (!c) throw notFound('channel', id);
    return c;
  }

  /** Of these ids, those that are still channels. */
  async existing(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.select({ id: channels.id }).from(channels).where(and(inArray(channels.id, [...ids]), live));
    return rows.map((c) => c.id);
  }

  /** Channels with their webhook counts and backlog, in id order; `ids`: only these. */
  async views(ids?: number[]): Promise<ChannelView[]> {
    const rows = await this.db
      .select()
      .from(channels)
      .where(ids ? and(inArray(channels.id, ids), live) : live)
      .orderBy(asc(channels.id));
    if (rows.length === 0) return [];
    const hooks = new Map<string, number>();
    for (const r of await this.db
      .select({ channelId: webhooks.channelId, state: webhooks.state, n: sql<number>`count(*)`.mapWith(Number) })
      .from(webhooks)
      .groupBy(webhooks.channelId, webhooks.state)) {
      hooks.set(`${r.channelId}:${r.state}`, r.n);
    }
    const backlog = await pendingByChannel(this.db);
    return rows.map((c) => ({
      id: c.id,
      name: c.name,
      discord_channel_id: c.discordChannelId,
      default: c.isDefault,
      created_at: c.createdAt,
      webhooks: { active: hooks.get(`${c.id}:active`) ?? 0, quarantined: hooks.get(`${c.id}:quarantined`) ?? 0 },
      backlog: backlog.get(c.id) ?? 0,
      ...(c.kind === 'forum' ? { kind: 'forum' as const } : {}),
      ...(c.managedBy ? { managed_by: c.managedBy } : {}),
    }));
  }
}

/** Waits for (and holds to the transaction's end) the turn to change which channel is the default. */
async function lockDefault(tx: PgExecutor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_SPACE}::integer, ${LOCK_KEYS.defaultChannel}::integer)`);
}

/**
 * Deliveries queued or in flight, per channel: the statement of SQLite's `Outbox.pendingByChannel`
 * (`../deliveries.ts`), read here directly because the deliveries module is not on PostgreSQL yet. It should become
 * the PostgreSQL deliveries module's `pendingByChannel`, taken in the constructor as SQLite's `ChannelStore` takes
 * the `Outbox`, once that module exists (another port is writing it).
 */
async function pendingByChannel(db: PgExecutor): Promise<Map<number, number>> {
  const rows = await db
    .select({ channelId: deliveries.channelId, n: sql<number>`count(*)`.mapWith(Number) })
    .from(deliveries)
    .where(inArray(deliveries.state, ['pending', 'leased']))
    .groupBy(deliveries.channelId);
  return new Map(rows.map((r) => [r.channelId, r.n]));
}
