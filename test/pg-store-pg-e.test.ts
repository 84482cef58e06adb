import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../src/domain/errors.js';
import type { BusinessHours } from '../src/domain/hours.js';
import type { CompiledRoute } from '../src/domain/routing.js';
import type { ChannelStore } from '../src/store/channels.js';
import { openStore, type Store } from '../src/store/index.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import { PgRouteStore, routeCache } from '../src/store/pg/routes.js';
import * as pgSchema from '../src/store/pg/schema.js';
import type { RouteStore } from '../src/store/routes.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL routes and channels modules (src/store/pg/routes.ts, channels.ts) against a real PostgreSQL
 * database, and the same scenarios against the SQLite modules on a file (as test/pg-store.test.ts): each scenario
 * runs on both, asserts what it expects of each, and that both answered the same.
 */

/** The members both backends have alike; SQLite's synchronous chain members are the backend's, awaited. */
type ChainMembers = 'load' | 'setChain' | 'detachChain' | 'chainRoutes';
interface Common {
  readonly routes: Pick<RouteStore, Exclude<keyof RouteStore, ChainMembers>>;
  readonly channels: Pick<ChannelStore, Exclude<keyof ChannelStore, 'load'>>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  setChain(routeId: number, chainId: number | null): Promise<void>;
  detachChain(chainId: number): Promise<void>;
  chainRoutes(): Promise<{ id: number; chainId: number }[]>;
  /** Rows written by modules not ported here (escalation chains, webhooks, deliveries), the same on both. */
  seedChain(name: string): Promise<void>;
  seedWebhook(channelId: number, discordId: string, state: 'active' | 'quarantined' | 'removed'): Promise<void>;
  seedDelivery(channelId: number, state: 'pending' | 'leased' | 'sent' | 'dead'): Promise<void>;
  /** A statement run behind the modules' backs (their caches do not see it). */
  exec(statement: string): Promise<void>;
  /** After a rolled-back transaction: SQLite's `refreshCaches`, PostgreSQL's caches' `refresh()`. */
  refreshCaches(): Promise<void>;
  clear(): Promise<void>;
}

const pg = pgDatabase();
let handle: PgHandle;
let dir: string;
let lite: Store;
let onPg: PgStore;
const backends: Backend[] = [];

beforeAll(async () => {
  handle = await openPg(pg.url, { poolSize: 6 });
  onPg = pgStore(handle.db);
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-e-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  const l = liteSchema;
  const p = pgSchema;
  const delivery = (channelId: number, state: 'pending' | 'leased' | 'sent' | 'dead') => ({ channelId, priority: 1, sortKey: 1, state, availableAt: T0, createdAt: T0 });
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      setChain: async (routeId, chainId) => lite.routes.setChain(routeId, chainId),
      detachChain: async (chainId) => lite.routes.detachChain(chainId),
      chainRoutes: async () => lite.routes.chainRoutes(),
      seedChain: async (name) => void lite.db.insert(l.escalationChains).values({ name }).run(),
      seedWebhook: async (channelId, discordWebhookId, state) => void lite.db.insert(l.webhooks).values({ channelId, discordWebhookId, token: 't', state }).run(),
      seedDelivery: async (channelId, state) => void lite.db.insert(l.deliveries).values(delivery(channelId, state)).run(),
      exec: async (statement) => void lite.db.$client.exec(statement),
      refreshCaches: () => lite.refreshCaches(),
      clear: async () => {
        for (const t of [l.deliveries, l.webhooks, l.routes, l.channels, l.escalationChains]) lite.db.delete(t).run();
        lite.db.$client.exec('DELETE FROM sqlite_sequence');
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      setChain: (routeId, chainId) => onPg.routes.setChain(routeId, chainId),
      detachChain: (chainId) => onPg.routes.detachChain(chainId),
      chainRoutes: () => onPg.routes.chainRoutes(),
      seedChain: async (name) => void (await handle.db.insert(p.escalationChains).values({ name })),
      seedWebhook: async (channelId, discordWebhookId, state) => void (await handle.db.insert(p.webhooks).values({ channelId, discordWebhookId, token: 't', state })),
      seedDelivery: async (channelId, state) => void (await handle.db.insert(p.deliveries).values(delivery(channelId, state))),
      exec: async (statement) => void (await handle.pool.query(statement)),
      refreshCaches: async () => {
        await onPg.routes.refresh();
        await onPg.channels.refresh();
      },
      // Ids start again at 1, as on SQLite.
      clear: async () => void (await handle.pool.query('TRUNCATE deliveries, webhooks, routes, channels, escalation_chains RESTART IDENTITY CASCADE')),
    },
  );
});
afterAll(async () => {
  lite?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await handle?.close();
});
beforeEach(async () => {
  for (const b of backends) {
    await b.clear();
    await b.refreshCaches();
  }
});

/** Runs `scenario` on each backend; returns both answers after asserting they are equal. */
async function onBoth<T>(scenario: (b: Backend) => Promise<T>): Promise<T> {
  const [sqlite, postgresql] = [await scenario(backends[0]!), await scenario(backends[1]!)];
  expect(postgresql, 'PostgreSQL answers as SQLite does').toEqual(sqlite);
  return postgresql;
}

/** A call's ServiceError (status, code, message), or what else it threw, or 'ok'. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    if (err instanceof ServiceError) return { status: err.status, code: err.code, message: err.message };
    return err;
  }
}

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;
const HOURS: BusinessHours = { timezone: 'Europe/Berlin', days: ['mon', 'tue'], start: '09:00', end: '17:00', outside: 'digest' };

/** Each backend's own `created_at` / `createdAt` (the database's clock) checked and left out, so the two can be compared. */
function withoutCreated<T extends object>(row: T): Omit<T, 'createdAt' | 'created_at'> {
  const { createdAt, created_at, ...rest } = row as T & { createdAt?: number; created_at?: number };
  const at = createdAt ?? created_at;
  expect(at).toBeGreaterThan(Date.now() - 600_000);
  expect(at).toBeLessThan(Date.now() + 600_000);
  return rest;
}

/** What the cache holds, without the compiled matchers (functions) and the rows' `createdAt`. */
function cacheOf(routes: Common['routes']) {
  return {
    routes: routes.routes.map((r: CompiledRoute) => withoutCreated({ ...r, matches: undefined })),
    fallback: routes.fallback,
    anyChain: routes.anyChain,
    anyGroupBy: routes.anyGroupBy,
    minAutoResolveAfterMs: routes.minAutoResolveAfterMs,
    chainOf: [1, 2, 3, 4].map((id) => routes.chainOf(id) ?? null),
  };
}

const ALERT = { service: 'payments-api', severity: 'P1' as const, environment: 'prod', labels: { team: 'core', zone: 'a', extra: 'x' } };

describe('routes', () => {
  it('creates routes (404 for an unknown or dropped channel), lists them and reads them back (allRows, exists, managedBy)', async () => {
    const answers = await onBoth(async ({ store: { routes, channels } }) => {
      const empty = cacheOf(routes);
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: true });
      const b = await channels.create({ name: 'beta', discordChannelId: '200', isDefault: false });
      const gone = await channels.create({ name: 'gone', discordChannelId: '300', isDefault: false });
      await channels.retire(gone, T0);
      const r1 = await routes.create({ channelId: a, service: 'payments-*', severities: ['P0', 'P1'], environment: 'prod', labels: { team: 'core', zone: 'a' }, businessHours: HOURS });
      const r2 = await routes.create({ channelId: b, service: null, severities: null, environment: null, labels: null, businessHours: null, autoResolveAfterMs: 3_600_000_000, threads: true, groupBy: ['cluster'], groupWaitMs: 9_000 });
      const r3 = await routes.createFromFile({ channelId: b, service: 'db', severities: null, environment: null, labels: null, businessHours: null, autoResolveAfterMs: 60_000, configName: 'db-route' });
      const unknown = await failure(routes.create({ channelId: 99, service: null, severities: null, environment: null, labels: null, businessHours: null }));
      const dropped = await failure(routes.create({ channelId: gone, service: null, severities: null, environment: null, labels: null, businessHours: null }));
      const list = (await routes.list()).map(withoutCreated);
      const rows = (await routes.allRows()).map(withoutCreated);
      const matches = routes.routes.map((r) => [r.matches(ALERT), r.matches({ ...ALERT, service: 'db', labels: null })]);
      return {
        empty,
        ids: [r1, r2, r3],
        unknown,
        dropped,
        list,
        rows,
        cache: cacheOf(routes),
        matches,
        exists: [await routes.exists(r1), await routes.exists(99)],
        managedBy: [await routes.managedBy(r1), await routes.managedBy(r3), await routes.managedBy(99)],
      };
    });
    expect(answers.empty).toEqual({ routes: [], fallback: null, anyChain: false, anyGroupBy: false, minAutoResolveAfterMs: null, chainOf: [null, null, null, null] });
    expect(answers.ids).toEqual([1, 2, 3]);
    expect(answers.unknown).toEqual({ status: 404, code: 'not_found', message: expect.stringContaining('channel') });
    expect(answers.dropped).toEqual({ status: 404, code: 'not_found', message: expect.stringContaining('3') });
    expect(answers.list).toEqual([
      { id: 1, channel_id: 1, channel_name: 'alpha', service: 'payments-*', severities: ['P0', 'P1'], environment: 'prod', labels: { team: 'core', zone: 'a' }, business_hours: HOURS },
      { id: 2, channel_id: 2, channel_name: 'beta', service: null, severities: null, environment: null, labels: null, business_hours: null, auto_resolve_after_ms: 3_600_000_000, threads: true, group_by: ['cluster'], group_wait_ms: 9_000 },
      { id: 3, channel_id: 2, channel_name: 'beta', service: 'db', severities: null, environment: null, labels: null, business_hours: null, auto_resolve_after_ms: 60_000, managed_by: 'file', name: 'db-route' },
    ]);
    // The labels keep their key order (a json column on PostgreSQL).
    expect(Object.keys(answers.list[0]!.labels!)).toEqual(['team', 'zone']);
    expect(answers.rows[1]).toEqual({ id: 2, channelId: 2, service: null, severities: null, environment: null, labels: null, escalationChainId: null, businessHours: null, autoResolveAfterMs: 3_600_000_000, threads: true, groupBy: ['cluster'], groupWaitMs: 9_000, managedBy: null, configName: null });
    expect(answers.cache).toMatchObject({ fallback: 1, anyChain: false, anyGroupBy: true, minAutoResolveAfterMs: 60_000 });
    expect(answers.cache.routes.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(answers.matches).toEqual([
      [true, false],
      [true, true],
      [false, true],
    ]);
    expect(answers.exists).toEqual([true, false]);
    expect(answers.managedBy).toEqual([null, 'file', undefined]);
  });

  it('sets a route from the file, its hours, auto-resolve, threads and grouping (404 for an unknown route), each seen by the cache at once', async () => {
    const answers = await onBoth(async ({ store: { routes, channels } }) => {
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: false });
      const r = await routes.create({ channelId: a, service: 'web', severities: null, environment: null, labels: null, businessHours: null, autoResolveAfterMs: 5_000, threads: true });
      const steps: unknown[] = [];
      const look = async () => steps.push({ list: (await routes.list()).map(withoutCreated), cache: cacheOf(routes) });
      await routes.setHours(r, HOURS);
      await routes.setAutoResolve(r, 7_000);
      await routes.setThreads(r, false);
      await routes.setGrouping(r, { groupBy: ['host', 'dc'], groupWaitMs: 2_000 });
      await look();
      await routes.setGrouping(r, {});
      await routes.setGrouping(r, { groupBy: [] });
      await look();
      await routes.setGrouping(r, { groupWaitMs: null });
      await routes.setHours(r, null);
      await routes.setAutoResolve(r, null);
      await look();
      await routes.setFromFile(r, { channelId: a, service: 'web-*', severities: ['P2'], environment: 'staging', labels: { k: 'v' }, businessHours: null, configName: 'web' });
      await look();
      const missing = [
        await failure(routes.setFromFile(99, { channelId: a, service: null, severities: null, environment: null, labels: null, businessHours: null, configName: null })),
        await failure(routes.setHours(99, HOURS)),
        await failure(routes.setAutoResolve(99, 1)),
        await failure(routes.setThreads(99, true)),
        await failure(routes.setGrouping(99, { groupBy: ['x'] })),
        await failure(routes.setGrouping(99, {})),
        await failure(routes.delete(99)),
      ];
      return { steps, missing };
    });
    expect(answers.steps[0]).toMatchObject({ list: [{ business_hours: HOURS, auto_resolve_after_ms: 7_000, group_by: ['host', 'dc'], group_wait_ms: 2_000 }], cache: { anyGroupBy: true, minAutoResolveAfterMs: 7_000 } });
    expect(answers.steps[1]).toMatchObject({ list: [{ group_wait_ms: 2_000 }], cache: { anyGroupBy: false } });
    expect(answers.steps[2]).toMatchObject({ list: [{ business_hours: null }], cache: { minAutoResolveAfterMs: null } });
    expect(answers.steps[3]).toMatchObject({ list: [{ service: 'web-*', severities: ['P2'], environment: 'staging', labels: { k: 'v' }, managed_by: 'file', name: 'web' }] });
    const notFound = { status: 404, code: 'not_found', message: expect.stringContaining('99') };
    expect(answers.missing).toEqual([notFound, notFound, notFound, notFound, notFound, 'ok', notFound]);
  });

  it('deletes a route; names, lists and detaches the chains routes arm (404 for an unknown route)', async () => {
    const answers = await onBoth(async (b) => {
      const { routes, channels } = b.store;
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: false });
      const route = () => routes.create({ channelId: a, service: null, severities: null, environment: null, labels: null, businessHours: null });
      const [r1, r2, r3] = [await route(), await route(), await route()];
      await b.seedChain('first');
      await b.seedChain('second');
      await b.setChain(r3!, 1);
      await b.setChain(r1!, 2);
      await b.setChain(r2!, 2);
      const unknown = await failure(b.setChain(99, 1));
      // The chain members leave the cache alone (their caller, the escalations store, refreshes it).
      const before = cacheOf(routes);
      await routes.refresh();
      const armed = { chains: await b.chainRoutes(), cache: cacheOf(routes) };
      await b.detachChain(2);
      await b.setChain(r3!, null);
      await routes.refresh();
      const detached = { chains: await b.chainRoutes(), cache: cacheOf(routes) };
      await b.setChain(r1!, 1);
      await routes.delete(r1!);
      const deleted = { list: (await routes.list()).map((r) => r.id), chains: await b.chainRoutes(), cache: cacheOf(routes), exists: await routes.exists(r1!) };
      return { unknown, before, armed, detached, deleted };
    });
    expect(answers.unknown).toEqual({ status: 404, code: 'not_found', message: expect.stringContaining('99') });
    expect(answers.before).toMatchObject({ anyChain: false, chainOf: [null, null, null, null] });
    expect(answers.armed).toMatchObject({ chains: [{ id: 1, chainId: 2 }, { id: 2, chainId: 2 }, { id: 3, chainId: 1 }], cache: { anyChain: true, chainOf: [2, 2, 1, null] } });
    expect(answers.detached).toMatchObject({ chains: [], cache: { anyChain: false, chainOf: [null, null, null, null] } });
    expect(answers.deleted).toMatchObject({ list: [2, 3], chains: [], cache: { anyChain: false }, exists: false });
  });

  it('a change behind the cache’s back is seen after refresh()', async () => {
    const answers = await onBoth(async (b) => {
      const { routes, channels } = b.store;
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: false });
      await routes.create({ channelId: a, service: null, severities: null, environment: null, labels: null, businessHours: null });
      await b.exec('UPDATE routes SET auto_resolve_after_ms = 42');
      await b.exec('UPDATE channels SET is_default = true');
      const stale = cacheOf(routes);
      await routes.refresh();
      return { stale, fresh: cacheOf(routes) };
    });
    expect(answers.stale).toMatchObject({ fallback: null, minAutoResolveAfterMs: null });
    expect(answers.fresh).toMatchObject({ fallback: 1, minAutoResolveAfterMs: 42 });
  });
});

describe('channels', () => {
  it('creates channels (409 for a taken name, 409 for the default without move_default), moves the default, and routing’s fallback follows', async () => {
    const answers = await onBoth(async ({ store: { channels, routes } }) => {
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: true });
      const taken = await failure(channels.create({ name: 'alpha', discordChannelId: '101', isDefault: false }));
      const noMove = await failure(channels.create({ name: 'beta', discordChannelId: '200', isDefault: true }));
      const afterNoMove = { fallback: routes.fallback, names: (await channels.allRows()).map((c) => c.name) };
      const b = await channels.create({ name: 'beta', discordChannelId: '200', isDefault: true, moveDefault: true, kind: 'forum', managedBy: 'file' });
      const moved = { fallback: routes.fallback, rows: (await channels.allRows()).map(withoutCreated) };
      const setNoMove = await failure(channels.setDefault(a, true, undefined));
      await channels.setDefault(a, true, true);
      const back = routes.fallback;
      await channels.setDefault(a, false, undefined);
      const none = routes.fallback;
      await channels.setDefault(b, true, undefined);
      const missing = [await failure(channels.setDefault(99, true, true)), await failure(channels.setDefault(99, false, undefined)), await failure(channels.setKind(99, 'forum')), await failure(channels.delete(99)), await failure(channels.row(99))];
      return { ids: [a, b], taken, noMove, afterNoMove, moved, setNoMove, back, none, last: routes.fallback, missing };
    });
    expect(answers.ids).toEqual([1, 2]); // the refused "alpha" and "beta" took no id (both refused before the insert)
    expect(answers.taken).toEqual({ status: 409, code: 'conflict', message: 'a channel named "alpha" already exists' });
    expect(answers.noMove).toMatchObject({ status: 409, message: expect.stringContaining('channel "alpha" (id 1) is already the default') });
    expect(answers.afterNoMove).toEqual({ fallback: 1, names: ['alpha'] });
    expect(answers.moved).toEqual({
      fallback: 2,
      rows: [
        { id: 1, name: 'alpha', discordChannelId: '100', isDefault: false, kind: 'text', managedBy: null, removedAt: null },
        { id: 2, name: 'beta', discordChannelId: '200', isDefault: true, kind: 'forum', managedBy: 'file', removedAt: null },
      ],
    });
    expect(answers.setNoMove).toMatchObject({ status: 409, message: expect.stringContaining('channel "beta" (id 2)') });
    expect([answers.back, answers.none, answers.last]).toEqual([1, null, 2]);
    const notFound = { status: 404, code: 'not_found', message: expect.stringContaining('99') };
    expect(answers.missing).toEqual([notFound, notFound, notFound, notFound, notFound]);
  });

  it('says which channels are forums (kindOf, cached), reads channels back (exists, managedBy, byName, row, existing)', async () => {
    const answers = await onBoth(async ({ store: { channels } }) => {
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: false });
      const f = await channels.create({ name: 'forum', discordChannelId: '200', isDefault: false, kind: 'forum', managedBy: 'file' });
      const kinds0 = [channels.kindOf(a), channels.kindOf(f)];
      await channels.setKind(a, 'forum');
      await channels.setKind(f, 'text');
      const kinds1 = [channels.kindOf(a), channels.kindOf(f)];
      return {
        kinds0,
        kinds1,
        exists: [await channels.exists(a), await channels.exists(99)],
        managedBy: [await channels.managedBy(a), await channels.managedBy(f), await channels.managedBy(99)],
        byName: [await channels.byName('forum'), await channels.byName('nope')],
        row: await channels.row(f),
        existing: [await channels.existing([f, 99, a]), await channels.existing([])],
      };
    });
    expect(answers).toEqual({
      kinds0: ['text', 'forum'],
      kinds1: ['forum', 'text'],
      exists: [true, false],
      managedBy: [null, 'file', undefined],
      byName: [{ id: 2, removed: false, managedBy: 'file' }, undefined],
      row: { id: 2, name: 'forum', discordChannelId: '200' },
      existing: [[1, 2], []],
    });
  });

  it('a kind changed behind the cache’s back is seen after refresh()', async () => {
    const answers = await onBoth(async (b) => {
      const { channels } = b.store;
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: false });
      const before = channels.kindOf(a);
      await b.exec(`UPDATE channels SET kind = 'forum'`);
      const stale = channels.kindOf(a);
      await channels.refresh();
      return { before, stale, fresh: channels.kindOf(a) };
    });
    expect(answers).toEqual({ before: 'text', stale: 'text', fresh: 'forum' });
  });

  it('the file sets and retires channels (a dropped one stays a row, brought back by setFromFile), and the caches follow', async () => {
    const answers = await onBoth(async ({ store: { channels, routes } }) => {
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: true });
      const b = await channels.create({ name: 'beta', discordChannelId: '200', isDefault: false });
      await routes.create({ channelId: b, service: null, severities: null, environment: null, labels: null, businessHours: null });
      await channels.setFromFile(b, { discordChannelId: '201', isDefault: true, kind: 'forum' });
      const set = { fallback: routes.fallback, kind: channels.kindOf(b), rows: (await channels.allRows()).map(withoutCreated) };
      await channels.retire(b, T0);
      const retired = {
        fallback: routes.fallback,
        kind: channels.kindOf(b),
        rows: (await channels.allRows()).map((c) => c.id),
        exists: await channels.exists(b),
        byName: await channels.byName('beta'),
        row: await failure(channels.row(b)),
        managedBy: await channels.managedBy(b),
        existing: await channels.existing([a, b]),
        views: (await channels.views()).map((v) => v.id),
        setKind: await failure(channels.setKind(b, 'text')),
        setDefault: await failure(channels.setDefault(b, true, true)),
      };
      await channels.setFromFile(b, { discordChannelId: '202', isDefault: false, kind: 'text' });
      const back = { fallback: routes.fallback, kind: channels.kindOf(b), byName: await channels.byName('beta'), rows: (await channels.allRows()).map(withoutCreated) };
      return { set, retired, back };
    });
    expect(answers.set).toEqual({
      fallback: 2,
      kind: 'forum',
      rows: [
        { id: 1, name: 'alpha', discordChannelId: '100', isDefault: false, kind: 'text', managedBy: null, removedAt: null },
        { id: 2, name: 'beta', discordChannelId: '201', isDefault: true, kind: 'forum', managedBy: 'file', removedAt: null },
      ],
    });
    expect(answers.retired).toEqual({
      fallback: null,
      kind: 'forum', // as SQLite's cache: dropped channels are read too
      rows: [1],
      exists: false,
      byName: { id: 2, removed: true, managedBy: 'file' },
      row: { status: 404, code: 'not_found', message: expect.stringContaining('2') },
      managedBy: undefined,
      existing: [1],
      views: [1],
      setKind: { status: 404, code: 'not_found', message: expect.stringContaining('2') },
      setDefault: { status: 404, code: 'not_found', message: expect.stringContaining('2') },
    });
    expect(answers.back).toMatchObject({ fallback: null, kind: 'text', byName: { id: 2, removed: false, managedBy: 'file' }, rows: [{ id: 1 }, { id: 2, discordChannelId: '202', isDefault: false, removedAt: null }] });
  });

  it('views: webhook counts and backlog per channel, kind and managed_by only when set, `ids` only these', async () => {
    const answers = await onBoth(async (b) => {
      const { channels } = b.store;
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: true });
      const f = await channels.create({ name: 'forum', discordChannelId: '200', isDefault: false, kind: 'forum', managedBy: 'file' });
      const empty = await channels.create({ name: 'empty', discordChannelId: '300', isDefault: false });
      await b.seedWebhook(a, 'w1', 'active');
      await b.seedWebhook(a, 'w2', 'active');
      await b.seedWebhook(a, 'w3', 'quarantined');
      await b.seedWebhook(a, 'w4', 'removed');
      await b.seedWebhook(f, 'w5', 'quarantined');
      for (const s of ['pending', 'leased', 'sent', 'dead', 'pending'] as const) await b.seedDelivery(a, s);
      await b.seedDelivery(f, 'leased');
      await b.seedDelivery(empty, 'sent');
      return {
        all: (await channels.views()).map(withoutCreated),
        some: (await channels.views([f, 99])).map((v) => v.id),
        none: await channels.views([]),
      };
    });
    expect(answers).toEqual({
      all: [
        { id: 1, name: 'alpha', discord_channel_id: '100', default: true, webhooks: { active: 2, quarantined: 1 }, backlog: 3 },
        { id: 2, name: 'forum', discord_channel_id: '200', default: false, webhooks: { active: 0, quarantined: 1 }, backlog: 1, kind: 'forum', managed_by: 'file' },
        { id: 3, name: 'empty', discord_channel_id: '300', default: false, webhooks: { active: 0, quarantined: 0 }, backlog: 0 },
      ],
      some: [2],
      none: [],
    });
  });

  it('deletes a channel with its routes, webhooks and deliveries, and routing’s cache follows', async () => {
    const answers = await onBoth(async (b) => {
      const { channels, routes } = b.store;
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: true });
      const keep = await channels.create({ name: 'beta', discordChannelId: '200', isDefault: false });
      await routes.create({ channelId: a, service: null, severities: null, environment: null, labels: null, businessHours: null });
      await routes.create({ channelId: keep, service: null, severities: null, environment: null, labels: null, businessHours: null });
      await b.seedWebhook(a, 'w1', 'active');
      await b.seedDelivery(a, 'pending');
      await channels.delete(a);
      return { cache: cacheOf(routes), list: (await routes.list()).map((r) => r.id), views: (await channels.views()).map(withoutCreated), again: await failure(channels.delete(a)) };
    });
    expect(answers.cache).toMatchObject({ fallback: null });
    expect(answers.cache.routes.map((r) => r.id)).toEqual([2]);
    expect(answers.list).toEqual([2]);
    expect(answers.views).toEqual([{ id: 2, name: 'beta', discord_channel_id: '200', default: false, webhooks: { active: 0, quarantined: 0 }, backlog: 0 }]);
    expect(answers.again).toEqual({ status: 404, code: 'not_found', message: expect.stringContaining('1') });
  });

  it('inside a transaction: the caches read what it wrote; after its rollback, refreshed, they are as before', async () => {
    const answers = await onBoth(async (b) => {
      const { channels, routes } = b.store;
      const a = await channels.create({ name: 'alpha', discordChannelId: '100', isDefault: true });
      let inside: unknown;
      const thrown = await failure(
        b.store.transaction(async (tx) => {
          const f = await tx.channels.create({ name: 'forum', discordChannelId: '200', isDefault: true, moveDefault: true, kind: 'forum' });
          await tx.routes.create({ channelId: f, service: null, severities: null, environment: null, labels: null, businessHours: null });
          inside = { fallback: tx.routes.fallback, kind: tx.channels.kindOf(f), routes: tx.routes.routes.map((r) => r.channelId), views: (await tx.channels.views()).map((v) => v.id) };
          throw new Error('roll back');
        }),
      );
      await b.refreshCaches();
      return { inside, thrown: (thrown as Error).message, after: { fallback: routes.fallback, kind: channels.kindOf(2), routes: routes.routes.length, rows: (await channels.allRows()).map((c) => c.id), a } };
    });
    expect(answers).toEqual({ inside: { fallback: 2, kind: 'forum', routes: [2], views: [1, 2] }, thrown: 'roll back', after: { fallback: 1, kind: 'text', routes: 0, rows: [1], a: 1 } });
  });
});

describe('on PostgreSQL only', () => {
  it('a default created while another one is not yet committed waits for it, then is a 409 (the default’s lock)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let created!: () => void;
    const didCreate = new Promise<void>((resolve) => (created = resolve));
    const first = onPg.transaction(async (tx) => {
      await tx.channels.create({ name: 'one', discordChannelId: '1', isDefault: true });
      created();
      await held;
    });
    await didCreate;
    const second = failure(onPg.channels.create({ name: 'two', discordChannelId: '2', isDefault: true }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await first;
    expect(await second).toMatchObject({ status: 409, message: expect.stringContaining('channel "one" (id 1) is already the default') });
    expect((await onPg.channels.allRows()).map((c) => [c.name, c.isDefault])).toEqual([['one', true]]);
  });

  it('moves of the default side by side (create and setDefault) leave one default, without a deadlock', async () => {
    const a = await onPg.channels.create({ name: 'a', discordChannelId: '1', isDefault: true });
    const b = await onPg.channels.create({ name: 'b', discordChannelId: '2', isDefault: false });
    const results = await Promise.all([
      failure(onPg.channels.setDefault(b, true, true)),
      failure(onPg.channels.create({ name: 'c', discordChannelId: '3', isDefault: true, moveDefault: true })),
      failure(onPg.channels.setDefault(a, true, true)),
      failure(onPg.channels.setFromFile(b, { discordChannelId: '2', isDefault: true, kind: 'text' })),
    ]);
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok']);
    const defaults = (await onPg.channels.allRows()).filter((c) => c.isDefault).map((c) => c.id);
    expect(defaults).toHaveLength(1);
    await onPg.routes.refresh();
    expect(onPg.routes.fallback).toBe(defaults[0]);
  });

  it('two creates of one name side by side: one is stored, the other the 409 (the unique index)', async () => {
    const results = await Promise.all([failure(onPg.channels.create({ name: 'same', discordChannelId: '1', isDefault: false })), failure(onPg.channels.create({ name: 'same', discordChannelId: '2', isDefault: false }))]);
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.find((r) => r !== 'ok')).toEqual({ status: 409, code: 'conflict', message: 'a channel named "same" already exists' });
  });

  it('a route created while its channel’s delete is not yet committed waits for it, then is a 404 (no foreign key violation)', async () => {
    const c = await onPg.channels.create({ name: 'c', discordChannelId: '1', isDefault: false });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let deleted!: () => void;
    const didDelete = new Promise<void>((r) => (deleted = r));
    const deleting = onPg.transaction(async (tx) => {
      await tx.channels.delete(c);
      deleted();
      await held;
    });
    await didDelete;
    const creating = failure(onPg.routes.create({ channelId: c, service: null, severities: null, environment: null, labels: null, businessHours: null }));
    await new Promise((r) => setTimeout(r, 100));
    release();
    await deleting;
    expect(await creating).toEqual({ status: 404, code: 'not_found', message: expect.stringContaining(String(c)) });
  });

  it('a re-read that returns after a later-started one does not overwrite it (the cache is shared state)', async () => {
    const cache = routeCache();
    const c = await onPg.channels.create({ name: 'c', discordChannelId: '1', isDefault: false });
    const r = await onPg.routes.create({ channelId: c, service: null, severities: null, environment: null, labels: null, businessHours: null });
    const signal = () => {
      let fire!: () => void;
      const fired = new Promise<void>((resolve) => (fire = resolve));
      return { fire, fired };
    };
    const [snapshot, locked, olderStarted] = [signal(), signal(), signal()];
    // The older re-read: on a snapshot taken before the route's delete, started first (ticket 1), and held up on
    // its read of channels by another transaction's lock until a later re-read (ticket 2) has been applied.
    const older = handle.db.transaction(
      async (tx) => {
        await tx.select().from(pgSchema.routes);
        snapshot.fire();
        await locked.fired;
        const refresh = new PgRouteStore(tx, cache).refresh();
        olderStarted.fire();
        await refresh;
      },
      { isolationLevel: 'repeatable read' },
    );
    await snapshot.fired;
    await onPg.routes.delete(r);
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`lock table channels in access exclusive mode`);
      locked.fire();
      await olderStarted.fired;
      await new Promise((resolve) => setTimeout(resolve, 100));
      await new PgRouteStore(tx, cache).refresh();
      expect(cache.compiled).toHaveLength(0);
    });
    await older;
    expect(cache).toMatchObject({ started: 2, applied: 2, compiled: [] });
  });
});
