import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { BusinessHours } from '../domain/hours.js';
import { notFound } from '../domain/errors.js';
import { compileRoute, type CompiledRoute } from '../domain/routing.js';
import type { Db } from './sqlite/open.js';
import { channels, routes } from './sqlite/schema.js';

export interface RouteView {
  id: number;
  channel_id: number;
  channel_name: string;
  service: string | null;
  severities: string[] | null;
  environment: string | null;
  labels: Record<string, string> | null;
  business_hours: BusinessHours | null;
  /** Absent when the route sets none. */
  auto_resolve_after_ms?: number;
  /** Absent unless the route asks for threads. */
  threads?: true;
  /** Absent unless the route groups alerts into incidents. */
  group_by?: string[];
  /** Absent unless the route sets its own (the default is 5 s). */
  group_wait_ms?: number;
  /** Only for a route the configuration file manages (with its name there, if it has one). */
  managed_by?: 'file';
  name?: string;
  created_at: number;
}

export interface NewRoute {
  channelId: number;
  service: string | null;
  severities: string[] | null;
  environment: string | null;
  labels: Record<string, string> | null;
  businessHours: BusinessHours | null;
  autoResolveAfterMs?: number | null;
  threads?: boolean;
  groupBy?: string[] | null;
  groupWaitMs?: number | null;
  managedBy?: 'file' | null;
  configName?: string | null;
}

/** A route the configuration file manages: its settings and its name in the file (null: known by its criteria). */
export type FileRouteRow = NewRoute & { configName: string | null };

/** Something that keeps a cache derived from routes (outbound targets by route): refreshed after each route change. */
export interface RouteDependent {
  refresh(): void;
}

/**
 * The routes table (and the default channel, which routing falls back to), with the compiled routes in
 * memory for the ingest path. Every write here refreshes the cache itself, as do the channel writes that
 * change the default channel or remove routes with their channel (store/channels.ts calls `refresh`).
 * Also keeps which route arms which escalation chain (routes.escalation_chain_id), for `EscalationRunner.arm` (written by store/escalations.ts).
 */
export class RouteStore {
  private compiled: CompiledRoute[] = [];
  private defaultChannel: number | null = null;
  private chains = new Map<number, number>();
  private grouping = false;

  constructor(
    private readonly db: Db,
    private readonly dependents: readonly RouteDependent[] = [],
  ) {
    this.load();
  }

  /** Re-reads the routes, the default channel and the route → chain map; refreshes the caches derived from routes. */
  async refresh(): Promise<void> {
    this.load();
  }

  /** The synchronous re-read under `refresh`, for this module's own writes and its sibling modules' transactions. */
  load(): void {
    const rows = this.db.select().from(routes).orderBy(asc(routes.id)).all();
    this.compiled = rows.map(compileRoute);
    this.grouping = rows.some((r) => (r.groupBy?.length ?? 0) > 0);
    this.chains = new Map(rows.filter((r) => r.escalationChainId !== null).map((r) => [r.id, r.escalationChainId!]));
    this.defaultChannel = this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.isDefault, true), isNull(channels.removedAt))).get()?.id ?? null;
    for (const d of this.dependents) d.refresh();
  }

  /** Routes in evaluation order (cached). */
  get routes(): readonly CompiledRoute[] {
    return this.compiled;
  }

  /** The default channel (cached); null when there is none. */
  get fallback(): number | null {
    return this.defaultChannel;
  }

  /** The escalation chain the route arms, if any (cached). */
  chainOf(routeId: number): number | undefined {
    return this.chains.get(routeId);
  }

  /** The shortest auto_resolve_after any route sets (cached); null when none does. */
  get minAutoResolveAfterMs(): number | null {
    let least: number | null = null;
    for (const r of this.compiled) if (r.autoResolveAfterMs != null && (least === null || r.autoResolveAfterMs < least)) least = r.autoResolveAfterMs;
    return least;
  }

  /** True when some route has a `group_by` (cached): without one, grouping by routes costs nothing. */
  get anyGroupBy(): boolean {
    return this.grouping;
  }

  /** True when some route arms a chain (arming costs nothing otherwise). */
  get anyChain(): boolean {
    return this.chains.size > 0;
  }

  async exists(id: number): Promise<boolean> {
    return this.db.select({ id: routes.id }).from(routes).where(eq(routes.id, id)).get() !== undefined;
  }

  /** Adds a route; 404 when its channel does not exist. */
  async create(r: NewRoute): Promise<number> {
    const id = this.db.transaction((tx) => {
      if (!tx.select({ id: channels.id }).from(channels).where(and(eq(channels.id, r.channelId), isNull(channels.removedAt))).get()) throw notFound('channel', r.channelId);
      return tx.insert(routes).values(r).returning({ id: routes.id }).get().id;
    });
    this.load();
    return id;
  }

  /** Routes in the order they are evaluated, with their channel's name. */
  async list(): Promise<RouteView[]> {
    return this.db
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
      .orderBy(asc(routes.id))
      .all()
      // Optional fields only when set, so answers of routes without them stay as they were.
      .map(({ auto_resolve_after_ms, threads, group_by, group_wait_ms, managed_by, name, ...r }) => ({
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
    return this.db.select().from(routes).orderBy(asc(routes.id)).all();
  }

  /** Who manages the route (null: the admin API); undefined when there is no such route. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    return this.db.select({ m: routes.managedBy }).from(routes).where(eq(routes.id, id)).get()?.m;
  }

  /** Adds a route the configuration file manages (its channel checked like any route's). */
  async createFromFile(r: FileRouteRow): Promise<number> {
    return this.create({ ...r, managedBy: 'file' });
  }

  /** Sets a route as the file says (an API-made one with the same criteria is taken over); 404 when there is none. */
  async setFromFile(id: number, r: FileRouteRow): Promise<void> {
    const n = this.db
      .update(routes)
      .set({ ...r, autoResolveAfterMs: r.autoResolveAfterMs ?? null, threads: r.threads ?? false, managedBy: 'file' })
      .where(eq(routes.id, id))
      .run().changes;
    if (!n) throw notFound('route', id);
    this.load();
  }

  /** Sets or clears a route's business hours; 404 when there is no such route. */
  async setHours(id: number, hours: BusinessHours | null): Promise<void> {
    const n = this.db.update(routes).set({ businessHours: hours }).where(eq(routes.id, id)).run().changes;
    if (!n) throw notFound('route', id);
    this.load();
  }

  /** Sets or (null) clears a route's auto_resolve_after; 404 when there is no such route. */
  async setAutoResolve(id: number, afterMs: number | null): Promise<void> {
    const n = this.db.update(routes).set({ autoResolveAfterMs: afterMs }).where(eq(routes.id, id)).run().changes;
    if (!n) throw notFound('route', id);
    this.load();
  }

  /** Turns a route's threads on or off; 404 when there is no such route. */
  async setThreads(id: number, threads: boolean): Promise<void> {
    const n = this.db.update(routes).set({ threads }).where(eq(routes.id, id)).run().changes;
    if (!n) throw notFound('route', id);
    this.load();
  }

  /** Sets a route's incident grouping: `groupBy` (null or empty: none) and/or `groupWaitMs` (null: the default); undefined leaves one as it is. 404 when there is no such route. */
  async setGrouping(id: number, g: { groupBy?: string[] | null; groupWaitMs?: number | null }): Promise<void> {
    const set = { ...(g.groupBy !== undefined ? { groupBy: g.groupBy?.length ? g.groupBy : null } : {}), ...(g.groupWaitMs !== undefined ? { groupWaitMs: g.groupWaitMs } : {}) };
    if (Object.keys(set).length === 0) return;
    const n = this.db.update(routes).set(set).where(eq(routes.id, id)).run().changes;
    if (!n) throw notFound('route', id);
    this.load();
  }

  /** Deletes a route (its outbound targets go with it); 404 when there is none. */
  async delete(id: number): Promise<void> {
    const n = this.db.delete(routes).where(eq(routes.id, id)).run().changes;
    if (!n) throw notFound('route', id);
    this.load();
  }

  /** Names (or with null clears) the chain a route arms; 404 for an unknown route. The chain's existence is the caller's (escalations store) to check, in the same transaction. */
  setChain(routeId: number, chainId: number | null): void {
    const n = this.db.update(routes).set({ escalationChainId: chainId }).where(eq(routes.id, routeId)).run().changes;
    if (!n) throw notFound('route', routeId);
  }

  /** Detaches every route from a chain (before the chain is deleted). */
  detachChain(chainId: number): void {
    this.db.update(routes).set({ escalationChainId: null }).where(eq(routes.escalationChainId, chainId)).run();
  }

  /** Routes that arm a chain, in id order. */
  chainRoutes(): { id: number; chainId: number }[] {
    return this.db
      .select({ id: routes.id, chainId: routes.escalationChainId })
      .from(routes)
      .where(sql`${routes.escalationChainId} is not null`)
      .orderBy(asc(routes.id))
      .all() as { id: number; chainId: number }[];
  }
}
