import { and, asc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { conflict, notFound } from '../domain/errors.js';
import type { Outbox } from './deliveries.js';
import type { RouteStore } from './routes.js';
import type { Db } from './sqlite/open.js';
import { isUniqueViolation } from './sqlite/health.js';
import { channels, webhooks } from './sqlite/schema.js';

export interface ChannelView {
  id: number;
  name: string;
  discord_channel_id: string;
  default: boolean;
  created_at: number;
  webhooks: { active: number; quarantined: number };
  /** Deliveries queued or in flight. */
  backlog: number;
  /** Only for a forum channel (absent: text), so answers about text channels stay as they were. */
  kind?: 'forum';
  /** Only for a channel the configuration file manages (changed by editing the file, not through the API). */
  managed_by?: 'file';
}

export type ChannelKind = 'text' | 'forum';

export interface ChannelRow {
  id: number;
  name: string;
  discordChannelId: string;
}

/** A channel as the configuration file sets it. */
export interface FileChannelSettings {
  discordChannelId: string;
  isDefault: boolean;
  kind: ChannelKind;
}

/** Channels in use: a channel the configuration file dropped stays as a row (its dead letters keep it) and is otherwise gone. */
const live = isNull(channels.removedAt);

/**
 * The channels table. The default channel is part of routing: every write that changes it, or that
 * deletes a channel (its routes go with it), refreshes the routes store's table itself.
 */
export class ChannelStore {
  constructor(
    private readonly db: Db,
    private readonly routes: Pick<RouteStore, 'load'>,
    private readonly deliveries: Pick<Outbox, 'pendingByChannel'>,
  ) {}

  /**
   * Only one channel is the default. Taking the default from another channel silently reroutes every
   * unrouted alert, so it is done only when asked (`move`); otherwise a 409 names the current default.
   * Inside the transaction that sets the new default.
   */
  private takeDefault(tx: Pick<Db, 'select' | 'update'>, newDefaultId: number | null, move: boolean | undefined): void {
    const current = tx
      .select({ id: channels.id, name: channels.name })
      .from(channels)
      .where(newDefaultId === null ? and(eq(channels.isDefault, true), live) : and(eq(channels.isDefault, true), ne(channels.id, newDefaultId), live))
      .get();
    if (!current) return;
    if (!move) {
      throw conflict(`channel "${current.name}" (id ${current.id}) is already the default; send "move_default": true to make this channel the default instead`);
    }
    tx.update(channels).set({ isDefault: false }).where(eq(channels.id, current.id)).run();
  }

  /** Adds a channel; 409 when the name is taken, or (see takeDefault) when it would take the default without `moveDefault`. */
  async create(c: { name: string; discordChannelId: string; isDefault: boolean; moveDefault?: boolean | undefined; kind?: ChannelKind | undefined; managedBy?: 'file' }): Promise<number> {
    const taken = () => conflict(`a channel named "${c.name}" already exists`);
    if (this.db.select({ id: channels.id }).from(channels).where(eq(channels.name, c.name)).get()) throw taken();
    let id: number;
    try {
      id = this.db.transaction((tx) => {
        if (c.isDefault) this.takeDefault(tx, null, c.moveDefault);
        return tx
          .insert(channels)
          .values({ name: c.name, discordChannelId: c.discordChannelId, isDefault: c.isDefault, kind: c.kind ?? 'text', managedBy: c.managedBy ?? null })
          .returning({ id: channels.id })
          .get().id;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw taken();
      throw err;
    }
    this.refreshKinds();
    this.routes.load();
    return id;
  }

  /** Makes the channel the default or stops it being it; 404 for an unknown channel. */
  async setDefault(id: number, isDefault: boolean, moveDefault: boolean | undefined): Promise<void> {
    this.db.transaction((tx) => {
      if (!tx.select({ id: channels.id }).from(channels).where(and(eq(channels.id, id), live)).get()) throw notFound('channel', id);
      if (isDefault) this.takeDefault(tx, id, moveDefault);
      tx.update(channels).set({ isDefault }).where(eq(channels.id, id)).run();
    });
    this.routes.load();
  }

  /** Says whether the channel is a text channel or a forum; 404 for an unknown channel. */
  async setKind(id: number, kind: ChannelKind): Promise<void> {
    const n = this.db.update(channels).set({ kind }).where(and(eq(channels.id, id), live)).run().changes;
    if (!n) throw notFound('channel', id);
    this.refreshKinds();
  }

  /** Which channels are forums (cached for the delivery lanes: every card there is a post with `thread_name`). */
  kindOf(id: number): ChannelKind {
    return (this.forums ??= this.readForums()).has(id) ? 'forum' : 'text';
  }

  private forums: Set<number> | undefined;
  private readForums(): Set<number> {
    return new Set(this.db.select({ id: channels.id }).from(channels).where(eq(channels.kind, 'forum')).all().map((c) => c.id));
  }
  private refreshKinds(): void {
    this.forums = undefined;
  }

  /** Deletes a channel with its webhooks, routes and queued deliveries; 404 when there is none. */
  async delete(id: number): Promise<void> {
    const n = this.db.delete(channels).where(eq(channels.id, id)).run().changes;
    if (!n) throw notFound('channel', id);
    this.routes.load();
  }

  async exists(id: number): Promise<boolean> {
    return this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.id, id), live)).get() !== undefined;
  }

  // --- the configuration file's writes (services/config/apply.ts, inside its transaction) ---

  /** Who manages the channel (null: the admin API); undefined when there is no such channel. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    return this.db.select({ m: channels.managedBy }).from(channels).where(and(eq(channels.id, id), live)).get()?.m;
  }

  /**
   * Sets a channel as the file says, and marks it file-managed (an API-made one is taken over, a dropped one
   * brought back). Taking the default needs no `move_default` here: the file says which one channel is the default.
   */
  async setFromFile(id: number, c: FileChannelSettings): Promise<void> {
    this.db.transaction((tx) => {
      if (c.isDefault) tx.update(channels).set({ isDefault: false }).where(and(eq(channels.isDefault, true), ne(channels.id, id))).run();
      tx.update(channels).set({ discordChannelId: c.discordChannelId, isDefault: c.isDefault, kind: c.kind, managedBy: 'file', removedAt: null }).where(eq(channels.id, id)).run();
    });
    this.refreshKinds();
    this.routes.load();
  }

  /** The file dropped the channel: it stops being one (not the default, not listed); the row stays for its dead letters. */
  async retire(id: number, now: number): Promise<void> {
    this.db.update(channels).set({ removedAt: now, isDefault: false }).where(eq(channels.id, id)).run();
    this.refreshKinds();
    this.routes.load();
  }

  /** Every channel in use with its settings, for the configuration file's diff and export. */
  async allRows(): Promise<(typeof channels.$inferSelect)[]> {
    return this.db.select().from(channels).where(live).orderBy(asc(channels.id)).all();
  }

  /** After a transaction that wrote channels was rolled back: the forum cache is read again. */
  async refresh(): Promise<void> {
    this.load();
  }

  /** The synchronous re-read under `refresh`, for this module's own writes and its sibling modules' transactions. */
  load(): void {
    this.refreshKinds();
  }

  /** A channel by name, dropped ones included (the file brings a dropped channel back under its name). */
  async byName(name: string): Promise<{ id: number; removed: boolean; managedBy: 'file' | null } | undefined> {
    const r = this.db.select({ id: channels.id, removedAt: channels.removedAt, managedBy: channels.managedBy }).from(channels).where(eq(channels.name, name)).get();
    return r && { id: r.id, removed: r.removedAt !== null, managedBy: r.managedBy };
  }

  /** The channel's row; 404 when there is none. */
  async row(id: number): Promise<ChannelRow> {
    const c = this.db.select({ id: channels.id, name: channels.name, discordChannelId: channels.discordChannelId }).from(channels).where(and(eq(channels.id, id), live)).get();
    if (!c) throw notFound('channel', id);
    return c;
  }

  /** Of these ids, those that are still channels. */
  async existing(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    return this.db.select({ id: channels.id }).from(channels).where(and(inArray(channels.id, [...ids]), live)).all().map((c) => c.id);
  }

  /** Channels with their webhook counts and backlog, in id order; `ids`: only these. */
  async views(ids?: number[]): Promise<ChannelView[]> {
    const rows = this.db
      .select()
      .from(channels)
      .where(ids ? and(inArray(channels.id, ids), live) : live)
      .orderBy(asc(channels.id))
      .all();
    if (rows.length === 0) return [];
    const hooks = new Map<string, number>();
    for (const r of this.db
      .select({ channelId: webhooks.channelId, state: webhooks.state, n: sql<number>`count(*)` })
      .from(webhooks)
      .groupBy(webhooks.channelId, webhooks.state)
      .all()) {
      hooks.set(`${r.channelId}:${r.state}`, r.n);
    }
    const backlog = await this.deliveries.pendingByChannel();
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
