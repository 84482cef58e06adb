import { and, asc, eq, isNotNull, isNull } from 'drizzle-orm';
import type { BusinessHours } from '../../domain/hours.js';
import { notFound } from '../../domain/errors.js';
import { compileRoute, type CompiledRoute } from '../../domain/routing.js';
import type { FileRouteRow, NewRoute, RouteStore, RouteView } from '../routes.js';
import type { PgExecutor } from './open.js';
import { channels, routes } from './schema.js';

/**
 * What `../routes.ts` keeps in memory (compiled routes, the default channel, route → chain, whether any route
 * groups): one per store, shared by the pool's module and each transaction's, so a write through either is seen by
 * the synchronous readers (`routes`, `fallback`, `chainOf`, …) at once.
 */
export interface RouteCache {
  compiled: CompiledRoute[];
  defaultChannel: number | null;
  chains: Map<number, number>;
  grouping: boolean;
  /** Re-reads started and the latest one applied: a re-read that returns after a later-started one is dropped. */
  started: number;
  applied: number;
}

/**
 * Empty until the first `refresh()`: SQLite's constructor reads the routes synchronously, which a PostgreSQL module
 * cannot, so whoever opens the store awaits `routes.refresh()` before the ingest path reads `routes` or `fallback`.
 */
export const routeCache = (): RouteCache => ({ compiled: [], defaultChannel: null, chains: new Map(), grouping: false, started: 0, applied: 0 });

/** Something that keeps a cache derived from routes (`../routes.ts`'s `RouteDependent`), refreshed after each re-read; awaited here. */
export interface PgRouteDependent {
  refresh(): Promise<void>;
}

/**
 * The members SQLite's escalation store calls inside its synchronous better-sqlite3 transaction, so synchronous
 * there; here the same methods, parameters and results, awaited (a PostgreSQL escalations module awaits them
 * inside drizzle's transaction, then `refresh()`).
 */
type SyncInSqlite = 'setChain' | 'detachChain' | 'chainRoutes';

/** The same members, their results awaited. */
type Promised<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/** A channel in use (one the configuration file dropped is kept as a row, `removed_at` set). */
const live = isNull(channels.removedAt);

/**
 * `../routes.ts` on PostgreSQL: the same statements, the same cache (shared state, `RouteCache`) re-read after every
 * write here and read synchronously by its getters, the same 404s. Its public methods but `load()`, SQLite's
 * synchronous re-read for its sibling modules' transactions (here: `refresh()`, awaited); `setChain`,
 * `detachChain` and `chainRoutes` return promises (`SyncInSqlite`).
 */
export class PgRouteStore implements Pick<RouteStore, Exclude<keyof RouteStore, 'load' | SyncInSqlite>>, Promised<Pick<RouteStore, SyncInSqlite>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly cache: RouteCache,
    private readonly dependents: readonly PgRouteDependent[] = [],
  ) {}

  /** Re-reads the routes, the default channel and the route → chain map; refreshes the caches derived from routes. */
  async refresh(): Promise<void> {
    const ticket = ++this.cache.started;
    const rows = await this.db.select().from(routes).orderBy(asc(routes.id));
    const [fallback] = await this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.isDefault, true), live)).limit(1);
    // On SQLite re-reads cannot overlap; here one begun earlier (on an older snapshot) may return later.
    if (ticket >= this.cache.applied) {
      this.cache.applied = ticket;
      this.cache.compiled = rows.map(compileRoute);
      this.cache.grouping = rows.some((r) => (r.groupBy?.length ?? 0) > 0);
      this.cache.chains = new Map(rows.filter((r) => r.escalationChainId !== null).map((r) => [r.id, r.escalationChainId!]));
      this.cache.defaultChannel = fallback?.id ?? null;
    }
    for (const d of this.dependents) await d.refresh();
  }

  /** Routes in evaluation order (cached). */
  get routes(): readonly CompiledRoute[] {
    return this.cache.compiled;
  }

  /** The default channel (cached); null when there is none. */
  get fallback(): number | null {
    return this.cache.defaultChannel;
  }

  /** The escalation chain the route arms, if any (cached). */
  chainOf(routeId: number): number | undefined {
    return this.cache.chains.get(routeId);
  }

  /** The shortest auto_resolve_after any route sets (cached); null when none does. */
  get minAutoResolveAfterMs(): number | null {
    let least: number | null = null;
    for (const r of this.cache.compiled) if (r.autoResolveAfterMs != null && (least === null || r.autoResolveAfterMs < least)) least = r.autoResolveAfterMs;
    return least;
  }

  /** True when some route has a `group_by` (cached): without one, grouping by routes costs nothing. */
  get anyGroupBy(): boolean {
    return this.cache.grouping;
  }

  /** True when some route arms a chain (arming costs nothing otherwise). */
  get anyChain(): boolean {
    return this.cache.chains.size > 0;
  }

  async exists(id: number): Promise<boolean> {
    const [row] = await this.db.select({ id: routes.id }).from(routes).where(eq(routes.id, id)).limit(1);
    return row !== undefined;
  }

  /** Adds a route; 404 when its channel does not exist. */
  async create(r: NewRoute): Promise<number> {
    // Over the pool, a transaction of its own; inside a caller's, a savepoint (as SQLite's nested transaction).
    const id = await this.db.transaction(async (tx) => {
      // The channel's row share-locked (SQLite's writes are one at a time): a delete or a retire of it not yet
      // committed is waited for, then seen (a 404), instead of a route left on a dropped channel or a foreign key
      // violation.
      const [channel] = await tx.select({ id: channels.id }).from(channels).where(and(eq(channels.id, r.channelId), live)).for('share');
      if (!channel) throw notFound('channel', r.channelId);
      const [row] = await tx.insert(routes).values(r).returning({ id: routes.id });
      return row!.id;
    });
    await this.refresh();
    return id;
  }

  /** Routes in the order they are evaluated, with their channel's name. */
  async list(): Promise<RouteView[]> {
    const rows = await this.db
      .select({
        id: routes.id,
        channel_id: routes.channelId,
        channel_name: channels.name,
        service: routes.service,
        severities: routes.severities,
        environment: routes.environment,
        labels: routes.labels,
        business_hours: routes.businessHours,
        auto_resolve_after_ms: routes.autoResolveAfterMs,
        threads: routes.threads,
        group_by: routes.groupBy,
        group_wait_ms: routes.groupWaitMs,
        managed_by: routes.managedBy,
        name: routes.configName,
        created_at: routes.createdAt,
      })
      .from(routes)
      .innerJoin(channels, eq(channels.id, routes.channelId))
      .orderBy(asc(routes.id));
    // Optional fields only when set, so answers of routes without them stay as they were.
    return rows.map(({ auto_resolve_after_ms, threads, group_by, group_wait_ms, managed_by, name, ...r }) => ({
      ...r,
      ...(auto_resolve_after_ms === null ? {} : { auto_resolve_after_ms }),
      ...(threads ? { threads: true as const } : {}),
      ...(group_by?.length ? { group_by } : {}),
      ...(group_wait_ms === null ? {} : { group_wait_ms }),
      ...(managed_by ? { managed_by } : {}),
      ...(name !== null ? { name } : {}),
    }));
  }

  /** Every route's row, for the configuration file's diff and export. */
  async allRows(): Promise<(typeof routes.$inferSelect)[]> {
    return this.db.select().from(routes).orderBy(asc(routes.id));
  }

  /** Who manages the route (null: the admin API); undefined when there is no such route. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    const [row] = await this.db.select({ m: routes.managedBy }).from(routes).where(eq(routes.id, id)).limit(1);
    return row?.m;
  }

  /** Adds a route the configuration file manages (its channel checked like any route's). */
  async createFromFile(r: FileRouteRow): Promise<number> {
    return this.create({ ...r, managedBy: 'file' });
  }

  /** Sets a route as the file says (an API-made one with the same criteria is taken over); 404 when there is none. */
  async setFromFile(id: number, r: FileRouteRow): Promise<void> {
    const changed = await this.db
      .update(routes)
      .set({ ...r, autoResolveAfterMs: r.autoResolveAfterMs ?? null, threads: r.threads ?? false, managedBy: 'file' })
      .where(eq(routes.id, id))
      .returning({ id: routes.id });
    if (!changed.length) throw notFound('route', id);
    await this.refresh();
  }

  /** Sets or clears a route's business hours; 404 when there is no such route. */
  async setHours(id: number, hours: BusinessHours | null): Promise<void> {
    const changed = await this.db.update(routes).set({ businessHours: hours }).where(eq(routes.id, id)).returning({ id: routes.id });
    if (!changed.length) throw notFound('route', id);
    await this.refresh();
  }

  /** Sets or (null) clears a route's auto_resolve_after; 404 when there is no such route. */
  async setAutoResolve(id: number, afterMs: number | null): Promise<void> {
    const changed = await this.db.update(routes).set({ autoResolveAfterMs: afterMs }).where(eq(routes.id, id)).returning({ id: routes.id });
    if (!changed.length) throw notFound('route', id);
    await this.refresh();
  }

  /** Turns a route's threads on or off; 404 when there is no such route. */
  async setThreads(id: number, threads: boolean): Promise<void> {
    const changed = await this.db.update(routes).set({ threads }).where(eq(routes.id, id)).returning({ id: routes.id });
    if (!changed.length) throw notFound('route', id);
    await this.refresh();
  }

  /** Sets a route's incident grouping: `groupBy` (null or empty: none) and/or `groupWaitMs` (null: the default); undefined leaves one as it is. 404 when there is no such route. */
  async setGrouping(id: number, g: { groupBy?: string[] | null; groupWaitMs?: number | null }): Promise<void> {
    const set = { ...(g.groupBy !== undefined ? { groupBy: g.groupBy?.length ? g.groupBy : null } : {}), ...(g.groupWaitMs !== undefined ? { groupWaitMs: g.groupWaitMs } : {}) };
    if (Object.keys(set).length === 0) return;
    const changed = await this.db.update(routes).set(set).where(eq(routes.id, id)).returning({ id: routes.id });
    if (!changed.length) throw notFound('route', id);
    await this.refresh();
  }

  /** Deletes a route (its outbound targets go with it); 404 when there is none. */
  async delete(id: number): Promise<void> {
    const gone = await this.db.delete(routes).where(eq(routes.id, id)).returning({ id: routes.id });
    if (!gone.length) throw notFound('route', id);
    await this.refresh();
  }

  /** Names (or with null clears) the chain a route arms; 404 for an unknown route. The chain's existence is the caller's (escalations store) to check, in the same transaction. */
  async setChain(routeId: number, chainId: number | null): Promise<void> {
    const changed = await this.db.update(routes).set({ escalationChainId: chainId }).where(eq(routes.id, routeId)).returning({ id: routes.id });
    if (!changed.length) throw notFound('route', routeId);
  }

  /** Detaches every route from a chain (before the chain is deleted). */
  async detachChain(chainId: number): Promise<void> {
    await this.db.update(routes).set({ escalationChainId: null }).where(eq(routes.escalationChainId, chainId));
  }

  /** Routes that arm a chain, in id order. */
  async chainRoutes(): Promise<{ id: number; chainId: number }[]> {
    return (await this.db
      .select({ id: routes.id, chainId: routes.escalationChainId })
      .from(routes)
      .where(isNotNull(routes.escalationChainId))
      .orderBy(asc(routes.id))) as { id: number; chainId: number }[];
  }
}
