import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../src/domain/alert.js';
import type { AlertStore, NewAlert } from '../src/store/alerts.js';
import type { IncidentStore } from '../src/store/incidents.js';
import { openStore, type Store } from '../src/store/index.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL incidents and escalations modules (src/store/pg/incidents.ts, escalations.ts) against a real
 * PostgreSQL database, and the same scenarios against SQLite's modules on a file, as test/pg-store.test.ts does:
 * each scenario runs on both, asserts what it expects of each, and that both answered the same. Then what runs
 * side by side, on PostgreSQL only.
 */

interface Common {
  readonly alerts: Pick<AlertStore, keyof AlertStore>;
  readonly incidents: Pick<IncidentStore, keyof IncidentStore>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

/** Rows of tables other modules write (not ported here), the same on both. */
interface Seed {
  sources?: { id: number; name: string; tokenHash: string }[];
  channels?: { id: number; name: string; discordChannelId: string; removedAt?: number | null }[];
  routes?: { id: number; channelId: number; escalationChainId?: number | null }[];
  deliveries?: { id: number; alertId: number; channelId: number; priority: number; sortKey: number; availableAt: number; createdAt: number; discordMessageId?: string | null; note?: 'repeat' | null; mention?: string | null }[];
  mutes?: { id: number; incidentKey: string; sourceId: number | null; createdBy: string; createdAt: number; expiresAt: number; endedAt?: number | null }[];
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
  handle = await openPg(pg.url, { poolSize: 6 });
  onPg = pgStore(handle.db);
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-h-'));
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
        if (s.routes) lite.db.insert(l.routes).values(s.routes).run();
        if (s.deliveries) lite.db.insert(l.deliveries).values(s.deliveries).run();
        if (s.mutes) lite.db.insert(l.mutes).values(s.mutes).run();
      },
      clear: async () => {
        for (const t of [l.escalationRuns, l.escalations, l.deliveries, l.mutes, l.alerts, l.incidents, l.routes, l.escalationSteps, l.escalationChains, l.channels, l.sources]) lite.db.delete(t).run();
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
        if (s.routes) await handle.db.insert(p.routes).values(s.routes);
        if (s.deliveries) await handle.db.insert(p.deliveries).values(s.deliveries);
        if (s.mutes) await handle.db.insert(p.mutes).values(s.mutes);
      },
      clear: async () => {
        await handle.db.execute(
          sql`truncate escalation_runs, escalations, deliveries, mutes, alerts, incidents, routes, escalation_steps, escalation_chains, channels, sources restart identity cascade`,
        );
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

const BASE: Seed = {
  sources: [
    { id: 1, name: 'one', tokenHash: 'h1' },
    { id: 2, name: 'two', tokenHash: 'h2' },
  ],
  channels: [
    { id: 1, name: 'ops', discordChannelId: 'd1' },
    { id: 2, name: 'db', discordChannelId: 'd2' },
    { id: 3, name: 'gone', discordChannelId: 'd3', removedAt: T0 },
  ],
  routes: [
    { id: 1, channelId: 1 },
    { id: 2, channelId: 2 },
  ],
};

/** A delivery row of a card (or a follow-up, a mention) of `alertId` in `channelId`. */
const delivery = (id: number, alertId: number, channelId: number, over: Partial<NonNullable<Seed['deliveries']>[number]> = {}) => ({
  id,
  alertId,
  channelId,
  priority: 2,
  sortKey: T0,
  availableAt: T0,
  createdAt: T0,
  ...over,
});

describe('incidents: join and reads', () => {
  it('join finds the group’s open incident (a member still firing) or creates one; null sources match null; a resolved group starts anew', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { incidents, alerts } = b.store;
      const first = await b.store.transaction((tx) => tx.incidents.join(1, 'g', 'Group g', T0));
      // No member yet: not open, so the next join creates another (as on SQLite).
      const noMember = await incidents.join(1, 'g', 'Group g', T0 + 1);
      const a1 = await alerts.insert(alert({ incidentId: noMember.id }));
      const again = await incidents.join(1, 'g', 'later title', T0 + 2);
      const otherSource = await incidents.join(2, 'g', 'Group g', T0 + 3);
      const nullSource = await incidents.join(null, 'g', 'nobody’s', T0 + 4);
      await alerts.insert(alert({ sourceId: null, incidentId: nullSource.id }));
      const nullAgain = await incidents.join(null, 'g', 'nobody’s', T0 + 5);
      await alerts.update(a1, { status: 'resolved', resolvedAt: T0 + 6 });
      const afterResolve = await incidents.join(1, 'g', 'Group g', T0 + 7);
      return { first, noMember, again, otherSource, nullSource, nullAgain, afterResolve, ofKey: await incidents.idsOfKey(1, 'g'), ofKey1: await incidents.idsOfKey(1, 'g', 1), ofNull: await incidents.idsOfKey(null, 'g') };
    });
    expect(answers).toEqual({
      first: { id: 1, createdAt: T0, created: true },
      noMember: { id: 2, createdAt: T0 + 1, created: true },
      again: { id: 2, createdAt: T0 + 1, created: false },
      otherSource: { id: 3, createdAt: T0 + 3, created: true },
      nullSource: { id: 4, createdAt: T0 + 4, created: true },
      nullAgain: { id: 4, createdAt: T0 + 4, created: false },
      afterResolve: { id: 5, createdAt: T0 + 7, created: true },
      ofKey: [5, 2, 1],
      ofKey1: [5],
      ofNull: [4],
    });
  });

  it('row, titles, members, renderMembers, summary with the members’ state; 404s for none', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { incidents, alerts } = b.store;
      const { id } = await incidents.join(1, 'g', 'Group g', T0);
      const other = await incidents.join(1, 'h', 'Group h', T0);
      const a = await alerts.insert(alert({ incidentId: id, input: input({ severity: 'P1', dedup_key: 'x' }) }));
      await alerts.insert(alert({ incidentId: id, receivedAt: T0 + 5, input: input({ service: 'db', severity: 'P3' }) }));
      await alerts.update(a, { acknowledgedAt: T0 + 10, acknowledgedBy: 'ann' });
      return {
        row: await incidents.row(id),
        missingRow: await outcome(incidents.row(99)),
        titles: [...(await incidents.titles([id, other.id, 99])).entries()].sort(),
        noTitles: (await incidents.titles([])).size,
        members: await incidents.members(id),
        render: await incidents.renderMembers(id),
        summary: await incidents.summary(id),
        empty: await incidents.summary(other.id),
        missingSummary: await outcome(incidents.summary(99)),
      };
    });
    expect(answers.row).toEqual({ id: 1, sourceId: 1, key: 'g', title: 'Group g', createdAt: T0 });
    expect(answers.missingRow).toEqual({ status: 404, code: 'not_found', message: 'no incident with id 99' });
    expect(answers.titles).toEqual([
      [1, 'Group g'],
      [2, 'Group h'],
    ]);
    expect(answers.noTitles).toBe(0);
    expect(answers.members).toEqual([
      { id: 1, incidentId: 1, severity: 'P1', status: 'firing', service: 'api', title: 'down', receivedAt: T0, dedupKey: 'x', acknowledgedAt: T0 + 10, resolvedAt: null, retractedAt: null },
      { id: 2, incidentId: 1, severity: 'P3', status: 'firing', service: 'db', title: 'down', receivedAt: T0 + 5, dedupKey: null, acknowledgedAt: null, resolvedAt: null, retractedAt: null },
    ]);
    expect(answers.render.map((r) => [r.id, r.service, r.incidentId])).toEqual([
      [1, 'api', 1],
      [2, 'db', 1],
    ]);
    expect(answers.summary).toMatchObject({ id: 1, key: 'g', status: 'firing', severity: 'P1', members: 2, firing: 2, acknowledged: 1, acknowledged_at: null });
    expect(answers.empty).toMatchObject({ id: 2, status: 'resolved', members: 0 });
    expect(answers.missingSummary).toEqual({ status: 404, code: 'not_found', message: 'no incident with id 99' });
  });

  it('mutedUntil: the latest mute of the key and source in force (ended, expired and other sources’ left out); null sources match null', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { incidents } = b.store;
      const one = await incidents.join(1, 'g', 'g', T0);
      const none = await incidents.join(null, 'g', 'g', T0);
      const bare = await incidents.join(2, 'g', 'g', T0);
      const m = (id: number, sourceId: number | null, expiresAt: number, endedAt: number | null = null) => ({ id, incidentKey: 'g', sourceId, createdBy: 'x', createdAt: T0, expiresAt, endedAt });
      await b.seed({ mutes: [m(1, 1, T0 + 100), m(2, 1, T0 + 500, T0 + 1), m(3, 1, T0 + 200), m(4, 1, T0 - 1), m(5, null, T0 + 300), { ...m(6, 2, T0 + 900), incidentKey: 'other' }] });
      return [await incidents.mutedUntil(one.id, T0), await incidents.mutedUntil(none.id, T0), await incidents.mutedUntil(bare.id, T0), await incidents.mutedUntil(one.id, T0 + 250), await incidents.mutedUntil(99, T0)];
    });
    expect(answers).toEqual([T0 + 200, T0 + 300, null, null, null]);
  });

  it('messages, channelsOf, isMessageOf: the members’ cards (not follow-ups or mentions), per channel, first posted first', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { incidents, alerts } = b.store;
      const { id } = await incidents.join(1, 'g', 'g', T0);
      const other = await incidents.join(1, 'h', 'h', T0);
      const a1 = await alerts.insert(alert({ incidentId: id }));
      const a2 = await alerts.insert(alert({ incidentId: id }));
      const a3 = await alerts.insert(alert({ incidentId: other.id }));
      await b.seed({
        deliveries: [
          delivery(1, a1, 2, { discordMessageId: 'm2' }),
          delivery(2, a1, 1, { discordMessageId: 'm1' }),
          delivery(3, a2, 1, { discordMessageId: 'm1' }),
          delivery(4, a2, 2, { discordMessageId: 'n1', note: 'repeat' }),
          delivery(5, a2, 2, { discordMessageId: 'x1', mention: '<@&1>' }),
          delivery(6, a3, 2),
        ],
      });
      return {
        messages: await incidents.messages(id),
        none: await incidents.messages(99),
        channels: [...(await incidents.channelsOf([id, other.id, 99])).entries()],
        noChannels: (await incidents.channelsOf([])).size,
        is: [await incidents.isMessageOf(id, 'm1'), await incidents.isMessageOf(id, 'n1'), await incidents.isMessageOf(other.id, 'm1'), await incidents.isMessageOf(id, 'zz')],
      };
    });
    expect(answers).toEqual({
      messages: [
        { channelId: 2, discordMessageId: 'm2', members: 1 },
        { channelId: 1, discordMessageId: 'm1', members: 2 },
      ],
      none: [],
      channels: [
        [1, [1, 2]],
        [2, [2]],
      ],
      noChannels: 0,
      is: [true, true, false, false],
    });
  });

  it('list: newest first, each filter (status, state, service glob, severities, channels, creation time), paging and the limit', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { incidents, alerts } = b.store;
      const ids: number[] = [];
      for (let i = 0; i < 60; i++) {
        const { id } = await incidents.join(1, `k${i}`, `t${i}`, T0 + i);
        ids.push(id);
        const a = await alerts.insert(alert({ incidentId: id, input: input({ service: i % 3 === 0 ? 'Billing-API' : 'db', severity: i % 2 ? 'P1' : 'P3' }) }));
        if (i % 5 === 0) await alerts.update(a, { status: 'resolved', resolvedAt: T0 + 100 });
        else if (i % 7 === 0) await alerts.update(a, { acknowledgedAt: T0 + 100 });
        if (i % 10 === 1) await b.seed({ deliveries: [delivery(i + 1, a, 2)] });
      }
      const l = async (f: Parameters<IncidentStore['list']>[0]) => (await incidents.list(f)).map((s) => s.id);
      return {
        all: await l({ limit: 5 }),
        paged: await l({ limit: 3, beforeId: 10 }),
        resolved: await l({ limit: 100, status: 'resolved' }),
        acknowledged: await l({ limit: 100, state: 'acknowledged' }),
        firing: (await l({ limit: 100, state: 'firing' })).length,
        glob: await l({ limit: 4, service: 'billing-*' }),
        exact: (await l({ limit: 100, service: 'Billing-API' })).length,
        exactCase: (await l({ limit: 100, service: 'billing-api' })).length,
        severities: (await l({ limit: 100, severities: ['P1'] })).length,
        channels: await l({ limit: 100, channelIds: [2] }),
        created: await l({ limit: 100, createdFrom: T0 + 55, createdTo: T0 + 57 }),
        deep: await l({ limit: 2, service: 'billing-*', createdTo: T0 + 3 }),
        first: (await incidents.list({ limit: 1 }))[0],
      };
    });
    expect(answers.all).toEqual([60, 59, 58, 57, 56]);
    expect(answers.paged).toEqual([9, 8, 7]);
    expect(answers.resolved).toEqual([56, 51, 46, 41, 36, 31, 26, 21, 16, 11, 6, 1]);
    expect(answers.acknowledged).toEqual([57, 50, 43, 29, 22, 15, 8]);
    expect(answers.firing).toBe(60 - 12 - 7);
    expect(answers.glob).toEqual([58, 55, 52, 49]);
    expect(answers.exact).toBe(20);
    expect(answers.exactCase).toBe(0);
    expect(answers.severities).toBe(30);
    expect(answers.channels).toEqual([52, 42, 32, 22, 12, 2]);
    expect(answers.created).toEqual([58, 57, 56]);
    expect(answers.deep).toEqual([4, 1]);
    expect(answers.first).toEqual({
      id: 60, source_id: 1, key: 'k59', title: 't59', created_at: T0 + 59, status: 'firing', severity: 'P1', members: 1, firing: 1,
      acknowledged: 0, resolved: 0, retracted: 0, acknowledged_at: null, resolved_at: null,
    });
  });
});
