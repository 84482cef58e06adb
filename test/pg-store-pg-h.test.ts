import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../src/domain/alert.js';
import type { AlertStore, NewAlert } from '../src/store/alerts.js';
import type { EscalationStore } from '../src/store/escalations.js';
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
  readonly escalations: Pick<EscalationStore, Exclude<keyof EscalationStore, 'chainIdSync'>>;
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

const step = (over: Partial<Parameters<EscalationStore['addStep']>[1]> = {}): Parameters<EscalationStore['addStep']>[1] => ({ kind: 'channel', delayMs: 60_000, target: null, channelId: null, ...over });

describe('escalations: chains (admin)', () => {
  it('createChain with steps, chains(), chainId, managedBy, addStep, setFromFile; 400s, 404s and the 409 of a taken name', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { escalations } = b.store;
      const empty = await escalations.chains();
      const a = await escalations.createChain({ name: 'Ops', repeats: 1, rearmAfterMs: 3_600_000_000, steps: [step({ channelId: 2 }), step({ kind: 'role', target: '123', delayMs: 0 })] });
      const z = await escalations.createChain({ name: 'b-file', repeats: 0, rearmAfterMs: null, steps: [], managedBy: 'file' });
      const taken = await outcome(escalations.createChain({ name: 'Ops', repeats: 0, rearmAfterMs: null, steps: [] }));
      const badStepChain = await outcome(escalations.createChain({ name: 'bad', repeats: 0, rearmAfterMs: null, steps: [step({ channelId: 3 })] }));
      await escalations.addStep(z, step({ kind: 'user', target: '9', channelId: 1 }));
      const errors = {
        unknownChain: await outcome(escalations.addStep(99, step())),
        removedChannel: await outcome(escalations.addStep(z, step({ channelId: 3 }))),
        unknownChannel: await outcome(escalations.addStep(z, step({ channelId: 42 }))),
      };
      for (let i = 0; i < 19; i++) await escalations.addStep(z, step({ delayMs: i }));
      const tooMany = await outcome(escalations.addStep(z, step()));
      const before = await escalations.chains();
      await escalations.setFromFile(a, { repeats: 2, rearmAfterMs: null, steps: [step({ kind: 'user', target: '7', delayMs: 5 })] });
      const fileUnknown = await outcome(escalations.setFromFile(99, { repeats: 0, rearmAfterMs: null, steps: [step()] }));
      const after = await escalations.chains();
      return {
        empty,
        ids: [a, z],
        taken,
        badStepChain,
        errors,
        tooMany,
        stepsBefore: before.steps.map((s) => [s.chainId, s.position, s.kind, s.target, s.delayMs, s.channelId]).slice(0, 4),
        countBefore: before.steps.length,
        chains: after.chains.map(({ createdAt: _c, ...c }) => c),
        stepsAfter: after.steps.filter((s) => s.chainId === a).map(({ createdAt: _c, ...s }) => s),
        chainIds: [await escalations.chainId({ id: a }), await escalations.chainId({ name: 'b-file' }), await escalations.chainId({ id: 99 }), await escalations.chainId({ name: 'none' })],
        managed: [await escalations.managedBy(a), await escalations.managedBy(z), await escalations.managedBy(99)],
        chain: await escalations.chain(z).then((c) => c && { ...c, createdAt: typeof c.createdAt }),
        noChain: await escalations.chain(99),
        steps: (await escalations.steps(z)).map((s) => s.position),
      };
    });
    expect(answers.empty).toEqual({ chains: [], steps: [], routes: [] });
    expect(answers.ids).toEqual([1, 2]);
    expect(answers.taken).toEqual({ status: 409, code: 'conflict', message: 'an escalation chain named "Ops" already exists' });
    expect(answers.badStepChain).toMatchObject({ status: 400 });
    expect(answers.errors.unknownChain).toEqual({ status: 404, code: 'not_found', message: 'no escalation chain with id 99' });
    expect(answers.errors.removedChannel).toMatchObject({ status: 400, message: expect.stringContaining('no channel with id 3') });
    expect(answers.errors.unknownChannel).toMatchObject({ status: 400 });
    expect(answers.tooMany).toMatchObject({ status: 400, message: expect.stringContaining('at most 20 steps') });
    expect(answers.stepsBefore).toEqual([
      [1, 0, 'channel', null, 60_000, 2],
      [1, 1, 'role', '123', 0, null],
      [2, 0, 'user', '9', 60_000, 1],
      [2, 1, 'channel', null, 0, null],
    ]);
    expect(answers.countBefore).toBe(22);
    expect(answers.chains).toEqual([
      { id: 1, name: 'Ops', repeats: 2, rearmAfterMs: null, managedBy: 'file' },
      { id: 2, name: 'b-file', repeats: 0, rearmAfterMs: null, managedBy: 'file' },
    ]);
    expect(answers.stepsAfter).toMatchObject([{ chainId: 1, position: 0, kind: 'user', target: '7', delayMs: 5, channelId: null }]);
    expect(answers.chainIds).toEqual([1, 2, undefined, undefined]);
    expect(answers.managed).toEqual(['file', 'file', undefined]);
    expect(answers.chain).toMatchObject({ id: 2, name: 'b-file' });
    expect(answers.noChain).toBeUndefined();
    expect(answers.steps).toEqual([...Array(20).keys()]);
  });

  it('setRouteChain names and clears a route’s chain (404s for an unknown chain or route); deleteChain detaches its routes (404 for none)', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const { escalations } = b.store;
      const a = await escalations.createChain({ name: 'a', repeats: 0, rearmAfterMs: null, steps: [step()] });
      const c = await escalations.createChain({ name: 'c', repeats: 0, rearmAfterMs: null, steps: [] });
      await escalations.setRouteChain(2, a);
      await escalations.setRouteChain(1, c);
      // The routes cache (route → chain, for arming) is refreshed after each change.
      const chainOf = (route: number) => (b.name === 'sqlite' ? lite.routes.chainOf(route) : onPg.routes.chainOf(route));
      const cached = [chainOf(1), chainOf(2)];
      const set = (await escalations.chains()).routes;
      const unknownChain = await outcome(escalations.setRouteChain(1, 99));
      const unknownRoute = await outcome(escalations.setRouteChain(99, a));
      const unknownRouteNull = await outcome(escalations.setRouteChain(99, null));
      await escalations.setRouteChain(1, null);
      const cleared = (await escalations.chains()).routes;
      const cachedCleared = [chainOf(1), chainOf(2)];
      await escalations.deleteChain(a);
      const cachedDeleted = [chainOf(1), chainOf(2)];
      const deleted = await escalations.chains();
      const again = await outcome(escalations.deleteChain(a));
      return { cached, cachedCleared, cachedDeleted, set, unknownChain, unknownRoute, unknownRouteNull, cleared, deleted: { chains: deleted.chains.map((x) => x.id), steps: deleted.steps.length, routes: deleted.routes }, again };
    });
    expect(answers).toEqual({
      set: [
        { id: 1, chainId: 2 },
        { id: 2, chainId: 1 },
      ],
      cached: [2, 1],
      cachedCleared: [undefined, 1],
      cachedDeleted: [undefined, undefined],
      unknownChain: { status: 404, code: 'not_found', message: 'no escalation chain with id 99' },
      unknownRoute: { status: 404, code: 'not_found', message: 'no route with id 99' },
      unknownRouteNull: { status: 404, code: 'not_found', message: 'no route with id 99' },
      cleared: [{ id: 2, chainId: 1 }],
      deleted: { chains: [2], steps: 0, routes: [] },
      again: { status: 404, code: 'not_found', message: 'no escalation chain with id 1' },
    });
  });
});

describe('escalations: arming and the runner', () => {
  /** A chain, two alerts of one incident and one alone, each armed. */
  async function armed(b: Backend) {
    await b.seed(BASE);
    const { escalations, alerts, incidents } = b.store;
    const chain = await escalations.createChain({ name: 'a', repeats: 1, rearmAfterMs: null, steps: [step({ delayMs: 10 }), step({ kind: 'role', target: '5' })] });
    const { id: incidentId } = await incidents.join(1, 'g', 'g', T0);
    const m1 = await alerts.insert(alert({ incidentId, input: input({ severity: 'P2' }) }));
    const m2 = await alerts.insert(alert({ incidentId, input: input({ severity: 'P1' }) }));
    const solo = await alerts.insert(alert({ input: input({ severity: 'P3' }) }));
    await escalations.arm({ alertId: m1, chainId: chain, channelIds: [1, 2], dueAt: T0 + 100, now: T0, incidentId });
    await escalations.arm({ alertId: m1, chainId: chain, channelIds: [9], dueAt: T0, now: T0, incidentId }); // once per alert and chain
    await escalations.arm({ alertId: solo, chainId: chain, channelIds: [1], dueAt: T0 + 50, now: T0 });
    // The refused arm spent an id on both (SQLite's AUTOINCREMENT, PostgreSQL's identity): the solo one is 3.
    return { chain, incidentId, m1, m2, solo, inc: 1, single: 3 };
  }

  it('arm once per alert and chain; armedForIncident; escalations() with runs; nextDueAt; existingChannels', async () => {
    const answers = await onBoth(async (b) => {
      const noneDue = await b.store.escalations.nextDueAt();
      const { chain, incidentId, single } = await armed(b);
      const { escalations } = b.store;
      await escalations.recordRun({ escalationId: 1, cycle: 0, round: 0, stepIndex: 0, stepId: 1, kind: 'channel', target: null, deliveries: 2, at: T0 + 100 });
      await escalations.recordRun({ escalationId: single, cycle: 0, round: 0, stepIndex: 0, stepId: 1, kind: 'channel', target: null, deliveries: 1, at: T0 + 50 });
      const twice = await outcome(escalations.recordRun({ escalationId: 1, cycle: 0, round: 0, stepIndex: 0, stepId: 1, kind: 'channel', target: null, deliveries: 2, at: T0 + 101 }));
      const all = await escalations.escalations();
      return {
        noneDue,
        armedFor: [await escalations.armedForIncident(incidentId, chain), await escalations.armedForIncident(incidentId, 99), await escalations.armedForIncident(99, chain)],
        all: { escalations: all.escalations, runs: all.runs.map(({ id: _id, ...r }) => r) },
        ofAlert: (await escalations.escalations({ alertId: 3 })).escalations.map((e) => e.id),
        limited: (await escalations.escalations({ limit: 1 })).escalations.map((e) => e.id),
        none: await escalations.escalations({ alertId: 99 }),
        nextDueAt: await escalations.nextDueAt(),
        twiceFailed: twice !== 'ok',
        channels: [await escalations.existingChannels([3, 2, 1, 42]), await escalations.existingChannels([])],
      };
    });
    expect(answers.noneDue).toBeNull();
    expect(answers.armedFor).toEqual([true, false, false]);
    expect(answers.all.escalations).toEqual([
      { id: 3, alertId: 3, chainId: 1, channelIds: [1], state: 'active', stepIndex: 0, round: 0, cycle: 0, dueAt: T0 + 50, ackSeenAt: null, incidentId: null, reason: null, createdAt: T0, updatedAt: T0 },
      { id: 1, alertId: 1, chainId: 1, channelIds: [1, 2], state: 'active', stepIndex: 0, round: 0, cycle: 0, dueAt: T0 + 100, ackSeenAt: null, incidentId: 1, reason: null, createdAt: T0, updatedAt: T0 },
    ]);
    expect(answers.all.runs.map((r) => r.escalationId)).toEqual([1, 3]);
    expect(answers.ofAlert).toEqual([3]);
    expect(answers.limited).toEqual([3]);
    expect(answers.none).toEqual({ escalations: [], runs: [] });
    expect(answers.nextDueAt).toBe(T0 + 50);
    expect(answers.twiceFailed).toBe(true);
    expect([...answers.channels[0]!].sort()).toEqual([1, 2]);
    expect(answers.channels[1]).toEqual([]);
  });

  it('candidates, withAlert (an incident’s state from its members), move conditional on the state read, retryAt; active filter', async () => {
    const answers = await onBoth(async (b) => {
      const { m2, solo, incidentId, single } = await armed(b);
      const { escalations, alerts } = b.store;
      const early = await escalations.candidates(T0);
      const due = await escalations.candidates(T0 + 60);
      const solo1 = (await escalations.withAlert(single))!;
      const inc1 = (await escalations.withAlert(1))!;
      const missing = await escalations.withAlert(99);
      await escalations.move(solo1.e, { stepIndex: 1, dueAt: T0 + 1000 }, T0 + 60);
      const stale = await outcome(escalations.move(solo1.e, { stepIndex: 2 }, T0 + 61));
      await alerts.update(solo, { acknowledgedAt: T0 + 70 });
      const acked = await escalations.candidates(T0 + 80);
      await alerts.update(solo, { acknowledgedAt: null });
      await escalations.retryAt(single, T0 + 5);
      const retried = (await escalations.withAlert(single))!.e.dueAt;
      // Every member of the incident resolved (one retracted): resolved, with the latest time.
      await alerts.update(1, { status: 'resolved', resolvedAt: T0 + 90 });
      await alerts.update(m2, { retractedAt: T0 + 95 });
      const inc2 = (await escalations.withAlert(1))!;
      await escalations.move(inc2.e, { state: 'done', reason: 'resolved' }, T0 + 96);
      return {
        early,
        due,
        solo1: solo1.a,
        inc1: inc1.a,
        missing,
        stale: stale === 'ok' ? 'ok' : (stale as { message?: string }).message,
        acked,
        retried,
        inc2: inc2.a,
        active: (await escalations.escalations({ active: true })).escalations.map((e) => [e.id, e.stepIndex, e.updatedAt]),
        done: (await escalations.escalations({ alertId: 1 })).escalations.map((e) => [e.state, e.reason, e.updatedAt]),
        incidentId,
      };
    });
    expect(answers.early).toEqual([1]);
    expect(answers.due).toEqual([3, 1]);
    expect(answers.solo1).toEqual({ status: 'firing', severity: 'P3', acknowledgedAt: null, resolvedAt: null, retractedAt: null });
    expect(answers.inc1).toEqual({ status: 'firing', severity: 'P1', acknowledgedAt: null, resolvedAt: null, retractedAt: null });
    expect(answers.missing).toBeUndefined();
    expect(answers.stale).toBe('escalation 3 changed under a pass');
    expect(answers.acked).toEqual([1, 3]);
    expect(answers.retried).toBe(T0 + 5);
    expect(answers.inc2).toMatchObject({ status: 'resolved', resolvedAt: T0 + 90 });
    expect(answers.active).toEqual([[3, 1, T0 + 60]]);
    expect(answers.done).toEqual([['done', 'resolved', T0 + 96]]);
  });
});

describe('side by side, on PostgreSQL only', () => {
  it('two ingest transactions joining one new group at once create one incident: the second waits for the first’s commit and joins it', async () => {
    await backends[1]!.seed(BASE);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let joined!: () => void;
    const firstJoined = new Promise<void>((r) => (joined = r));
    const first = onPg.transaction(async (tx) => {
      const j = await tx.incidents.join(1, 'g', 'g', T0);
      await tx.alerts.insert(alert({ incidentId: j.id }));
      joined();
      await held;
      return j;
    });
    await firstJoined;
    let secondDone = false;
    const second = onPg.transaction(async (tx) => {
      const j = await tx.incidents.join(1, 'g', 'g', T0 + 1);
      await tx.alerts.insert(alert({ incidentId: j.id }));
      return j;
    });
    void second.then(() => (secondDone = true));
    // Another group is not held up by the first's lock.
    const other = await onPg.transaction((tx) => tx.incidents.join(1, 'h', 'h', T0));
    await new Promise((r) => setTimeout(r, 200));
    const waited = !secondDone;
    release();
    expect(waited, 'the second join waits for the first transaction').toBe(true);
    expect(await first).toEqual({ id: 1, createdAt: T0, created: true });
    expect(await second).toEqual({ id: 1, createdAt: T0, created: false });
    expect(other.created).toBe(true);
    expect(await onPg.incidents.idsOfKey(1, 'g')).toEqual([1]);
    expect((await onPg.incidents.summary(1)).members).toBe(2);
  });

  it('join outside a transaction takes its lock in a transaction of its own', async () => {
    await backends[1]!.seed(BASE);
    const [a, b] = await Promise.all([onPg.incidents.join(1, 'g', 'g', T0), onPg.incidents.join(1, 'g', 'g', T0)]);
    // No member yet, so both create (as on SQLite): but each inside its own lock, without an error.
    expect([a.created, b.created]).toEqual([true, true]);
  });

  it('the runner’s claim: while one transaction moves an escalation, another’s withAlert skips it (for update skip locked); after the commit it sees the move', async () => {
    await backends[1]!.seed(BASE);
    const chain = await onPg.escalations.createChain({ name: 'a', repeats: 0, rearmAfterMs: null, steps: [step()] });
    const alertId = await onPg.alerts.insert(alert());
    const other = await onPg.alerts.insert(alert());
    await onPg.escalations.arm({ alertId, chainId: chain, channelIds: [1], dueAt: T0, now: T0 });
    await onPg.escalations.arm({ alertId: other, chainId: chain, channelIds: [1], dueAt: T0, now: T0 });
    expect(await onPg.escalations.candidates(T0)).toEqual([1, 2]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let claimed!: () => void;
    const firstClaimed = new Promise<void>((r) => (claimed = r));
    const first = onPg.transaction(async (tx) => {
      const row = (await tx.escalations.withAlert(1))!;
      claimed();
      await held;
      await tx.escalations.move(row.e, { stepIndex: 1, dueAt: T0 + 60_000 }, T0 + 1);
      return row.e.id;
    });
    await firstClaimed;
    // A second runner's pass: escalation 1 is being moved, so it is not handed out again; 2 is.
    const second = await onPg.transaction(async (tx) => [(await tx.escalations.withAlert(1))?.e.id, (await tx.escalations.withAlert(2))?.e.id]).finally(release);
    expect(await first).toBe(1);
    expect(second).toEqual([undefined, 2]);
    const after = await onPg.transaction(async (tx) => (await tx.escalations.withAlert(1))?.e);
    expect(after).toMatchObject({ id: 1, stepIndex: 1, dueAt: T0 + 60_000, updatedAt: T0 + 1 });
  });

  it('two steps added to one chain at once take the next positions one after the other (the chain’s row is locked)', async () => {
    await backends[1]!.seed(BASE);
    const chain = await onPg.escalations.createChain({ name: 'a', repeats: 0, rearmAfterMs: null, steps: [] });
    await Promise.all([0, 1, 2, 3].map((i) => onPg.escalations.addStep(chain, step({ delayMs: i }))));
    expect((await onPg.escalations.steps(chain)).map((s) => s.position)).toEqual([0, 1, 2, 3]);
  });
});
