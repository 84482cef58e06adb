import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Severity } from '../src/domain/alert.js';
import type { ActionKind, Actor, AlertActionStore } from '../src/store/actions.js';
import { openStore, type Store } from '../src/store/index.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import type { StormStore } from '../src/store/storms.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL ports of actions.ts and storms.ts (src/store/pg/) against a real PostgreSQL
 * database, and the same scenarios against the SQLite modules on a file, as test/pg-store.test.ts does: each
 * scenario runs on both, asserts what it expects of each, and that both answered the same.
 */

/** What both backends offer of these modules (without SQLite's synchronous twins) and the transaction. */
interface Common {
  readonly actions: Pick<AlertActionStore, Exclude<keyof AlertActionStore, 'recordSync'>>;
  readonly storms: Pick<StormStore, keyof StormStore>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

/**
 * Rows of other modules' tables these need, the same on both: on SQLite written through those modules' public
 * methods (which must hand out the ids given here: both backends start every test with fresh ids), on PostgreSQL
 * inserted as those methods leave them.
 */
interface Seed {
  sources?: { id: number; name: string }[];
  channels?: { id: number; name: string }[];
  webhooks?: { id: number; channelId: number }[];
  alerts?: { id: number; sourceId: number | null; service: string; severity: Severity; title: string; receivedAt: number }[];
  /** A delivery queued at `at` and sent at once, as one request, with the message, as a storm's line when `stormId`. */
  deliveries?: { id: number; alertId: number; channelId: number; priority: number; at: number; webhookId: number; messageId: string; stormId: number | null }[];
}

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seed(rows: Seed): Promise<void>;
  clear(): Promise<void>;
}

const AGING_MS = 60_000;
const pg = pgDatabase();
let handle: PgHandle;
let dir: string;
let lite: Store;
let onPg: PgStore;
const backends: Backend[] = [];

/** The id a SQLite module handed out, checked against the seed's. */
function same(what: string, want: number, got: number): void {
  if (got !== want) throw new Error(`seed: SQLite gave ${what} id ${got}, the seed says ${want}`);
}

beforeAll(async () => {
  handle = await openPg(pg.url, { poolSize: 4 });
  onPg = pgStore(handle.db);
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-a-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: AGING_MS });
  const p = pgSchema;
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      seed: async (s) => {
        for (const r of s.sources ?? []) same('source', r.id, await lite.sources.create(r.name, `hash-${r.name}`, null));
        for (const r of s.channels ?? []) same('channel', r.id, await lite.channels.create({ name: r.name, discordChannelId: `${1000 + r.id}`, isDefault: false }));
        for (const r of s.webhooks ?? []) same('webhook', r.id, (await lite.webhooks.join(r.channelId, { discordWebhookId: `${2000 + r.id}`, token: `t${r.id}`, owner: 'external' })).id);
        for (const r of s.alerts ?? []) {
          const input = { service: r.service, severity: r.severity, title: r.title, status: 'firing' as const };
          const id = await lite.alerts.insert({ sourceId: r.sourceId, input, status: 'firing', unrouted: false, receivedAt: r.receivedAt, mutedBy: null, occurrences: 1, resolvedAt: null, resolvedBy: null });
          same('alert', r.id, id);
        }
        for (const r of s.deliveries ?? []) {
          await lite.deliveries.enqueue(r.alertId, r.channelId, r.priority, r.at);
          const claimed = await lite.deliveries.claim(r.channelId, r.at, 1, 3, 60_000);
          same('delivery', r.id, claimed[0]?.id ?? -1);
          const attempt = { deliveryIds: [r.id], webhookId: r.webhookId, at: r.at, status: 200, latencyMs: 5, outcome: 'sent' };
          await lite.deliveries.markSent([r.id], r.webhookId, r.messageId, r.at, attempt, undefined, r.stormId);
        }
      },
      clear: async () => {
        // Every row, and the ids handed out (AUTOINCREMENT keeps them in sqlite_sequence), so the next test starts at 1.
        const tables = ['alert_actions', 'heartbeats', 'storms', 'attempts', 'deliveries', 'alerts', 'webhooks', 'events', 'channels', 'sources', 'sqlite_sequence'];
        for (const t of tables) lite.db.$client.exec(`DELETE FROM ${t}`);
        await lite.refreshCaches();
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      seed: async (s) => {
        const db = handle.db;
        for (const r of s.sources ?? []) await db.insert(p.sources).values({ id: r.id, name: r.name, tokenHash: `hash-${r.name}`, format: null });
        for (const r of s.channels ?? []) await db.insert(p.channels).values({ id: r.id, name: r.name, discordChannelId: `${1000 + r.id}` });
        for (const r of s.webhooks ?? []) await db.insert(p.webhooks).values({ id: r.id, channelId: r.channelId, discordWebhookId: `${2000 + r.id}`, token: `t${r.id}`, owner: 'external' });
        for (const r of s.alerts ?? []) {
          await db.insert(p.alerts).values({ id: r.id, sourceId: r.sourceId, service: r.service, severity: r.severity, title: r.title, status: 'firing', unrouted: false, receivedAt: r.receivedAt, occurrences: 1 });
        }
        for (const r of s.deliveries ?? []) {
          await db.insert(p.deliveries).values({
            id: r.id,
            alertId: r.alertId,
            channelId: r.channelId,
            priority: r.priority,
            sortKey: r.at + r.priority * AGING_MS,
            state: 'sent',
            availableAt: r.at,
            createdAt: r.at,
            attempts: 1,
            webhookId: r.webhookId,
            discordMessageId: r.messageId,
            sentAt: r.at,
            stormId: r.stormId,
          });
          await db.insert(p.attempts).values({ deliveryId: r.id, webhookId: r.webhookId, at: r.at, status: 200, latencyMs: 5, outcome: 'sent' });
        }
      },
      clear: async () => {
        await handle.db.execute(sql`TRUNCATE alert_actions, heartbeats, storms, attempts, deliveries, alerts, webhooks, events, channels, sources RESTART IDENTITY CASCADE`);
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

/** What a promise settled with: its value, or the thrown error's status and message (a ServiceError's), or 'refused'. */
async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { status: number; message: string } | 'refused'> {
  try {
    return { ok: await p };
  } catch (err) {
    if (err instanceof Error && 'status' in err && typeof err.status === 'number') return { status: err.status, message: err.message };
    return 'refused';
  }
}

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;

const SOURCES: Seed = {
  sources: [
    { id: 1, name: 'zeta' },
    { id: 2, name: 'alpha' },
  ],
};
const CHANNELS: Seed = {
  channels: [
    { id: 1, name: 'ops' },
    { id: 2, name: 'db' },
  ],
  webhooks: [
    { id: 1, channelId: 1 },
    { id: 2, channelId: 2 },
  ],
};
const alert = (id: number, service: string, severity: Severity, receivedAt: number) => ({ id, sourceId: 1, service, severity, title: `Alert ${id}`, receivedAt });

describe('actions', () => {
  const ALERTS: Seed = { ...SOURCES, alerts: [alert(1, 'api', 'P1', T0), alert(2, 'db', 'P2', T0 + 1)] };
  const alice: Actor = { kind: 'discord', userId: '555', name: 'alice' };
  const admin: Actor = { kind: 'admin', name: 'admin' };
  const system: Actor = { kind: 'system', name: 'herald' };

  it('records an alert’s history and reads it oldest first, only that alert’s, with numbers for ids and times', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(ALERTS);
      const { actions } = b.store;
      const steps: [number, ActionKind, Actor, string | null, number][] = [
        [1, 'ack', alice, null, T0 + 10],
        [2, 'mute', admin, 'maintenance', T0 + 11],
        [1, 'resolve', system, 'auto-resolved', T0 + 12],
        [1, 'reopen', system, null, T0 + 13],
        [2, 'unmute', alice, null, T0 + 14],
        [1, 'retract', admin, 'sent by mistake', T0 + 15],
      ];
      for (const s of steps) await actions.record(...s);
      return { one: await actions.forAlert(1), two: await actions.forAlert(2), none: await actions.forAlert(99) };
    });
    expect(answers.one).toEqual([
      { id: 1, kind: 'ack', actorKind: 'discord', actorName: 'alice', reason: null, at: T0 + 10 },
      { id: 3, kind: 'resolve', actorKind: 'system', actorName: 'herald', reason: 'auto-resolved', at: T0 + 12 },
      { id: 4, kind: 'reopen', actorKind: 'system', actorName: 'herald', reason: null, at: T0 + 13 },
      { id: 6, kind: 'retract', actorKind: 'admin', actorName: 'admin', reason: 'sent by mistake', at: T0 + 15 },
    ]);
    expect(answers.two.map((a) => [a.id, a.kind])).toEqual([
      [2, 'mute'],
      [5, 'unmute'],
    ]);
    expect(answers.none).toEqual([]);
  });

  it('refuses an action on an alert that does not exist (foreign key), and rolls back with the transaction it is in', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(ALERTS);
      const missing = await outcome(b.store.actions.record(99, 'ack', alice, null, T0));
      const failure = new Error('no');
      const thrown = await b.store
        .transaction(async (tx) => {
          await tx.actions.record(1, 'ack', alice, null, T0 + 1);
          throw failure;
        })
        .catch((err: unknown) => err);
      await b.store.transaction(async (tx) => tx.actions.record(2, 'mute', admin, null, T0 + 2));
      return { missing, same: thrown === failure, one: await b.store.actions.forAlert(1), two: (await b.store.actions.forAlert(2)).map((a) => a.kind) };
    });
    expect(answers).toEqual({ missing: 'refused', same: true, one: [], two: ['mute'] });
  });
});

describe('storms', () => {
  it('opens, finds the current one per channel, remembers the summary card, ends', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(CHANNELS);
      const { storms } = b.store;
      const before = { current: await storms.current(1), get: await storms.get(1) };
      const opened = await storms.open(1, T0);
      const other = await storms.open(2, T0 + 1);
      const current = { one: await storms.current(1), two: await storms.current(2) };
      await storms.setSummary(opened.id, 1, '3001');
      const summarised = await storms.get(opened.id);
      await storms.end(opened.id, T0 + 60_000);
      const ended = { current: await storms.current(1), get: await storms.get(opened.id), other: await storms.current(2) };
      // Two going on in one channel (never the lane's doing): the newest is the current one.
      const next = await storms.open(1, T0 + 120_000);
      const newest = await storms.open(1, T0 + 120_001);
      return { before, opened, other, current, summarised, ended, next: next.id, newest: (await storms.current(1))?.id, newestId: newest.id, unknown: await storms.get(99) };
    });
    expect(answers.before).toEqual({ current: null, get: null });
    expect(answers.opened).toEqual({ id: 1, channelId: 1, startedAt: T0, endedAt: null, webhookId: null, summaryMessageId: null });
    expect(answers.other).toMatchObject({ id: 2, channelId: 2 });
    expect(answers.current).toEqual({ one: answers.opened, two: answers.other });
    expect(answers.summarised).toEqual({ ...answers.opened, webhookId: 1, summaryMessageId: '3001' });
    expect(answers.ended).toEqual({ current: null, get: { ...answers.opened, webhookId: 1, summaryMessageId: '3001', endedAt: T0 + 60_000 }, other: answers.other });
    expect([answers.next, answers.newest, answers.newestId]).toEqual([3, 4, 4]);
    expect(answers.unknown).toBeNull();
  });

  it('tallies a storm’s lines by severity and service, with the first and last arrival and the messages posted', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...SOURCES, ...CHANNELS });
      const { storms } = b.store;
      const storm = await storms.open(1, T0);
      const otherStorm = await storms.open(2, T0);
      const empty = await storms.open(1, T0 + 1);
      await b.seed({
        alerts: [
          alert(1, 'api', 'P2', T0 + 5_000),
          alert(2, 'api', 'P3', T0 + 1_000),
          alert(3, 'db', 'P2', T0 + 9_000),
          alert(4, 'web', 'P3', T0 + 2_000),
          alert(5, 'db', 'P3', T0 + 3_000),
          // Lines of another storm, and a card of no storm: not counted.
          alert(6, 'api', 'P2', T0 + 100),
          alert(7, 'cache', 'P1', T0 + 50_000),
        ],
        deliveries: [
          // Three lines in one compact message, two in another; alert 1 has a line in both.
          { id: 1, alertId: 1, channelId: 1, priority: 2, at: T0 + 10_000, webhookId: 1, messageId: '4001', stormId: storm.id },
          { id: 2, alertId: 2, channelId: 1, priority: 3, at: T0 + 10_000, webhookId: 1, messageId: '4001', stormId: storm.id },
          { id: 3, alertId: 3, channelId: 1, priority: 2, at: T0 + 10_000, webhookId: 1, messageId: '4001', stormId: storm.id },
          { id: 4, alertId: 4, channelId: 1, priority: 3, at: T0 + 20_000, webhookId: 1, messageId: '4002', stormId: storm.id },
          { id: 5, alertId: 1, channelId: 1, priority: 2, at: T0 + 20_000, webhookId: 1, messageId: '4002', stormId: storm.id },
          { id: 6, alertId: 5, channelId: 1, priority: 3, at: T0 + 20_000, webhookId: 1, messageId: '4002', stormId: storm.id },
          { id: 7, alertId: 6, channelId: 2, priority: 2, at: T0 + 30_000, webhookId: 2, messageId: '4003', stormId: otherStorm.id },
          { id: 8, alertId: 7, channelId: 1, priority: 1, at: T0 + 40_000, webhookId: 1, messageId: '4004', stormId: null },
        ],
      });
      return { tally: await storms.tally(storm.id), other: await storms.tally(otherStorm.id), empty: await storms.tally(empty.id), unknown: await storms.tally(99) };
    });
    expect(answers.tally).toEqual({
      total: 6,
      bySeverity: { P2: 3, P3: 3 },
      // Most lines first, then by name.
      byService: [
        { service: 'api', count: 3 },
        { service: 'db', count: 2 },
        { service: 'web', count: 1 },
      ],
      firstArrivalAt: T0 + 1_000,
      lastArrivalAt: T0 + 9_000,
      messages: 2,
    });
    expect(answers.other).toEqual({ total: 1, bySeverity: { P2: 1 }, byService: [{ service: 'api', count: 1 }], firstArrivalAt: T0 + 100, lastArrivalAt: T0 + 100, messages: 1 });
    const none = { total: 0, bySeverity: {}, byService: [], firstArrivalAt: null, lastArrivalAt: null, messages: 0 };
    expect(answers.empty).toEqual(none);
    expect(answers.unknown).toEqual(none);
  });
});
