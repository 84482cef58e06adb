import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../src/domain/errors.js';
import type { EventStore } from '../src/store/events.js';
import { openStore, type Store } from '../src/store/index.js';
import type { OutboundStore } from '../src/store/outbound.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import type { NewMember, WebhookRow, WebhookStore } from '../src/store/webhooks.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL webhooks and outbound modules (src/store/pg/webhooks.ts, pg/outbound.ts) against a real PostgreSQL
 * database, and the same scenarios against the SQLite modules on a file: one behaviour, two backends. Each scenario
 * runs on both, asserts what it expects of each, and that both answered the same (test/pg-store.test.ts's style).
 */

/** What both backends offer for these modules: the PostgreSQL ones lack the SQLite-only twins and `load()`. */
interface Common {
  readonly events: Pick<EventStore, keyof EventStore>;
  readonly webhooks: Pick<WebhookStore, Exclude<keyof WebhookStore, 'checkJoinSync' | 'checkRoomSync' | 'recordEventSync'>>;
  readonly outbound: Pick<OutboundStore, Exclude<keyof OutboundStore, 'load'>>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

/** Rows of other modules' tables (not ported here), written the same on both, with their ids. */
interface Seed {
  channels?: { id: number; name: string; discordChannelId: string; removedAt?: number }[];
  webhooks?: { id: number; channelId: number; discordWebhookId: string; token: string; state?: WebhookRow['state']; owner?: WebhookRow['owner'] }[];
  routes?: { id: number; channelId: number }[];
  alerts?: { id: number; service: string; severity: 'P0' | 'P1' | 'P2' | 'P3'; title: string; receivedAt: number }[];
}

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seed(rows: Seed): Promise<void>;
  /** An outbound delivery's row as it is stored, to check what the worker's methods wrote. */
  delivery(id: number): Promise<Record<string, unknown> | undefined>;
  clear(): Promise<void>;
}

const pg = pgDatabase();
let handle: PgHandle;
let dir: string;
let lite: Store;
let onPg: PgStore;
const backends: Backend[] = [];

/** Every table these tests write, children first. */
const TABLES = ['outbound_deliveries', 'outbound_targets', 'alerts', 'routes', 'events', 'webhooks', 'channels'] as const;

beforeAll(async () => {
  handle = await openPg(pg.url, { poolSize: 4 });
  onPg = pgStore(handle.db);
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-b-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  const l = liteSchema;
  const p = pgSchema;
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      seed: async (s) => {
        if (s.channels) lite.db.insert(l.channels).values(s.channels).run();
        if (s.webhooks) lite.db.insert(l.webhooks).values(s.webhooks).run();
        if (s.routes) lite.db.insert(l.routes).values(s.routes).run();
        if (s.alerts) lite.db.insert(l.alerts).values(s.alerts).run();
      },
      delivery: async (id) => lite.db.select().from(l.outboundDeliveries).where(sql`${l.outboundDeliveries.id} = ${id}`).get(),
      clear: async () => {
        for (const t of TABLES) lite.db.run(sql.raw(`delete from ${t}`));
        // Ids start again at 1, as PostgreSQL's identities do after the truncate below.
        lite.db.run(sql`delete from sqlite_sequence`);
        await lite.outbound.refresh();
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      seed: async (s) => {
        if (s.channels) await handle.db.insert(p.channels).values(s.channels);
        if (s.webhooks) await handle.db.insert(p.webhooks).values(s.webhooks);
        if (s.routes) await handle.db.insert(p.routes).values(s.routes);
        if (s.alerts) await handle.db.insert(p.alerts).values(s.alerts);
        // Rows inserted with their ids leave an identity's sequence behind (SQLite's next id is past the largest).
        for (const t of ['channels', 'webhooks', 'routes', 'alerts'] as const) {
          if (s[t]) await handle.db.execute(sql.raw(`select setval(pg_get_serial_sequence('${t}', 'id'), (select max(id) from ${t}))`));
        }
      },
      delivery: async (id) => {
        const [row] = await handle.db.select().from(p.outboundDeliveries).where(sql`${p.outboundDeliveries.id} = ${id}`);
        return row;
      },
      clear: async () => {
        await handle.db.execute(sql.raw(`truncate ${TABLES.join(', ')} restart identity cascade`));
        await onPg.outbound.refresh();
      },
    },
  );
});
afterAll(async () => {
  lite?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await handle?.close();
});
beforeEach(async () => {
  for (const b of backends) await b.clear();
});

/** Runs `scenario` on each backend; returns both answers after asserting they are equal. */
async function onBoth<T>(scenario: (b: Backend) => Promise<T>): Promise<T> {
  const [sqlite, postgresql] = [await scenario(backends[0]!), await scenario(backends[1]!)];
  expect(postgresql, 'PostgreSQL answers as SQLite does').toEqual(sqlite);
  return postgresql;
}

/** What a call threw, comparable across backends: a ServiceError's status and message, or that it was something else. */
async function outcome<T>(p: Promise<T>): Promise<T | { status: number; message: string } | { other: string }> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ServiceError) return { status: err.status, message: err.message };
    return { other: String(err) };
  }
}

/**
 * A row without `createdAt`, which is the database's clock at the insert (a different instant on each backend);
 * that it is a recent epoch-ms number is checked instead.
 */
function timeless<R extends { createdAt: number }>(row: R): Omit<R, 'createdAt'> {
  const { createdAt, ...rest } = row;
  expect(typeof createdAt).toBe('number');
  expect(Math.abs(createdAt - Date.now())).toBeLessThan(60_000);
  return rest;
}
const timelessAll = <R extends { createdAt: number }>(rows: R[]) => rows.map(timeless);
const maybeTimeless = <R extends { createdAt: number }>(row: R | undefined) => (row ? timeless(row) : row);

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;

const POOLS: Seed = {
  channels: [
    { id: 1, name: 'ops', discordChannelId: '1001' },
    { id: 2, name: 'db', discordChannelId: '1002' },
    { id: 3, name: 'gone', discordChannelId: '1003', removedAt: T0 },
    { id: 4, name: 'full', discordChannelId: '1004' },
  ],
  webhooks: [
    { id: 1, channelId: 1, discordWebhookId: '2001', token: 't1' },
    { id: 2, channelId: 1, discordWebhookId: '2002', token: 't2', owner: 'app' },
    { id: 3, channelId: 1, discordWebhookId: '2003', token: '', state: 'removed' },
    { id: 4, channelId: 2, discordWebhookId: '2004', token: 't4', state: 'retired' },
    { id: 5, channelId: 2, discordWebhookId: '2005', token: 't5', state: 'quarantined' },
    // Channel 4's pool is full: Discord's 15 (a removed one does not count).
    ...Array.from({ length: 15 }, (_, i) => ({ id: 10 + i, channelId: 4, discordWebhookId: `40${10 + i}`, token: `f${i}` })),
    { id: 30, channelId: 4, discordWebhookId: '4030', token: '', state: 'removed' as const },
  ],
};

const member = (discordWebhookId: string, token: string, extra: Partial<NewMember> = {}): NewMember => ({ discordWebhookId, token, owner: 'external', ...extra });

describe('webhooks', () => {
  it('finds and lists pools (removed ones only when asked, oldest first), 404 for an unknown or removed channel', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      return {
        find: maybeTimeless(await w.find(2)),
        findRemoved: maybeTimeless(await w.find(3)),
        unknown: await w.find(99),
        list: timelessAll(await w.list(1)),
        withRemoved: (await w.list(1, { includeRemoved: true })).map((r) => r.id),
        other: (await w.list(2)).map((r) => r.id),
        removedChannel: await outcome(w.list(3)),
        unknownChannel: await outcome(w.list(99, { includeRemoved: true })),
        allInPools: (await w.allInPools()).map((r) => r.id),
        activeFor: await w.activeFor(1),
        activeOfOther: await w.activeFor(2),
      };
    });
    expect(answers.find).toEqual({
      id: 2, channelId: 1, discordWebhookId: '2002', token: 't2', owner: 'app', state: 'active', breakerState: 'closed',
      breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null, managedBy: null,
    });
    expect(answers.findRemoved).toMatchObject({ id: 3, state: 'removed' });
    expect(answers.unknown).toBeUndefined();
    expect(answers.list.map((r) => r.id)).toEqual([1, 2]);
    expect(answers.withRemoved).toEqual([1, 2, 3]);
    expect(answers.other).toEqual([4, 5]);
    expect(answers.removedChannel).toEqual({ status: 404, message: 'no channel with id 3' });
    expect(answers.unknownChannel).toEqual({ status: 404, message: 'no channel with id 99' });
    expect(answers.allInPools).toEqual([1, 2, 4, 5, ...Array.from({ length: 15 }, (_, i) => 10 + i)]);
    expect(answers.activeFor).toEqual([
      { id: 1, discordWebhookId: '2001', token: 't1', owner: 'external', breaker: { state: 'closed', failures: 0, openedAt: null } },
      { id: 2, discordWebhookId: '2002', token: 't2', owner: 'app', breaker: { state: 'closed', failures: 0, openedAt: null } },
    ]);
    expect(answers.activeOfOther).toEqual([]);
  });

  it('checks a join and the room: a removed row comes back, 409 for one in a pool or a full pool', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      return {
        fresh: await outcome(w.checkJoin(1, '9999')),
        removed: maybeTimeless((await w.checkJoin(2, '2003')) as WebhookRow),
        // Retired and quarantined webhooks are still in their pool.
        inPool: await outcome(w.checkJoin(1, '2004')),
        quarantined: await outcome(w.checkJoin(2, '2005')),
        full: await outcome(w.checkJoin(4, '9999')),
        removedIntoFull: await outcome(w.checkJoin(4, '4030')),
        room: await outcome(w.checkRoom(1)),
        noRoom: await outcome(w.checkRoom(4)),
      };
    });
    expect(answers).toEqual({
      fresh: undefined,
      removed: expect.objectContaining({ id: 3, channelId: 1, state: 'removed' }) as unknown,
      inPool: { status: 409, message: 'Discord webhook 2004 is already in the pool of channel 2 (as webhook 4)' },
      quarantined: { status: 409, message: 'Discord webhook 2005 is already in the pool of channel 2 (as webhook 5)' },
      full: { status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel' },
      removedIntoFull: { status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel' },
      room: undefined,
      noRoom: { status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel (delete retired ones first)' },
    });
  });

  it('joins a pool: a new row, or a removed one brought back fresh into the new pool; 404 and 409 write nothing', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      await w.saveBreaker(3, { state: 'open', failures: 4, openedAt: T0 });
      await w.forget(3, T0 + 1, 'gone');
      const added = timeless(await w.join(2, member('9001', 'n1')));
      const back = timeless(await w.join(2, member('2003', 'n3', { owner: 'app', managedBy: 'file' })));
      return {
        added,
        back,
        unknownChannel: await outcome(w.join(99, member('9002', 'x'))),
        removedChannel: await outcome(w.join(3, member('9002', 'x'))),
        inPool: await outcome(w.join(2, member('2001', 'x'))),
        full: await outcome(w.join(4, member('9002', 'x'))),
        pools: (await w.allInPools()).filter((r) => r.channelId !== 4).map((r) => [r.id, r.channelId, r.token]),
        joinedFull: (await w.allInPools()).some((r) => r.discordWebhookId === '9002'),
      };
    });
    expect(answers.added).toEqual({
      id: 31, channelId: 2, discordWebhookId: '9001', token: 'n1', owner: 'external', state: 'active', breakerState: 'closed',
      breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null, managedBy: null,
    });
    expect(answers.back).toEqual({
      id: 3, channelId: 2, discordWebhookId: '2003', token: 'n3', owner: 'app', state: 'active', breakerState: 'closed',
      breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null, managedBy: 'file',
    });
    expect(answers.unknownChannel).toEqual({ status: 404, message: 'no channel with id 99' });
    expect(answers.removedChannel).toEqual({ status: 404, message: 'no channel with id 3' });
    expect(answers.inPool).toEqual({ status: 409, message: 'Discord webhook 2001 is already in the pool of channel 1 (as webhook 1)' });
    expect(answers.full).toEqual({ status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel' });
    expect(answers.pools).toEqual([[1, 1, 't1'], [2, 1, 't2'], [3, 2, 'n3'], [4, 2, 't4'], [5, 2, 't5'], [31, 2, 'n1']]);
    expect(answers.joinedFull).toBe(false);
  });

  it('adds a webhook the bot created, 409 when the pool is full', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      return {
        created: timeless(await w.addCreated(1, { id: '7001', token: 'bot' })),
        full: await outcome(w.addCreated(4, { id: '7002', token: 'bot' })),
        after: (await w.list(4, { includeRemoved: true })).length,
      };
    });
    expect(answers).toEqual({
      created: {
        id: 31, channelId: 1, discordWebhookId: '7001', token: 'bot', owner: 'app', state: 'active', breakerState: 'closed',
        breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null, managedBy: null,
      },
      full: { status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel (delete retired ones first)' },
      after: 16,
    });
  });

  it('forgets, takes over from the file, saves a breaker, restores, counts breakers of active webhooks', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      await w.forget(1, T0 + 10);
      await w.forget(2, T0 + 20, 'unknown webhook');
      const forgotten = [maybeTimeless(await w.find(1)), maybeTimeless(await w.find(2))];
      await w.setFromFile(4, { token: 'file-token', owner: 'app' });
      await w.saveBreaker(10, { state: 'open', failures: 3, openedAt: T0 + 30 });
      await w.saveBreaker(11, { state: 'half_open', failures: 5, openedAt: T0 + 40 });
      // A quarantined webhook's breaker is not counted (not active).
      await w.saveBreaker(5, { state: 'open', failures: 1, openedAt: T0 });
      const counts = await w.breakerCounts();
      const active = (await w.activeFor(4)).slice(0, 3);
      const restored = [timeless(await w.restore(10)), timeless(await w.restore(2))];
      return {
        forgotten,
        fromFile: maybeTimeless(await w.find(4)),
        counts,
        active,
        restored,
        restoredUnknown: await w.restore(99),
        countsAfter: await w.breakerCounts(),
      };
    });
    expect(answers.forgotten).toEqual([
      expect.objectContaining({ id: 1, state: 'removed', token: '', goneAt: T0 + 10, lastError: null }),
      expect.objectContaining({ id: 2, state: 'removed', token: '', goneAt: T0 + 20, lastError: 'unknown webhook' }),
    ]);
    expect(answers.fromFile).toMatchObject({ id: 4, token: 'file-token', owner: 'app', managedBy: 'file', state: 'retired' });
    expect(answers.counts).toEqual({ closed: 13, open: 1, half_open: 1 });
    expect(answers.active.map((a) => a.breaker)).toEqual([
      { state: 'open', failures: 3, openedAt: T0 + 30 },
      { state: 'half_open', failures: 5, openedAt: T0 + 40 },
      { state: 'closed', failures: 0, openedAt: null },
    ]);
    expect(answers.restored).toEqual([
      expect.objectContaining({ id: 10, state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null }),
      // A removed webhook restored keeps its wiped token: restore is for quarantined ones.
      expect.objectContaining({ id: 2, state: 'active', token: '', goneAt: null, lastError: null }),
    ]);
    expect(answers.restoredUnknown).toBeUndefined();
    expect(answers.countsAfter).toEqual({ closed: 15, open: 0, half_open: 1 });
  });

  it('rotates: the new member joins, the old one retires, an event says so; 409s write nothing', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      const rotated = await w.rotate(1, 1, member('8001', 'r1'), T0 + 1);
      const broughtBack = await w.rotate(2, 1, member('2003', 'r3'), T0 + 2);
      const result = (r: { added: WebhookRow; retired: WebhookRow }) => ({ added: timeless(r.added), retired: timeless(r.retired) });
      return {
        rotated: result(rotated),
        broughtBack: result(broughtBack),
        again: await outcome(w.rotate(1, 1, member('8002', 'x'), T0 + 3)),
        removed: await outcome(w.rotate(30, 4, member('8002', 'x'), T0 + 3)),
        inPool: await outcome(w.rotate(5, 2, member('2004', 'x'), T0 + 3)),
        full: await outcome(w.rotate(10, 4, member('8002', 'x'), T0 + 3)),
        pool: (await w.list(1, { includeRemoved: true })).map((r) => [r.id, r.state]),
        fullPool: (await w.list(4)).filter((r) => r.state !== 'active').length,
        events: await b.store.events.list({ limit: 10 }),
      };
    });
    expect(answers.rotated).toEqual({
      added: { id: 31, channelId: 1, discordWebhookId: '8001', token: 'r1', owner: 'external', state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null, managedBy: null },
      retired: { id: 1, channelId: 1, discordWebhookId: '2001', token: 't1', owner: 'external', state: 'retired', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null, goneAt: null, managedBy: null },
    });
    expect(answers.broughtBack.added).toMatchObject({ id: 3, channelId: 1, token: 'r3', state: 'active' });
    expect(answers.broughtBack.retired).toMatchObject({ id: 2, state: 'retired' });
    expect(answers.again).toEqual({ status: 409, message: 'webhook 1 was rotated meanwhile' });
    expect(answers.removed).toEqual({ status: 409, message: 'webhook 30 was rotated meanwhile' });
    expect(answers.inPool).toEqual({ status: 409, message: 'Discord webhook 2004 is already in the pool of channel 2 (as webhook 4)' });
    expect(answers.full).toEqual({ status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel (delete retired ones first)' });
    expect(answers.pool).toEqual([[1, 'retired'], [2, 'retired'], [3, 'active'], [31, 'active']]);
    expect(answers.fullPool).toBe(0);
    expect(answers.events).toEqual([
      { id: 2, kind: 'webhook_rotated', channel_id: 1, webhook_id: 2, message: 'webhook 2 retired in channel 1; webhook 3 took its place', at: T0 + 2 },
      { id: 1, kind: 'webhook_rotated', channel_id: 1, webhook_id: 1, message: 'webhook 1 retired in channel 1; webhook 31 took its place', at: T0 + 1 },
    ]);
  });

  it('quarantines (a retired webhook stays retired; gone marks it) and records events', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const w = b.store.webhooks;
      await w.quarantine(1, 1, '401 Unauthorized', T0 + 1, true);
      await w.quarantine(2, 1, '403 Forbidden', T0 + 2);
      await w.quarantine(4, 2, '404 Unknown Webhook', T0 + 3, true);
      await w.recordEvent('channel_without_webhook', 'channel 1 has no healthy webhook', T0 + 4, { channelId: 1 });
      await w.recordEvent('note', 'no refs', T0 + 5);
      await w.recordEvent('note', 'a webhook', T0 + 6, { webhookId: 5 });
      const row = async (id: number) => {
        const r = (await w.find(id))!;
        return { state: r.state, lastError: r.lastError, goneAt: r.goneAt };
      };
      return { rows: [await row(1), await row(2), await row(4)], active: (await w.activeFor(1)).length, events: await b.store.events.list({ limit: 10 }) };
    });
    expect(answers.rows).toEqual([
      { state: 'quarantined', lastError: '401 Unauthorized', goneAt: T0 + 1 },
      { state: 'quarantined', lastError: '403 Forbidden', goneAt: null },
      { state: 'retired', lastError: '404 Unknown Webhook', goneAt: T0 + 3 },
    ]);
    expect(answers.active).toBe(0);
    expect(answers.events).toEqual([
      { id: 6, kind: 'note', channel_id: null, webhook_id: 5, message: 'a webhook', at: T0 + 6 },
      { id: 5, kind: 'note', channel_id: null, webhook_id: null, message: 'no refs', at: T0 + 5 },
      { id: 4, kind: 'channel_without_webhook', channel_id: 1, webhook_id: null, message: 'channel 1 has no healthy webhook', at: T0 + 4 },
      { id: 3, kind: 'webhook_quarantined', channel_id: 2, webhook_id: 4, message: 'webhook 4 taken out of the pool: 404 Unknown Webhook', at: T0 + 3 },
      { id: 2, kind: 'webhook_quarantined', channel_id: 1, webhook_id: 2, message: 'webhook 2 taken out of the pool: 403 Forbidden', at: T0 + 2 },
      { id: 1, kind: 'webhook_quarantined', channel_id: 1, webhook_id: 1, message: 'webhook 1 taken out of the pool: 401 Unauthorized', at: T0 + 1 },
    ]);
  });

  it('inside a store transaction: a 409 caught goes on (the join is a savepoint), a throw rolls back the joins and rotations', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(POOLS);
      const committed = await b.store.transaction(async (tx) => {
        const clash = await outcome(tx.webhooks.join(1, member('2001', 'x')));
        const full = await outcome(tx.webhooks.rotate(10, 4, member('8002', 'x'), T0));
        const added = await tx.webhooks.join(1, member('6001', 'j1'));
        return { clash, full, added: added.id };
      });
      const rolledBack = await outcome(
        b.store.transaction(async (tx) => {
          await tx.webhooks.join(2, member('6002', 'j2'));
          await tx.webhooks.rotate(1, 1, member('6003', 'j3'), T0 + 1);
          throw new ServiceError(409, 'conflict', 'changed my mind');
        }),
      );
      return {
        committed,
        rolledBack,
        pool1: (await b.store.webhooks.list(1)).map((r) => [r.id, r.state]),
        pool2: (await b.store.webhooks.list(2)).map((r) => r.id),
        events: await b.store.events.list({ limit: 10 }),
      };
    });
    expect(answers).toEqual({
      committed: {
        clash: { status: 409, message: 'Discord webhook 2001 is already in the pool of channel 1 (as webhook 1)' },
        full: { status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel (delete retired ones first)' },
        added: 31,
      },
      rolledBack: { status: 409, message: 'changed my mind' },
      pool1: [[1, 'active'], [2, 'active'], [31, 'active']],
      pool2: [4, 5],
      events: [],
    });
  });
});

const OUTBOUND: Seed = {
  channels: [{ id: 1, name: 'ops', discordChannelId: '1001' }],
  routes: [
    { id: 1, channelId: 1 },
    { id: 2, channelId: 1 },
    { id: 3, channelId: 1 },
  ],
  alerts: [1, 2, 3].map((id) => ({ id, service: 'api', severity: 'P1' as const, title: `alert ${id}`, receivedAt: T0 })),
};

describe('outbound', () => {
  it('creates, lists, reads and deletes targets, the cache of targets by route following its own writes; 404s', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(OUTBOUND);
      const o = b.store.outbound;
      const empty = [...o.targetsOf([1, 2, 3])];
      const t1 = timeless(await o.createTarget(1, { kind: 'slack', url: 'https://hooks.slack.test/1', secret: null }));
      const t2 = timeless(await o.createTarget(1, { kind: 'webhook', url: 'https://example.test/2', secret: 's2', managedBy: 'file' }));
      const t3 = timeless(await o.createTarget(2, { kind: 'webhook', url: 'https://example.test/3', secret: null }));
      const created = {
        byRoute: [[...o.targetsOf([1])], [...o.targetsOf([2])], [...o.targetsOf([3])], [...o.targetsOf([2, 1, 2])], [...o.targetsOf([])]],
        list: timelessAll(await o.listTargets()),
        target: maybeTimeless(await o.target(2)),
        unknown: await o.target(99),
      };
      const unknownRoute = await outcome(o.createTarget(99, { kind: 'slack', url: 'https://x.test', secret: null }));
      await o.deleteTarget(1);
      const deleted = { byRoute: [...o.targetsOf([1, 2])], list: (await o.listTargets()).map((t) => t.id), again: await outcome(o.deleteTarget(1)) };
      await o.refresh();
      return { empty, t1, t2, t3, created, unknownRoute, deleted, refreshed: [...o.targetsOf([1, 2, 3])] };
    });
    expect(answers.empty).toEqual([]);
    expect(answers.t1).toEqual({ id: 1, routeId: 1, kind: 'slack', url: 'https://hooks.slack.test/1', secret: null, managedBy: null });
    expect(answers.t2).toEqual({ id: 2, routeId: 1, kind: 'webhook', url: 'https://example.test/2', secret: 's2', managedBy: 'file' });
    expect(answers.created).toEqual({ byRoute: [[1, 2], [3], [], [3, 1, 2], []], list: [answers.t1, answers.t2, answers.t3], target: answers.t2, unknown: undefined });
    expect(answers.unknownRoute).toEqual({ status: 404, message: 'no route with id 99' });
    expect(answers.deleted).toEqual({ byRoute: [2, 3], list: [2, 3], again: { status: 404, message: 'no outbound target with id 1' } });
    expect(answers.refreshed).toEqual([2, 3]);
  });

  it('enqueues for a target that exists only (a stale cache fails nothing), and names the targets an alert’s firing went to', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(OUTBOUND);
      const o = b.store.outbound;
      for (const r of [1, 1, 2]) await o.createTarget(r, { kind: 'webhook', url: `https://example.test/${r}`, secret: null });
      await o.enqueue(3, 1, 'alert.firing', T0);
      await o.enqueue(1, 1, 'alert.firing', T0);
      await o.enqueue(1, 1, 'alert.acknowledged', T0 + 1);
      await o.enqueue(2, 1, 'alert.resolved', T0 + 2);
      await o.enqueue(2, 2, 'alert.firing', T0 + 3);
      // A target deleted since the cache was read: nothing queued, no error.
      await o.enqueue(99, 1, 'alert.firing', T0 + 4);
      // The same firing queued twice (a repeat): named once.
      await o.enqueue(3, 1, 'alert.firing', T0 + 5);
      return {
        firing1: await o.firingTargets(1),
        firing2: await o.firingTargets(2),
        firing3: await o.firingTargets(3),
        rows: (await o.listDeliveries({ limit: 10 })).map((d) => [d.id, d.target_id, d.alert_id, d.event, d.state, d.created_at]),
        stored: await b.delivery(1),
      };
    });
    // Each once, in the order first queued.
    expect(answers.firing1).toEqual([3, 1]);
    expect(answers.firing2).toEqual([2]);
    expect(answers.firing3).toEqual([]);
    expect(answers.rows).toEqual([
      [6, 3, 1, 'alert.firing', 'pending', T0 + 5],
      [5, 2, 2, 'alert.firing', 'pending', T0 + 3],
      [4, 2, 1, 'alert.resolved', 'pending', T0 + 2],
      [3, 1, 1, 'alert.acknowledged', 'pending', T0 + 1],
      [2, 1, 1, 'alert.firing', 'pending', T0],
      [1, 3, 1, 'alert.firing', 'pending', T0],
    ]);
    expect(answers.stored).toMatchObject({ availableAt: T0, createdAt: T0, attempts: 0, leaseUntil: null });
  });

  it('claims due rows by id up to the limit (expired leases again, not held ones), records outcomes, lists with filters, replays the dead', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(OUTBOUND);
      const o = b.store.outbound;
      await o.createTarget(1, { kind: 'webhook', url: 'https://example.test/1', secret: null });
      await o.createTarget(2, { kind: 'slack', url: 'https://example.test/2', secret: null });
      for (let i = 0; i < 6; i++) await o.enqueue(1 + (i % 2), 1 + (i % 3), 'alert.firing', T0 + i * 1_000);
      // Rows 1–6 available at T0, T0+1 s, …, T0+5 s.
      const first = await o.claim(T0 + 2_000, T0 + 30_000, 2, []);
      const second = await o.claim(T0 + 2_000, T0 + 30_000, 5, []);
      const none = await o.claim(T0 + 2_500, T0 + 30_000, 5, []);
      // Leases of 1–3 expired at T0+30 s; 1 is held (its outcome waits in the recorder).
      const reclaimed = await o.claim(T0 + 31_000, T0 + 60_000, 10, [1, 77]);
      await o.markSent(2, T0 + 32_000, 204);
      await o.retryAt(3, T0 + 40_000, 503, 'unavailable');
      await o.markDead(4, T0 + 33_000, null, 'timeout');
      await o.markDead(5, T0 + 34_000, 410, 'gone');
      const rows = {
        sent: await b.delivery(2),
        retry: await b.delivery(3),
        dead: await b.delivery(4),
      };
      const list = (f: Parameters<OutboundStore['listDeliveries']>[0]) => o.listDeliveries(f).then((r) => r.map((d) => d.id));
      const lists = {
        all: await o.listDeliveries({ limit: 10 }),
        two: await list({ limit: 2 }),
        dead: await list({ limit: 10, state: 'dead' }),
        alert: await list({ limit: 10, alertId: 1 }),
        target: await list({ limit: 10, targetId: 2 }),
        before: await list({ limit: 10, beforeId: 4 }),
        combined: await list({ limit: 10, state: 'leased', targetId: 1, alertId: 1 }),
      };
      const replays = {
        unknown: await outcome(o.replay(99, T0 + 50_000)),
        notDead: await outcome(o.replay(2, T0 + 50_000)),
        replayed: await outcome(o.replay(4, T0 + 50_000)),
        twice: await outcome(o.replay(4, T0 + 50_000)),
      };
      return { first, second, none, reclaimed, rows, lists, replays, afterReplay: await b.delivery(4), claimReplayed: await o.claim(T0 + 50_000, T0 + 80_000, 10, []) };
    });
    const claimed = (id: number, attempts: number) => ({ id, targetId: 1 + ((id - 1) % 2), alertId: 1 + ((id - 1) % 3), event: 'alert.firing', attempts, createdAt: T0 + (id - 1) * 1_000 });
    expect(answers.first).toEqual([claimed(1, 1), claimed(2, 1)]);
    expect(answers.second).toEqual([claimed(3, 1)]);
    expect(answers.none).toEqual([]);
    expect(answers.reclaimed).toEqual([claimed(2, 2), claimed(3, 2), claimed(4, 1), claimed(5, 1), claimed(6, 1)]);
    expect(answers.rows.sent).toMatchObject({ state: 'sent', sentAt: T0 + 32_000, lastStatus: 204, lastError: null, leaseUntil: null });
    expect(answers.rows.retry).toMatchObject({ state: 'pending', availableAt: T0 + 40_000, lastStatus: 503, lastError: 'unavailable', leaseUntil: null });
    expect(answers.rows.dead).toMatchObject({ state: 'dead', deadAt: T0 + 33_000, lastStatus: null, lastError: 'timeout', leaseUntil: null });
    expect(answers.lists.all[0]).toEqual({
      id: 6, target_id: 2, alert_id: 3, event: 'alert.firing', state: 'leased', attempts: 1, last_status: null, last_error: null,
      created_at: T0 + 5_000, sent_at: null, dead_at: null, replayed_at: null,
    });
    expect(answers.lists.all.find((d) => d.id === 5)).toMatchObject({ state: 'dead', last_status: 410, last_error: 'gone', dead_at: T0 + 34_000 });
    expect(answers.lists).toMatchObject({ two: [6, 5], dead: [5, 4], alert: [4, 1], target: [6, 4, 2], before: [3, 2, 1], combined: [1] });
    expect(answers.replays).toEqual({
      unknown: { status: 404, message: 'no outbound delivery with id 99' },
      notDead: { status: 409, message: 'outbound delivery 2 is sent, not dead; nothing to replay' },
      replayed: undefined,
      twice: { status: 409, message: 'outbound delivery 4 is pending, not dead; nothing to replay' },
    });
    expect(answers.afterReplay).toMatchObject({ state: 'pending', attempts: 0, availableAt: T0 + 50_000, createdAt: T0 + 50_000, leaseUntil: null, replayedAt: T0 + 50_000, deadAt: T0 + 33_000 });
    // Due again: 1 (its lease expired, no longer held), 3 (its retry time passed), 4 (replayed); not 6 (leased till T0+60 s), 5 (dead).
    expect(answers.claimReplayed.map((c) => [c.id, c.attempts])).toEqual([[1, 2], [3, 3], [4, 1]]);
  });

  it('a transaction’s module shares the cache of targets: a target created through tx is seen by the store; deleted targets take their deliveries', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(OUTBOUND);
      const id = await b.store.transaction(async (tx) => {
        const t = await tx.outbound.createTarget(3, { kind: 'slack', url: 'https://example.test/3', secret: null });
        await tx.outbound.enqueue(t.id, 1, 'alert.firing', T0);
        return t.id;
      });
      const seen = [...b.store.outbound.targetsOf([3])];
      const rolledBack = await outcome(
        b.store.transaction(async (tx) => {
          await tx.outbound.deleteTarget(id);
          throw new Error('undo');
        }),
      );
      // The rollback left the cache as the delete made it; the caller re-reads (as `store.refreshCaches()` does).
      const afterRollback = [...b.store.outbound.targetsOf([3])];
      await b.store.outbound.refresh();
      const refreshed = [...b.store.outbound.targetsOf([3])];
      await b.store.outbound.deleteTarget(id);
      return { id, seen, rolledBack, afterRollback, refreshed, deliveries: await b.store.outbound.listDeliveries({ limit: 10 }) };
    });
    expect(answers).toEqual({ id: 1, seen: [1], rolledBack: { other: 'Error: undo' }, afterRollback: [], refreshed: [1], deliveries: [] });
  });

  describe('on PostgreSQL only', () => {
    it('two claims at once, each in its own transaction, lease different rows', async () => {
      const b = backends[1]!;
      await b.seed(OUTBOUND);
      await onPg.outbound.createTarget(1, { kind: 'webhook', url: 'https://example.test/1', secret: null });
      for (let i = 0; i < 6; i++) await onPg.outbound.enqueue(1, 1, 'alert.firing', T0);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      // The first claim's transaction stays open (its rows locked) while the second claims.
      const first = onPg.transaction(async (tx) => {
        const rows = await tx.outbound.claim(T0, T0 + 30_000, 4, []);
        await held;
        return rows;
      });
      await new Promise((r) => setTimeout(r, 200));
      const second = await onPg.transaction((tx) => tx.outbound.claim(T0, T0 + 30_000, 4, []));
      release();
      expect((await first).map((c) => c.id)).toEqual([1, 2, 3, 4]);
      expect(second.map((c) => c.id)).toEqual([5, 6]);
    });

    it('an enqueue while another transaction deletes its target waits for it, then queues nothing and fails nothing', async () => {
      const b = backends[1]!;
      await b.seed(OUTBOUND);
      const t = await onPg.outbound.createTarget(1, { kind: 'webhook', url: 'https://example.test/1', secret: null });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const deleting = onPg.transaction(async (tx) => {
        await tx.outbound.deleteTarget(t.id);
        await held;
      });
      await new Promise((r) => setTimeout(r, 200));
      // The ingest transaction's cache still names the target.
      const ingest = onPg.transaction(async (tx) => {
        await tx.outbound.enqueue(t.id, 1, 'alert.firing', T0);
        await tx.outbound.enqueue(t.id, 2, 'alert.firing', T0);
        return 'committed';
      });
      await new Promise((r) => setTimeout(r, 200));
      release();
      await deleting;
      expect(await ingest).toBe('committed');
      expect(await onPg.outbound.listDeliveries({ limit: 10 })).toEqual([]);
    });

    it('a join and an add at once into a pool with room for one: one joins, the other waits for it and gets the 409', async () => {
      const b = backends[1]!;
      await b.seed({ ...POOLS, webhooks: POOLS.webhooks!.filter((w) => w.id !== 24) });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = onPg.transaction(async (tx) => {
        const row = await tx.webhooks.join(4, member('5001', 'a'));
        await held;
        return row.id;
      });
      await new Promise((r) => setTimeout(r, 200));
      const second = outcome(onPg.transaction((tx) => tx.webhooks.addCreated(4, { id: '5002', token: 'b' })));
      await new Promise((r) => setTimeout(r, 200));
      release();
      expect(await first).toBe(31);
      expect(await second).toEqual({ status: 409, message: 'channel 4 already has 15 webhooks; Discord allows at most 15 per channel (delete retired ones first)' });
    });

    it('one Discord webhook joining two pools at once: the second waits for the first and gets the check’s 409, its caller’s transaction going on', async () => {
      const b = backends[1]!;
      await b.seed(POOLS);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = onPg.transaction(async (tx) => {
        const row = await tx.webhooks.join(1, member('5001', 'a'));
        await held;
        return row.id;
      });
      await new Promise((r) => setTimeout(r, 200));
      const second = onPg.transaction(async (tx) => {
        const clash = await outcome(tx.webhooks.rotate(5, 2, member('5001', 'b'), T0));
        const again = await outcome(tx.webhooks.join(2, member('5001', 'b')));
        return { clash, again, added: (await tx.webhooks.join(2, member('5002', 'c'))).discordWebhookId };
      });
      await new Promise((r) => setTimeout(r, 200));
      release();
      expect(await first).toBe(31);
      const inPool = { status: 409, message: 'Discord webhook 5001 is already in the pool of channel 1 (as webhook 31)' };
      expect(await second).toEqual({ clash: inPool, again: inPool, added: '5002' });
      expect((await onPg.webhooks.list(2)).map((r) => [r.discordWebhookId, r.state])).toEqual([['2004', 'retired'], ['2005', 'quarantined'], ['5002', 'active']]);
    });
  });
});
