import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Severity } from '../src/domain/alert.js';
import type { ActionKind, Actor, AlertActionStore } from '../src/store/actions.js';
import type { HeartbeatStore, NewHeartbeat } from '../src/store/heartbeats.js';
import { openStore, type Store } from '../src/store/index.js';
import { isPgUniqueViolation } from '../src/store/pg/errors.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import type { StormStore } from '../src/store/storms.js';
import { pgDatabase } from './support/postgres.js';
import { waitFor } from './support/stack.js';

/**
 * The PostgreSQL ports of actions.ts, storms.ts and heartbeats.ts (src/store/pg/) against a real PostgreSQL
 * database, and the same scenarios against the SQLite modules on a file, as test/pg-store.test.ts does: each
 * scenario runs on both, asserts what it expects of each, and that both answered the same.
 */

/** What both backends offer of these modules (without SQLite's synchronous twins) and the transaction. */
interface Common {
  readonly actions: Pick<AlertActionStore, Exclude<keyof AlertActionStore, 'recordSync'>>;
  readonly storms: Pick<StormStore, keyof StormStore>;
  readonly heartbeats: Pick<HeartbeatStore, Exclude<keyof HeartbeatStore, 'findSync'>>;
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

describe('heartbeats', () => {
  const MINUTE = 60_000;
  const decl = (over: Partial<NewHeartbeat> = {}): NewHeartbeat => ({
    sourceId: 1,
    name: 'nightly',
    intervalMs: 10 * MINUTE,
    graceMs: MINUTE,
    severity: 'P2',
    service: 'backup',
    environment: null,
    labels: null,
    now: T0,
    ...over,
  });
  const SEED: Seed = { ...SOURCES, alerts: [alert(1, 'backup', 'P2', T0), alert(2, 'backup', 'P2', T0)] };

  it('declares, finds, gets and lists (by source name, then name); 404 for an unknown source, 409 for a name taken in the source', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const { heartbeats } = b.store;
      // Labels in the sender's order (not sorted), as cards show them.
      const nightly = await heartbeats.create(decl({ environment: 'prod', labels: { zone: 'b', app: 'x' } }));
      const hourly = await heartbeats.create(decl({ name: 'hourly', intervalMs: 60 * MINUTE, severity: 'P1', managedBy: 'file', now: T0 + 5 }));
      const elsewhere = await heartbeats.create(decl({ sourceId: 2, now: T0 + 7 }));
      // Byte order, as SQLite's BINARY: capitals before small letters.
      await heartbeats.create(decl({ name: 'Weekly', now: T0 + 9 }));
      return {
        nightly,
        hourly,
        elsewhere,
        labelOrder: Object.keys((await heartbeats.get(nightly.id)).labels ?? {}),
        taken: await outcome(heartbeats.create(decl({ intervalMs: MINUTE }))),
        noSource: await outcome(heartbeats.create(decl({ sourceId: 99, name: 'x' }))),
        find: await heartbeats.find(1, 'hourly'),
        findOther: await heartbeats.find(2, 'nightly'),
        findNone: [await heartbeats.find(1, 'weekly'), await heartbeats.find(99, 'nightly')],
        get: await heartbeats.get(elsewhere.id),
        getNone: await outcome(heartbeats.get(99)),
        all: (await heartbeats.list()).map((h) => [h.sourceName, h.name, h.id]),
        ofOne: await heartbeats.list(1),
        ofNone: await heartbeats.list(99),
      };
    });
    expect(answers.nightly).toEqual({
      id: 1,
      sourceId: 1,
      name: 'nightly',
      intervalMs: 10 * MINUTE,
      graceMs: MINUTE,
      severity: 'P2',
      service: 'backup',
      environment: 'prod',
      labels: { zone: 'b', app: 'x' },
      lastBeatAt: null,
      dueAt: T0 + 11 * MINUTE,
      state: 'ok',
      alertId: null,
      missedAt: null,
      managedBy: null,
      createdAt: T0,
    });
    expect(answers.hourly).toMatchObject({ id: 2, name: 'hourly', severity: 'P1', managedBy: 'file', dueAt: T0 + 5 + 61 * MINUTE, createdAt: T0 + 5 });
    expect(answers.elsewhere).toMatchObject({ id: 3, sourceId: 2, name: 'nightly' });
    expect(answers.labelOrder).toEqual(['zone', 'app']);
    expect(answers.taken).toEqual({ status: 409, message: 'the source already has a heartbeat named "nightly"' });
    expect(answers.noSource).toEqual({ status: 404, message: 'no source with id 99' });
    expect(answers.find).toEqual(answers.hourly);
    expect(answers.findOther).toEqual(answers.elsewhere);
    expect(answers.findNone).toEqual([undefined, undefined]);
    expect(answers.get).toEqual(answers.elsewhere);
    expect(answers.getNone).toEqual({ status: 404, message: 'no heartbeat with id 99' });
    // Source "alpha" (2) before "zeta" (1); by name within a source.
    expect(answers.all).toEqual([
      ['alpha', 'nightly', 3],
      ['zeta', 'Weekly', 4],
      ['zeta', 'hourly', 2],
      ['zeta', 'nightly', 1],
    ]);
    expect(answers.ofOne.map((h) => h.name)).toEqual(['Weekly', 'hourly', 'nightly']);
    expect(answers.ofOne.slice(1)).toEqual([
      { ...answers.hourly, sourceName: 'zeta' },
      { ...answers.nightly, sourceName: 'zeta' },
    ]);
    expect(answers.ofNone).toEqual([]);
  });

  it('a beat moves the due time forward only, keeps a miss’s alert to resolve, and 404s an unknown heartbeat', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const { heartbeats } = b.store;
      const h = await heartbeats.create(decl());
      const first = await heartbeats.beat(h.id, T0 + 5 * MINUTE);
      // An older beat (delayed in transit): nothing moves back.
      const older = await heartbeats.beat(h.id, T0 + 2 * MINUTE);
      const missed = await heartbeats.markMissed(h.id, first.dueAt, 1, first.dueAt + 1);
      const whileMissed = await heartbeats.get(h.id);
      const after = await heartbeats.beat(h.id, T0 + 30 * MINUTE);
      return { first, older, missed, whileMissed, after, unknown: await outcome(heartbeats.beat(99, T0)) };
    });
    expect(answers.first).toMatchObject({ lastBeatAt: T0 + 5 * MINUTE, dueAt: T0 + 16 * MINUTE, state: 'ok' });
    expect(answers.older).toEqual(answers.first);
    expect(answers.missed).toBe(true);
    expect(answers.whileMissed).toMatchObject({ state: 'missed', alertId: 1, missedAt: T0 + 16 * MINUTE + 1, dueAt: T0 + 16 * MINUTE });
    expect(answers.after).toMatchObject({ state: 'ok', alertId: 1, missedAt: T0 + 16 * MINUTE + 1, lastBeatAt: T0 + 30 * MINUTE, dueAt: T0 + 41 * MINUTE });
    expect(answers.unknown).toEqual({ status: 404, message: 'no heartbeat with id 99' });
  });

  it('marks a miss only while due as judged, then the runner finds the resolve to finish until it is resolved', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const { heartbeats } = b.store;
      const h = await heartbeats.create(decl());
      const stale = await heartbeats.markMissed(h.id, h.dueAt - 1, 1, T0 + 20 * MINUTE);
      const missed = await heartbeats.markMissed(h.id, h.dueAt, 1, T0 + 20 * MINUTE);
      const again = await heartbeats.markMissed(h.id, h.dueAt, 2, T0 + 21 * MINUTE);
      const unknown = await heartbeats.markMissed(99, h.dueAt, 1, T0);
      const noAlert = await outcome(heartbeats.markMissed((await heartbeats.create(decl({ name: 'other' }))).id, h.dueAt, 99, T0));
      const whileMissed = await heartbeats.unfinishedResolves();
      await heartbeats.resolved(h.id, 1);
      const stillMissed = await heartbeats.get(h.id);
      await heartbeats.beat(h.id, T0 + 25 * MINUTE);
      const unfinished = await heartbeats.unfinishedResolves();
      await heartbeats.resolved(h.id, 2);
      const otherAlert = await heartbeats.unfinishedResolves();
      await heartbeats.resolved(h.id, 1);
      return { stale, missed, again, unknown, noAlert, whileMissed, stillMissed, unfinished: unfinished.map((r) => r.id), otherAlert: otherAlert.map((r) => r.id), done: await heartbeats.unfinishedResolves(), row: await heartbeats.get(h.id) };
    });
    expect(answers).toMatchObject({ stale: false, missed: true, again: false, unknown: false, noAlert: 'refused', whileMissed: [], unfinished: [1], otherAlert: [1], done: [] });
    expect(answers.stillMissed).toMatchObject({ state: 'missed', alertId: 1 });
    expect(answers.row).toMatchObject({ state: 'ok', alertId: null, missedAt: T0 + 20 * MINUTE });
  });

  it('lists what is due, oldest first up to the limit, and the next due time, for heartbeats waiting for a beat only', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const { heartbeats } = b.store;
      const none = { due: await heartbeats.due(T0 + 1_000 * MINUTE), next: await heartbeats.nextDueAt() };
      const late = await heartbeats.create(decl({ name: 'late', intervalMs: 20 * MINUTE, graceMs: 0 }));
      const soon = await heartbeats.create(decl({ name: 'soon', intervalMs: 5 * MINUTE, graceMs: 0 }));
      const mid = await heartbeats.create(decl({ name: 'mid', intervalMs: 10 * MINUTE, graceMs: 0 }));
      const ids = async (now: number, limit?: number) => (await heartbeats.due(now, limit)).map((h) => h.id);
      const before = { at4: await ids(T0 + 4 * MINUTE), at10: await ids(T0 + 10 * MINUTE), at30: await ids(T0 + 30 * MINUTE), limited: await ids(T0 + 30 * MINUTE, 2), next: await heartbeats.nextDueAt() };
      // A missed one waits for a beat no more: neither due nor next.
      await heartbeats.markMissed(soon.id, soon.dueAt, 1, soon.dueAt);
      const after = { at30: await ids(T0 + 30 * MINUTE), next: await heartbeats.nextDueAt(), rows: await heartbeats.due(T0 + 10 * MINUTE) };
      return { none, ids: [late.id, soon.id, mid.id], before, after };
    });
    expect(answers.none).toEqual({ due: [], next: null });
    expect(answers.ids).toEqual([1, 2, 3]);
    expect(answers.before).toEqual({ at4: [], at10: [2, 3], at30: [2, 3, 1], limited: [2, 3], next: T0 + 5 * MINUTE });
    expect(answers.after).toMatchObject({ at30: [3, 1], next: T0 + 10 * MINUTE });
    expect(answers.after.rows).toEqual([expect.objectContaining({ id: 3, name: 'mid', dueAt: T0 + 10 * MINUTE, state: 'ok' })]);
  });

  it('sets a heartbeat from the configuration file: a waiting one is due again from its last beat or declaration, a missed one keeps its due time', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const { heartbeats } = b.store;
      const declared = await heartbeats.create(decl({ name: 'declared' }));
      const beaten = await heartbeats.create(decl({ name: 'beaten' }));
      await heartbeats.beat(beaten.id, T0 + 3 * MINUTE);
      const missed = await heartbeats.create(decl({ name: 'missed' }));
      await heartbeats.markMissed(missed.id, missed.dueAt, 1, missed.dueAt);
      const settings = { intervalMs: 30 * MINUTE, graceMs: 2 * MINUTE, severity: 'P0' as const, service: 'jobs', environment: 'staging', labels: { team: 'core', a: '1' } };
      for (const h of [declared, beaten, missed]) await heartbeats.setFromFile(h.id, settings);
      await heartbeats.setFromFile(99, settings);
      return { declared: await heartbeats.get(declared.id), beaten: await heartbeats.get(beaten.id), missed: await heartbeats.get(missed.id), count: (await heartbeats.list()).length };
    });
    const settings = { intervalMs: 30 * MINUTE, graceMs: 2 * MINUTE, severity: 'P0', service: 'jobs', environment: 'staging', labels: { team: 'core', a: '1' }, managedBy: 'file' };
    expect(answers.declared).toMatchObject({ ...settings, state: 'ok', dueAt: T0 + 32 * MINUTE });
    expect(answers.beaten).toMatchObject({ ...settings, state: 'ok', lastBeatAt: T0 + 3 * MINUTE, dueAt: T0 + 35 * MINUTE });
    expect(answers.missed).toMatchObject({ ...settings, state: 'missed', alertId: 1, dueAt: T0 + 11 * MINUTE });
    expect(Object.keys(answers.declared.labels ?? {})).toEqual(['team', 'a']);
    expect(answers.count).toBe(3);
  });

  it('deletes a heartbeat (its alert stays); 404 for one that does not exist', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const { heartbeats } = b.store;
      const h = await heartbeats.create(decl());
      await heartbeats.markMissed(h.id, h.dueAt, 1, h.dueAt);
      const deleted = await outcome(heartbeats.delete(h.id));
      return { deleted, get: await outcome(heartbeats.get(h.id)), again: await outcome(heartbeats.delete(h.id)), list: await heartbeats.list(), find: await heartbeats.find(1, 'nightly') };
    });
    expect(answers).toEqual({
      deleted: { ok: undefined },
      get: { status: 404, message: 'no heartbeat with id 1' },
      again: { status: 404, message: 'no heartbeat with id 1' },
      list: [],
      find: undefined,
    });
  });

  it('inside a transaction: a 409 or 404 undoes only that declaration, the transaction goes on; a throw undoes every one', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SEED);
      const committed = await b.store.transaction(async (tx) => {
        await tx.heartbeats.create(decl({ name: 'a' }));
        const taken = await outcome(tx.heartbeats.create(decl({ name: 'a' })));
        const noSource = await outcome(tx.heartbeats.create(decl({ sourceId: 99, name: 'b' })));
        await tx.heartbeats.create(decl({ name: 'c' }));
        return { taken, noSource, seen: (await tx.heartbeats.list()).map((h) => h.name) };
      });
      const failure = new Error('no');
      const thrown = await b.store
        .transaction(async (tx) => {
          await tx.heartbeats.create(decl({ name: 'd' }));
          throw failure;
        })
        .catch((err: unknown) => err);
      return { committed, same: thrown === failure, stored: (await b.store.heartbeats.list()).map((h) => h.name) };
    });
    expect(answers).toEqual({
      committed: {
        taken: { status: 409, message: 'the source already has a heartbeat named "a"' },
        noSource: { status: 404, message: 'no source with id 99' },
        seen: ['a', 'c'],
      },
      same: true,
      stored: ['a', 'c'],
    });
  });

  describe('on PostgreSQL only', () => {
    it('two declarations of one name racing: the one that loses at the unique index gets the 409 (SQLSTATE 23505)', async () => {
      await backends[1]!.seed(SEED);
      let second: Promise<unknown> | undefined;
      await onPg.transaction(async (tx) => {
        await tx.heartbeats.create(decl());
        // On another connection: it sees no "nightly" yet (not committed), so it inserts and waits on the index.
        second = outcome(onPg.heartbeats.create(decl({ now: T0 + 1 })));
        await waitFor('the second declaration to wait on the first’s lock', async () => {
          const waiting = await handle.db.execute(sql`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
          return waiting.rows.length === 1;
        });
      });
      expect(await second).toEqual({ status: 409, message: 'the source already has a heartbeat named "nightly"' });
      expect((await onPg.heartbeats.list()).map((h) => [h.name, h.createdAt])).toEqual([['nightly', T0]]);
    });

    it('lists names byte by byte, as SQLite does, even where the database’s collation sorts them otherwise', async () => {
      await backends[1]!.seed(SEED);
      for (const name of ['b', 'B', 'a', 'A']) await onPg.heartbeats.create(decl({ name }));
      // A linguistic collation (ICU's root locale): a before A before b before B.
      await handle.db.execute(sql`ALTER TABLE heartbeats ALTER COLUMN name TYPE text COLLATE "und-x-icu"`);
      try {
        const byColumn = await handle.db.execute<{ name: string }>(sql`SELECT name FROM heartbeats ORDER BY name`);
        expect(byColumn.rows.map((r) => r.name)).toEqual(['a', 'A', 'b', 'B']);
        expect((await onPg.heartbeats.list()).map((h) => h.name)).toEqual(['A', 'B', 'a', 'b']);
      } finally {
        await handle.db.execute(sql`ALTER TABLE heartbeats ALTER COLUMN name TYPE text COLLATE "default"`);
      }
    });

    it('isPgUniqueViolation reads SQLSTATE 23505 on drizzle’s error’s cause, or on the driver’s error', async () => {
      await handle.db.insert(pgSchema.sources).values({ id: 1, name: 'one', tokenHash: 'h' });
      const clash = await handle.db
        .insert(pgSchema.sources)
        .values({ id: 2, name: 'one', tokenHash: 'h2' })
        .catch((err: unknown) => err);
      expect(clash).toMatchObject({ cause: { code: '23505' } });
      expect(isPgUniqueViolation(clash)).toBe(true);
      expect(isPgUniqueViolation((clash as { cause: unknown }).cause)).toBe(true);
      const notNull = await handle.db
        .insert(pgSchema.sources)
        .values({ id: 3, name: sql`null`, tokenHash: 'h3' })
        .catch((err: unknown) => err);
      expect(notNull).toMatchObject({ cause: { code: '23502' } });
      expect([isPgUniqueViolation(notNull), isPgUniqueViolation(new Error('x')), isPgUniqueViolation(null), isPgUniqueViolation('23505')]).toEqual([false, false, false, false]);
    });
  });
});
