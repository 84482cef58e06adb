import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../src/domain/alert.js';
import type { AlertStore, NewAlert } from '../src/store/alerts.js';
import { openStore, type Store } from '../src/store/index.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL alerts module (src/store/pg/alerts.ts) against a real PostgreSQL database, and the same scenarios
 * against SQLite's AlertStore on a file, as test/pg-store.test.ts does for the first modules: each scenario runs on
 * both, asserts what it expects of each, and that both answered the same.
 */

interface Common {
  readonly alerts: Pick<AlertStore, keyof AlertStore>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

/** Rows of tables other modules write (not ported here), the same on both. */
interface Seed {
  sources?: { id: number; name: string; tokenHash: string; autoResolveAfterMs?: number | null }[];
  channels?: { id: number; name: string; discordChannelId: string }[];
  deliveries?: { id: number; alertId: number; channelId: number; priority: number; sortKey: number; availableAt: number; createdAt: number; state?: 'pending' | 'sent' | 'dead'; discordMessageId?: string | null; sentAt?: number | null; lastError?: string | null }[];
  actions?: { alertId: number; kind: 'resolve' | 'ack'; actorKind: 'discord' | 'admin' | 'system'; actorName: string; at: number }[];
  mutes?: { id: number; alertId: number | null; createdBy: string; createdAt: number; expiresAt: number; endedAt?: number | null }[];
}

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seed(rows: Seed): Promise<void>;
  clear(): Promise<void>;
}

const pg = pgDatabase();
let handle: PgHandle;
let dir: string;
let lite: Store;
let onPg: PgStore;
const backends: Backend[] = [];

beforeAll(async () => {
  handle = await openPg(pg.url, { poolSize: 4 });
  onPg = pgStore(handle.db);
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-d-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  const l = liteSchema;
  const p = pgSchema;
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      seed: async (s) => {
        if (s.sources) lite.db.insert(l.sources).values(s.sources).run();
        if (s.channels) lite.db.insert(l.channels).values(s.channels).run();
        if (s.deliveries) lite.db.insert(l.deliveries).values(s.deliveries).run();
        if (s.actions) lite.db.insert(l.alertActions).values(s.actions).run();
        if (s.mutes) lite.db.insert(l.mutes).values(s.mutes).run();
      },
      clear: async () => {
        for (const t of [l.alertActions, l.deliveries, l.mutes, l.alerts, l.channels, l.sources]) lite.db.delete(t).run();
        // Ids from 1 again, as PostgreSQL's RESTART IDENTITY does.
        lite.db.run(sql`delete from sqlite_sequence`);
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      seed: async (s) => {
        if (s.sources) await handle.db.insert(p.sources).values(s.sources);
        if (s.channels) await handle.db.insert(p.channels).values(s.channels);
        if (s.deliveries) await handle.db.insert(p.deliveries).values(s.deliveries);
        if (s.actions) await handle.db.insert(p.alertActions).values(s.actions);
        if (s.mutes) await handle.db.insert(p.mutes).values(s.mutes);
      },
      clear: async () => {
        await handle.db.execute(sql`truncate alert_actions, deliveries, mutes, alerts, channels, sources restart identity cascade`);
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

/** What a call threw (its status and code, for a ServiceError), or 'ok'. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => {
      const e = err as { status?: number; code?: string; message?: string };
      return { status: e.status, code: e.code, message: e.message };
    },
  );

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;

const input = (over: Partial<AlertInput> = {}): AlertInput => ({ service: 'api', severity: 'P2', title: 'down', status: 'firing', ...over });
const alert = (over: Partial<NewAlert> & { input?: AlertInput } = {}): NewAlert => ({
  sourceId: 1,
  input: input(),
  status: 'firing',
  unrouted: false,
  receivedAt: T0,
  mutedBy: null,
  occurrences: 1,
  resolvedAt: null,
  resolvedBy: null,
  ...over,
});

const SOURCES: Seed = {
  sources: [
    { id: 1, name: 'one', tokenHash: 'h1', autoResolveAfterMs: 3_600_000 },
    { id: 2, name: 'two', tokenHash: 'h2', autoResolveAfterMs: null },
  ],
};

describe('alerts: ingest', () => {
  it('inserts an alert and reads it back whole (JSON with the sender’s key order, booleans, big times), with 404s for none', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      const id = await alerts.insert(
        alert({
          input: input({
            description: 'it is down',
            dedup_key: 'k',
            environment: 'prod',
            labels: { zone: 'b', app: 'x' },
            fields: [{ name: 'n', value: 'v' }],
            links: [{ title: 'runbook', url: 'https://example.com/r' }],
            firing_started_at: T0 - 5_000,
          }),
          unrouted: true,
          mutedBy: 7,
          occurrences: 3,
          incidentId: 42,
        }),
      );
      const bare = await alerts.insert(alert({ sourceId: null, status: 'resolved', resolvedAt: T0 + 1, resolvedBy: 'api', occurrences: 0 }));
      return {
        ids: [id, bare],
        row: await alerts.row(id),
        found: await alerts.find(bare),
        labelKeys: Object.keys((await alerts.row(id)).labels!),
        missingRow: await outcome(alerts.row(99)),
        missingFind: await alerts.find(99),
        exists: [await alerts.exists(id), await alerts.exists(99)],
        renderable: await alerts.renderable(id),
        missingRenderable: await outcome(alerts.renderable(99)),
      };
    });
    expect(answers.ids).toEqual([1, 2]);
    expect(answers.row).toEqual({
      id: 1,
      sourceId: 1,
      service: 'api',
      severity: 'P2',
      title: 'down',
      description: 'it is down',
      status: 'firing',
      dedupKey: 'k',
      environment: 'prod',
      labels: { zone: 'b', app: 'x' },
      fields: [{ name: 'n', value: 'v' }],
      links: [{ title: 'runbook', url: 'https://example.com/r' }],
      unrouted: true,
      receivedAt: T0,
      acknowledgedBy: null,
      acknowledgedByUser: null,
      acknowledgedAt: null,
      resolvedBy: null,
      resolvedByUser: null,
      resolvedAt: null,
      retractedAt: null,
      retractMode: null,
      retractReason: null,
      mutedByMuteId: 7,
      changedAt: null,
      occurrences: 3,
      lastSeenAt: null,
      reopenedAt: null,
      firingStartedAt: T0 - 5_000,
      incidentId: 42,
    });
    expect(answers.labelKeys).toEqual(['zone', 'app']);
    expect(answers.found).toMatchObject({ id: 2, sourceId: null, status: 'resolved', resolvedAt: T0 + 1, resolvedBy: 'api', occurrences: 0, labels: null, unrouted: false, incidentId: null });
    expect(answers.missingRow).toEqual({ status: 404, code: 'not_found', message: 'no alert with id 99' });
    expect(answers.missingFind).toBeUndefined();
    expect(answers.exists).toEqual([true, false]);
    expect(answers.renderable).toMatchObject({ id: 1, dedupKey: 'k', labels: { zone: 'b', app: 'x' }, firingStartedAt: T0 - 5_000, incidentId: 42, changedAt: null, mutedUntil: null });
    expect(answers.missingRenderable).toEqual({ status: 404, code: 'not_found', message: 'no alert with id 99' });
  });

  it('latest: the newest of the source’s alerts with the key, retracted left out, with who resolved a resolved one with a firing start', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      const k = (key: string, over: Partial<NewAlert> = {}, inp: Partial<AlertInput> = {}) => alerts.insert(alert({ input: input({ dedup_key: key, ...inp }), ...over }));
      await k('a'); // 1
      await k('a', { incidentId: 5 }); // 2: the newest of source 1
      await k('a', { sourceId: 2 }, { severity: 'P0' }); // 3
      await k('a', { sourceId: null }); // 4
      const retracted = await k('b'); // 5
      await alerts.update(retracted, { retractedAt: T0 + 1 });
      // Resolved with a firing start: the latest resolve action says who.
      await k('person', { status: 'resolved', resolvedAt: T0 + 2 }, { firing_started_at: T0 - 1 }); // 6
      await k('sweep', { status: 'resolved', resolvedAt: T0 + 2 }, { firing_started_at: T0 - 1 }); // 7
      await k('noaction', { status: 'resolved', resolvedAt: T0 + 2 }, { firing_started_at: T0 - 1 }); // 8
      await k('nostart', { status: 'resolved', resolvedAt: T0 + 2 }); // 9
      await b.seed({
        actions: [
          { alertId: 6, kind: 'resolve', actorKind: 'system', actorName: 'sweep', at: T0 },
          { alertId: 6, kind: 'resolve', actorKind: 'discord', actorName: 'ann', at: T0 + 1 },
          { alertId: 7, kind: 'resolve', actorKind: 'admin', actorName: 'bob', at: T0 },
          { alertId: 7, kind: 'resolve', actorKind: 'system', actorName: 'sweep', at: T0 + 1 },
          { alertId: 7, kind: 'ack', actorKind: 'discord', actorName: 'cy', at: T0 + 2 },
          { alertId: 9, kind: 'resolve', actorKind: 'discord', actorName: 'ann', at: T0 + 1 },
        ],
      });
      return {
        a1: await alerts.latest(1, 'a'),
        a2: await alerts.latest(2, 'a'),
        aNull: await alerts.latest(null, 'a'),
        otherSource: await alerts.latest(2, 'person'),
        retracted: await alerts.latest(1, 'b'),
        person: await alerts.latest(1, 'person'),
        sweep: await alerts.latest(1, 'sweep'),
        noaction: await alerts.latest(1, 'noaction'),
        nostart: await alerts.latest(1, 'nostart'),
        none: await alerts.latest(1, 'zzz'),
      };
    });
    expect(answers.a1).toEqual({ id: 2, status: 'firing', severity: 'P2', resolvedAt: null, mutedBy: null, occurrences: 1, firingStartedAt: null, incidentId: 5, resolvedByPerson: 0 });
    expect(answers.a2).toMatchObject({ id: 3, severity: 'P0', incidentId: null });
    expect(answers.aNull).toMatchObject({ id: 4 });
    expect(answers.otherSource).toBeUndefined();
    expect(answers.retracted).toBeUndefined();
    expect(answers.person).toMatchObject({ id: 6, status: 'resolved', resolvedAt: T0 + 2, firingStartedAt: T0 - 1, resolvedByPerson: 1 });
    expect(answers.sweep).toMatchObject({ id: 7, resolvedByPerson: 0 });
    expect(answers.noaction).toMatchObject({ id: 8, resolvedByPerson: 0 });
    expect(answers.nostart).toMatchObject({ id: 9, resolvedByPerson: 0 });
    expect(answers.none).toBeUndefined();
  });

  it('open / openWithKey: the source’s firing alerts by key, or by service and title without one, newest first, at most 100', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      await alerts.insert(alert({ input: input({ dedup_key: 'k' }) })); // 1
      await alerts.insert(alert({ input: input({ dedup_key: 'k' }) })); // 2
      await alerts.insert(alert({ input: input({ dedup_key: 'k' }), status: 'resolved', resolvedAt: T0 })); // 3
      const retracted = await alerts.insert(alert({ input: input({ dedup_key: 'k' }) })); // 4
      await alerts.update(retracted, { retractedAt: T0 });
      await alerts.insert(alert({ sourceId: 2, input: input({ dedup_key: 'k' }) })); // 5
      await alerts.insert(alert({ sourceId: null, input: input({ dedup_key: 'k' }) })); // 6
      await alerts.insert(alert()); // 7: keyless api/down
      await alerts.insert(alert({ input: input({ title: 'other' }) })); // 8
      await alerts.insert(alert({ sourceId: null })); // 9
      await alerts.insert(alert({ input: input({ dedup_key: 'x', title: 'down' }) })); // 10: keyed, not keyless
      for (let i = 0; i < 105; i++) await alerts.insert(alert({ input: input({ dedup_key: 'many' }) }));
      const many = await alerts.open(1, { dedup_key: 'many', service: 'api', title: 'down' });
      return {
        byKey: await alerts.open(1, { dedup_key: 'k', service: 'api', title: 'down' }),
        byKey2: await alerts.open(2, { dedup_key: 'k', service: 'x', title: 'y' }),
        byKeyNull: await alerts.open(null, { dedup_key: 'k', service: 'api', title: 'down' }),
        byTitle: await alerts.open(1, { service: 'api', title: 'down' }),
        byTitleNull: await alerts.open(null, { service: 'api', title: 'down' }),
        byTitleNone: await alerts.open(2, { service: 'api', title: 'down' }),
        many: { length: many.length, first: many[0], last: many.at(-1) },
        withKey: await alerts.openWithKey(1, 'k'),
        withKeyNull: await alerts.openWithKey(null, 'k'),
        withKeyNone: await alerts.openWithKey(2, 'zzz'),
      };
    });
    expect(answers).toEqual({
      byKey: [2, 1],
      byKey2: [5],
      byKeyNull: [6],
      byTitle: [7],
      byTitleNull: [9],
      byTitleNone: [],
      many: { length: 100, first: 115, last: 16 },
      withKey: 2,
      withKeyNull: 6,
      withKeyNone: undefined,
    });
  });

  it('fold: an occurrence more (none for the same firing start), last seen, the content, the severity only up; reopen clears the lifecycle', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      const id = await alerts.insert(alert({ input: input({ dedup_key: 'k', severity: 'P2', labels: { a: '1' }, firing_started_at: T0 }) }));
      const pick = async () => {
        const r = await alerts.row(id);
        return { occurrences: r.occurrences, severity: r.severity, firingStartedAt: r.firingStartedAt, lastSeenAt: r.lastSeenAt, changedAt: r.changedAt, title: r.title, labels: r.labels, status: r.status };
      };
      // The same firing start: a notification, no occurrence more; a lower severity does not lower it.
      await alerts.fold(id, input({ severity: 'P3', title: 'still down', labels: { b: '2', a: '1' }, firing_started_at: T0 }), T0 + 1_000, false);
      const same = await pick();
      // A new start: another firing.
      await alerts.fold(id, input({ severity: 'P1', firing_started_at: T0 + 900 }), T0 + 2_000, false);
      const newStart = await pick();
      // No start (a sender without one): always another firing, the start cleared.
      await alerts.fold(id, input({ severity: 'P0', description: 'd', fields: [{ name: 'f', value: 'v' }] }), T0 + 3_000, false);
      const noStart = await pick();
      const noStartRow = await alerts.row(id);
      await alerts.update(id, {
        status: 'resolved',
        resolvedAt: T0 + 4_000,
        resolvedBy: 'ann',
        resolvedByUser: 'u1',
        acknowledgedAt: T0 + 3_500,
        acknowledgedBy: 'bob',
        acknowledgedByUser: 'u2',
      });
      await alerts.fold(id, input({ severity: 'P3' }), T0 + 5_000, true);
      const reopened = await alerts.row(id);
      await alerts.fold(99, input(), T0, false);
      return { same, newStart, noStart, noStartContent: { description: noStartRow.description, fields: noStartRow.fields, labels: noStartRow.labels }, reopened, ghost: await alerts.exists(99) };
    });
    expect(answers.same).toEqual({ occurrences: 1, severity: 'P2', firingStartedAt: T0, lastSeenAt: T0 + 1_000, changedAt: T0 + 1_000, title: 'still down', labels: { b: '2', a: '1' }, status: 'firing' });
    expect(answers.newStart).toMatchObject({ occurrences: 2, severity: 'P1', firingStartedAt: T0 + 900, lastSeenAt: T0 + 2_000, title: 'down', labels: null });
    expect(answers.noStart).toMatchObject({ occurrences: 3, severity: 'P0', firingStartedAt: null, lastSeenAt: T0 + 3_000 });
    expect(answers.noStartContent).toEqual({ description: 'd', fields: [{ name: 'f', value: 'v' }], labels: null });
    expect(answers.reopened).toMatchObject({
      status: 'firing',
      occurrences: 4,
      severity: 'P0',
      reopenedAt: T0 + 5_000,
      lastSeenAt: T0 + 5_000,
      resolvedAt: null,
      resolvedBy: null,
      resolvedByUser: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      acknowledgedByUser: null,
      description: null,
    });
    expect(answers.ghost).toBe(false);
  });

  it('inside a transaction, an alert stored earlier is seen by latest and open through tx; a throw rolls the insert back', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const seen = await b.store.transaction(async (tx) => {
        const id = await tx.alerts.insert(alert({ input: input({ dedup_key: 'k' }) }));
        return { id, latest: (await tx.alerts.latest(1, 'k'))?.id, open: await tx.alerts.open(1, { dedup_key: 'k', service: 'api', title: 'down' }) };
      });
      const thrown = await b.store
        .transaction(async (tx) => {
          await tx.alerts.insert(alert({ input: input({ dedup_key: 'gone' }) }));
          throw new Error('no');
        })
        .catch((err: unknown) => (err as Error).message);
      return { seen, thrown, gone: await b.store.alerts.latest(1, 'gone'), kept: (await b.store.alerts.latest(1, 'k'))?.id };
    });
    expect(answers).toEqual({ seen: { id: 1, latest: 1, open: [1] }, thrown: 'no', gone: undefined, kept: 1 });
  });
});

describe('alerts: lifecycle', () => {
  it('update sets columns; touchIncident marks every member changed and only them; newestWithKey across sources', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      await alerts.insert(alert({ incidentId: 3, input: input({ dedup_key: 'k' }) })); // 1
      await alerts.insert(alert({ incidentId: 3, sourceId: 2, input: input({ dedup_key: 'k' }) })); // 2
      await alerts.insert(alert({ incidentId: 4 })); // 3
      await alerts.update(1, { acknowledgedAt: T0 + 10, acknowledgedBy: 'ann', acknowledgedByUser: 'u1', retractMode: 'strike', mutedByMuteId: 9 });
      await alerts.update(99, { acknowledgedAt: T0 });
      const nothing = await outcome(alerts.update(1, {}));
      await alerts.touchIncident(3, T0 + 20);
      const rows = await Promise.all([1, 2, 3].map((id) => alerts.row(id)));
      return {
        updated: { acknowledgedAt: rows[0]!.acknowledgedAt, acknowledgedBy: rows[0]!.acknowledgedBy, retractMode: rows[0]!.retractMode, mutedByMuteId: rows[0]!.mutedByMuteId },
        changed: rows.map((r) => r.changedAt),
        newest: await alerts.newestWithKey('k'),
        none: await alerts.newestWithKey('zzz'),
        nothing,
      };
    });
    expect(answers).toEqual({
      updated: { acknowledgedAt: T0 + 10, acknowledgedBy: 'ann', retractMode: 'strike', mutedByMuteId: 9 },
      changed: [T0 + 20, T0 + 20, null],
      newest: 2,
      none: undefined,
      // drizzle's own refusal, the same on both.
      nothing: { status: undefined, code: undefined, message: 'No values to set' },
    });
  });

  it('renderable: until when a mute made from the alert is in force, by the database’s clock (ended and expired ones left out)', async () => {
    const now = Date.now();
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      for (let i = 0; i < 4; i++) await alerts.insert(alert());
      await b.seed({
        mutes: [
          { id: 1, alertId: 1, createdBy: 'ann', createdAt: now - 10_000, expiresAt: now + 3_600_000 },
          { id: 2, alertId: 1, createdBy: 'ann', createdAt: now - 10_000, expiresAt: now + 7_200_000 },
          { id: 3, alertId: 2, createdBy: 'ann', createdAt: now - 10_000, expiresAt: now - 1_000 },
          { id: 4, alertId: 3, createdBy: 'ann', createdAt: now - 10_000, expiresAt: now + 3_600_000, endedAt: now - 500 },
          { id: 5, alertId: null, createdBy: 'ann', createdAt: now - 10_000, expiresAt: now + 3_600_000 },
        ],
      });
      return Promise.all([1, 2, 3, 4].map(async (id) => (await alerts.renderable(id)).mutedUntil));
    });
    expect(answers).toEqual([now + 7_200_000, null, null, null]);
  });
});

describe('alerts: auto-resolve and views', () => {
  it('staleCandidates: firing, not retracted, past the source’s setting or the shortest route’s, oldest first, up to the limit', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(SOURCES);
      const { alerts } = b.store;
      const hour = 3_600_000;
      await alerts.insert(alert({ receivedAt: T0 - 2 * hour, input: input({ labels: { b: '1', a: '2' }, environment: 'prod' }) })); // 1: stale by its source
      const repeated = await alerts.insert(alert({ receivedAt: T0 - 2 * hour })); // 2: repeated since
      await alerts.fold(repeated, input(), T0 - 10 * 60_000, false);
      await alerts.insert(alert({ receivedAt: T0 - 2 * hour, status: 'resolved', resolvedAt: T0 })); // 3
      const retracted = await alerts.insert(alert({ receivedAt: T0 - 2 * hour })); // 4
      await alerts.update(retracted, { retractedAt: T0 });
      await alerts.insert(alert({ sourceId: 2, receivedAt: T0 - 2 * hour })); // 5: a source without the setting
      await alerts.insert(alert({ sourceId: null, receivedAt: T0 - 30 * 60_000 })); // 6: no source
      await alerts.insert(alert({ receivedAt: T0 - hour })); // 7: exactly an hour
      return {
        bySource: await alerts.staleCandidates(T0, null),
        byRoute: await alerts.staleCandidates(T0, 20 * 60_000),
        byShortRoute: await alerts.staleCandidates(T0, 60_000),
        limited: await alerts.staleCandidates(T0, 60_000, 2),
      };
    });
    expect(answers.bySource).toEqual([
      { id: 1, service: 'api', severity: 'P2', environment: 'prod', labels: { b: '1', a: '2' }, lastUpdateAt: T0 - 7_200_000, sourceAfterMs: 3_600_000 },
      { id: 7, service: 'api', severity: 'P2', environment: null, labels: null, lastUpdateAt: T0 - 3_600_000, sourceAfterMs: 3_600_000 },
    ]);
    expect(answers.byRoute.map((c) => c.id)).toEqual([1, 5, 6, 7]);
    expect(answers.byRoute.find((c) => c.id === 6)).toEqual({ id: 6, service: 'api', severity: 'P2', environment: null, labels: null, lastUpdateAt: T0 - 1_800_000, sourceAfterMs: null });
    expect(answers.byShortRoute.map((c) => c.id)).toEqual([1, 2, 5, 6, 7]);
    expect(answers.byShortRoute.find((c) => c.id === 2)?.lastUpdateAt).toBe(T0 - 600_000);
    expect(answers.limited.map((c) => c.id)).toEqual([1, 2]);
  });

  const VIEWS: Seed = {
    ...SOURCES,
    channels: [
      { id: 1, name: 'ops', discordChannelId: '1001' },
      { id: 2, name: 'db', discordChannelId: '1002' },
    ],
  };

  it('detail: the alert with its deliveries in order and its incident when it has one; 404 for none', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(VIEWS);
      const { alerts } = b.store;
      await alerts.insert(alert({ input: input({ dedup_key: 'k', labels: { z: '1', a: '2' } }), incidentId: 8 })); // 1
      await alerts.insert(alert()); // 2
      await b.seed({
        deliveries: [
          { id: 1, alertId: 1, channelId: 2, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0, state: 'sent', discordMessageId: '5001', sentAt: T0 + 1 },
          { id: 2, alertId: 1, channelId: 1, priority: 2, sortKey: T0, availableAt: T0 + 5, createdAt: T0, state: 'dead', lastError: 'gone' },
          { id: 3, alertId: 2, channelId: 1, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0 },
        ],
      });
      return { one: await alerts.detail(1), two: await alerts.detail(2), missing: await outcome(alerts.detail(99)) };
    });
    expect(answers.one).toMatchObject({ id: 1, dedup_key: 'k', labels: { z: '1', a: '2' }, unrouted: false, received_at: T0, incident_id: 8 });
    expect(Object.keys(answers.one.labels!)).toEqual(['z', 'a']);
    expect(answers.one.deliveries).toEqual([
      { id: 1, channel_id: 2, state: 'sent', available_at: T0, attempts: 0, last_error: null, webhook_id: null, discord_message_id: '5001', sent_at: T0 + 1 },
      { id: 2, channel_id: 1, state: 'dead', available_at: T0 + 5, attempts: 0, last_error: 'gone', webhook_id: null, discord_message_id: null, sent_at: null },
    ]);
    expect('incident_id' in answers.two).toBe(false);
    expect(answers.two.deliveries.map((d) => d.id)).toEqual([3]);
    expect(answers.missing).toEqual({ status: 404, code: 'not_found', message: 'no alert with id 99' });
  });

  it('list: newest first, each filter, up to the limit; isMessageOf; recentServices', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(VIEWS);
      const { alerts } = b.store;
      await alerts.insert(alert({ input: input({ service: 'db-main', severity: 'P0', title: 'Disk FULL', description: '100% used' }), receivedAt: T0 })); // 1
      await alerts.insert(alert({ input: input({ service: 'db_replica', severity: 'P1', title: 'lag' }), receivedAt: T0 + 10, unrouted: true })); // 2
      await alerts.insert(alert({ input: input({ service: 'api', severity: 'P2', title: 'slow', description: 'p99 at 5s' }), receivedAt: T0 + 20, mutedBy: 4 })); // 3
      await alerts.insert(alert({ input: input({ service: 'api', severity: 'P3', title: 'errors' }), receivedAt: T0 + 30 })); // 4
      await alerts.insert(alert({ input: input({ service: 'dbx', title: 'x' }), receivedAt: T0 + 40, status: 'resolved', resolvedAt: T0 + 41 })); // 5
      await alerts.insert(alert({ input: input({ service: 'web', title: 'ack me' }), receivedAt: T0 + 50 })); // 6
      await alerts.insert(alert({ input: input({ service: 'web', title: 'gone' }), receivedAt: T0 + 60 })); // 7
      await alerts.update(6, { acknowledgedAt: T0 + 55, acknowledgedBy: 'ann' });
      await alerts.update(7, { retractedAt: T0 + 65, retractMode: 'delete' });
      await b.seed({
        deliveries: [
          { id: 1, alertId: 1, channelId: 1, priority: 0, sortKey: T0, availableAt: T0, createdAt: T0, state: 'sent', discordMessageId: 'm1' },
          { id: 2, alertId: 3, channelId: 2, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0, state: 'pending', discordMessageId: 'm3' },
          { id: 3, alertId: 4, channelId: 2, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0, state: 'sent', discordMessageId: 'm4' },
        ],
      });
      const ids = async (f: Omit<Parameters<AlertStore['list']>[0], 'limit'> & { limit?: number }) => (await alerts.list({ limit: 50, ...f })).map((a) => a.id);
      return {
        all: await alerts.list({ limit: 50 }),
        limit: await ids({ limit: 3 }),
        before: await ids({ beforeId: 4, limit: 2 }),
        unrouted: [await ids({ unrouted: true }), await ids({ unrouted: false })],
        muted: [await ids({ muted: true }), await ids({ muted: false })],
        channels: [await ids({ channelIds: [2] }), await ids({ channelIds: [1, 2] }), await ids({ channelIds: [] })],
        service: [await ids({ service: 'api' }), await ids({ service: 'db*' }), await ids({ service: 'db_*' }), await ids({ service: 'DB*' }), await ids({ service: 'db' })],
        severities: [await ids({ severities: ['P0', 'P3'] }), await ids({ severities: [] })],
        states: await Promise.all((['firing', 'acknowledged', 'resolved', 'muted', 'retracted'] as const).map((state) => ids({ state }))),
        received: [await ids({ receivedFrom: T0 + 20 }), await ids({ receivedTo: T0 + 20 }), await ids({ receivedFrom: T0 + 10, receivedTo: T0 + 30 })],
        text: [await ids({ text: 'disk' }), await ids({ text: 'DB' }), await ids({ text: '100%' }), await ids({ text: '_' }), await ids({ text: 'P99' }), await ids({ text: '' })],
        combined: await ids({ service: 'api', severities: ['P2', 'P3'], state: 'firing', channelIds: [2], beforeId: 5 }),
        isMessageOf: [await alerts.isMessageOf(1, 'm1'), await alerts.isMessageOf(3, 'm3'), await alerts.isMessageOf(4, 'm1'), await alerts.isMessageOf(4, 'm4')],
        recent: [await alerts.recentServices(3), await alerts.recentServices(0)],
      };
    });
    expect(answers.all.map((a) => a.id)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(answers.all.find((a) => a.id === 3)).toEqual({
      id: 3,
      source_id: 1,
      service: 'api',
      severity: 'P2',
      title: 'slow',
      description: 'p99 at 5s',
      status: 'firing',
      dedup_key: null,
      environment: null,
      labels: null,
      fields: null,
      links: null,
      unrouted: false,
      received_at: T0 + 20,
      acknowledged_by: null,
      acknowledged_at: null,
      resolved_by: null,
      resolved_at: null,
      retracted_at: null,
      retract_mode: null,
      retract_reason: null,
      muted_by_mute_id: 4,
      occurrences: 1,
      last_seen_at: null,
      reopened_at: null,
      firing_started_at: null,
    });
    expect(answers.limit).toEqual([7, 6, 5]);
    expect(answers.before).toEqual([3, 2]);
    expect(answers.unrouted).toEqual([[2], [7, 6, 5, 4, 3, 1]]);
    expect(answers.muted).toEqual([[3], [7, 6, 5, 4, 2, 1]]);
    expect(answers.channels).toEqual([[4, 3], [4, 3, 1], []]);
    // A glob ignores ASCII case on both; `_` in it is literal.
    expect(answers.service).toEqual([[4, 3], [5, 2, 1], [2], [5, 2, 1], []]);
    expect(answers.severities).toEqual([[4, 1], [7, 6, 5, 4, 3, 2, 1]]);
    expect(answers.states).toEqual([[4, 2, 1], [6], [5], [3], [7]]);
    expect(answers.received).toEqual([[7, 6, 5, 4, 3], [2, 1], [3, 2]]);
    expect(answers.text).toEqual([[1], [5, 2, 1], [1], [2], [3], [7, 6, 5, 4, 3, 2, 1]]);
    expect(answers.combined).toEqual([4]);
    expect(answers.isMessageOf).toEqual([true, false, false, true]);
    expect(answers.recent).toEqual([['web', 'web', 'dbx'], []]);
  });
});

describe('alerts: on PostgreSQL only', () => {
  it('list’s text and glob filters use ilike, which folds non-ASCII letters when the database’s LC_CTYPE does (not under C); SQLite’s like folds only ASCII', async () => {
    for (const b of backends) {
      await b.seed(SOURCES);
      await b.store.alerts.insert(alert({ input: input({ service: 'Économie', title: 'Überlast' }) }));
    }
    const ask = async (b: Backend) => [
      (await b.store.alerts.list({ limit: 10, text: 'überlast' })).length,
      (await b.store.alerts.list({ limit: 10, service: 'éco*' })).length,
      (await b.store.alerts.list({ limit: 10, text: 'LAST' })).length,
    ];
    expect(await ask(backends[0]!)).toEqual([0, 0, 1]);
    // C.UTF-8 or a language's locale folds É to é; the C locale (the embedded server's) folds ASCII only, as SQLite.
    const folds = (await handle.db.execute<{ folds: boolean }>(sql`select lower('É') = 'é' as folds`)).rows[0]!.folds;
    expect(await ask(backends[1]!)).toEqual(folds ? [1, 1, 1] : [0, 0, 1]);
  });
});

describe('alerts: two ingest transactions at once, on PostgreSQL only', () => {
  it('an alert stored by a transaction not yet committed is not seen by another’s latest (read committed; SQLite’s gate runs them one after the other)', async () => {
    await backends[1]!.seed(SOURCES);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let stored!: () => void;
    const inserted = new Promise<void>((r) => (stored = r));
    const first = onPg.transaction(async (tx) => {
      await tx.alerts.insert(alert({ input: input({ dedup_key: 'k' }) }));
      stored();
      await held;
    });
    await inserted;
    const second = await onPg.transaction(async (tx) => ({ latest: await tx.alerts.latest(1, 'k'), open: await tx.alerts.openWithKey(1, 'k') }));
    release();
    await first;
    expect(second).toEqual({ latest: undefined, open: undefined });
    expect((await onPg.alerts.latest(1, 'k'))?.id).toBe(1);
  });
});
