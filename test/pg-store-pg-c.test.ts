import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../src/domain/errors.js';
import type { ActionRow, Actor } from '../src/store/actions.js';
import type { IdempotencyStore } from '../src/store/idempotency.js';
import { openStore, type Store } from '../src/store/index.js';
import type { MutableAlert, MuteStore, NewWindow } from '../src/store/mutes.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { PgMuteStore, muteCache } from '../src/store/pg/mutes.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import type { SourceStore } from '../src/store/sources.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL sources and mutes modules (src/store/pg/sources.ts, mutes.ts) against a real PostgreSQL database,
 * and the same scenarios against the SQLite modules on a file (as test/pg-store.test.ts): each scenario runs on
 * both, asserts what it expects of each, and that both answered the same.
 */

interface Common {
  readonly sources: Pick<SourceStore, Exclude<keyof SourceStore, 'load'>>;
  readonly mutes: Pick<MuteStore, Exclude<keyof MuteStore, 'load'>>;
  readonly idempotency: Pick<IdempotencyStore, 'key' | 'saveKeyAnswer' | 'webhookIdAnswer' | 'saveWebhookIdAnswer'>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

/** Alerts (written by a module not ported here), the same on both. */
type SeedAlert = { id: number; sourceId?: number | null; service: string; severity: 'P0' | 'P1' | 'P2' | 'P3'; title: string; receivedAt: number; mutedByMuteId?: number | null };

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seedAlerts(rows: SeedAlert[]): Promise<void>;
  /** An alert's history (alert_actions), as the actions module's `forAlert` reads it. */
  actionsOf(alertId: number): Promise<ActionRow[]>;
  /** A statement run behind the modules' backs (their caches do not see it). */
  exec(statement: string): Promise<void>;
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
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-c-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  const l = liteSchema;
  const p = pgSchema;
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      seedAlerts: async (rows) => void lite.db.insert(l.alerts).values(rows).run(),
      actionsOf: (alertId) => lite.actions.forAlert(alertId),
      exec: async (statement) => void lite.db.$client.exec(statement),
      clear: async () => {
        for (const t of [l.alertActions, l.alerts, l.mutes, l.sourceSecrets, l.sources, l.idempotencyKeys, l.seenWebhookIds]) lite.db.delete(t).run();
        lite.db.$client.exec('DELETE FROM sqlite_sequence');
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      seedAlerts: async (rows) => void (await handle.db.insert(p.alerts).values(rows)),
      actionsOf: (alertId) =>
        handle.db
          .select({ id: p.alertActions.id, kind: p.alertActions.kind, actorKind: p.alertActions.actorKind, actorName: p.alertActions.actorName, reason: p.alertActions.reason, at: p.alertActions.at })
          .from(p.alertActions)
          .where(eq(p.alertActions.alertId, alertId))
          .orderBy(p.alertActions.id),
      exec: async (statement) => void (await handle.pool.query(statement)),
      // Ids start again at 1, as on SQLite.
      clear: async () => void (await handle.pool.query('TRUNCATE alert_actions, alerts, mutes, source_secrets, sources, idempotency_keys, seen_webhook_ids RESTART IDENTITY CASCADE')),
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
    await b.store.sources.refresh();
    await b.store.mutes.refresh();
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
const ADMIN: Actor = { kind: 'admin', name: 'root' };
const ALICE: Actor = { kind: 'discord', userId: '42', name: 'alice' };

/** Each backend's own `created_at` (the database's clock) checked and left out, so the two can be compared. */
function withoutCreatedAt<T extends { createdAt: number }>(row: T): Omit<T, 'createdAt'> {
  expect(row.createdAt).toBeGreaterThan(Date.now() - 600_000);
  expect(row.createdAt).toBeLessThan(Date.now() + 600_000);
  const { createdAt: _, ...rest } = row;
  return rest;
}

describe('sources', () => {
  const MAPPING = { severity_label: 'level', severity_words: { sev1: 'P1' as const, crit: 'P0' as const }, default_severity: 'P3' as const, service_labels: ['team', 'service'] };

  it('creates sources, 409 for a taken name, and reads them back (list, all, get, exists, managedBy, anyAutoResolve)', async () => {
    const answers = await onBoth(async ({ store: { sources } }) => {
      const before = await sources.anyAutoResolve();
      const a = await sources.create('alpha', 'hash-a', null);
      const b = await sources.create('beta', 'hash-b', 'alertmanager', 3 * 86_400_000, MAPPING, 'file');
      const taken = await failure(sources.create('alpha', 'hash-z', 'native'));
      const after = await sources.anyAutoResolve();
      const got = await sources.get(b);
      return {
        ids: [a, b],
        taken,
        anyAutoResolve: [before, after],
        list: (await sources.list()).map(({ created_at, ...r }) => ({ ...r, created_at: typeof created_at })),
        all: (await sources.all()).map(withoutCreatedAt),
        get: { ...withoutCreatedAt(got), secrets: got.secrets },
        getA: withoutCreatedAt(await sources.get(a)),
        missing: await failure(sources.get(99)),
        exists: [await sources.exists(a), await sources.exists(99)],
        managedBy: [await sources.managedBy(a), await sources.managedBy(b), await sources.managedBy(99)],
      };
    });
    expect(answers).toEqual({
      ids: [1, 2],
      taken: { status: 409, code: 'conflict', message: 'a source named "alpha" already exists' },
      anyAutoResolve: [false, true],
      list: [
        { id: 1, name: 'alpha', created_at: 'number' },
        { id: 2, name: 'beta', created_at: 'number' },
      ],
      all: [
        { id: 1, name: 'alpha', tokenHash: 'hash-a', format: null, autoResolveAfterMs: null, mapping: null, managedBy: null },
        { id: 2, name: 'beta', tokenHash: 'hash-b', format: 'alertmanager', autoResolveAfterMs: 3 * 86_400_000, mapping: MAPPING, managedBy: 'file' },
      ],
      get: { id: 2, name: 'beta', format: 'alertmanager', autoResolveAfterMs: 3 * 86_400_000, mapping: MAPPING, secrets: [] },
      getA: { id: 1, name: 'alpha', format: null, autoResolveAfterMs: null, mapping: null, secrets: [] },
      missing: { status: 404, code: 'not_found', message: 'no source with id 99' },
      exists: [true, false],
      managedBy: [null, 'file', undefined],
    });
  });

  it('a token hash already in use is a 409 too (the unique index), and the store goes on', async () => {
    const answers = await onBoth(async ({ store: { sources } }) => {
      await sources.create('alpha', 'hash-a', null);
      const clash = await failure(sources.create('gamma', 'hash-a', null));
      // The id PostgreSQL's failed insert took from its sequence is not given again (SQLite's is): compare names.
      await sources.create('delta', 'hash-d', null);
      return { clash, names: (await sources.list()).map((s) => s.name) };
    });
    expect(answers).toEqual({ clash: { status: 409, code: 'conflict', message: 'a source named "gamma" already exists' }, names: ['alpha', 'delta'] });
  });

  it('adds and deletes secrets (404 for an unknown source or secret, 409 for one it has), in the settings at once', async () => {
    const answers = await onBoth(async ({ store: { sources } }) => {
      const id = await sources.create('alpha', 'hash-a', 'pagerduty', null, MAPPING);
      const none = await sources.settings(id);
      const s1 = await sources.addSecret(id, 'whsec_one');
      const s2 = await sources.addSecret(id, 'whsec_two');
      const two = await sources.settings(id);
      const dup = await failure(sources.addSecret(id, 'whsec_one'));
      const unknown = await failure(sources.addSecret(99, 'whsec_one'));
      const got = await sources.get(id);
      await sources.deleteSecret(id, s1.id);
      const one = await sources.settings(id);
      const gone = await failure(sources.deleteSecret(id, s1.id));
      const otherSource = await failure(sources.deleteSecret(99, s2.id));
      return {
        ids: [s1.id, s2.id],
        createdAt: [typeof s1.createdAt, typeof s2.createdAt],
        none,
        two,
        dup,
        unknown,
        secrets: got.secrets.map(withoutCreatedAt),
        one,
        gone,
        otherSource,
        unknownSettings: await sources.settings(99),
      };
    });
    expect(answers).toEqual({
      ids: [1, 2],
      createdAt: ['number', 'number'],
      none: { name: 'alpha', format: 'pagerduty', secrets: [], mapping: MAPPING },
      two: { name: 'alpha', format: 'pagerduty', secrets: ['whsec_one', 'whsec_two'], mapping: MAPPING },
      dup: { status: 409, code: 'conflict', message: 'the source already has this secret' },
      unknown: { status: 404, code: 'not_found', message: 'no source with id 99' },
      secrets: [
        { id: 1, secret: 'whsec_one' },
        { id: 2, secret: 'whsec_two' },
      ],
      one: { name: 'alpha', format: 'pagerduty', secrets: ['whsec_two'], mapping: MAPPING },
      gone: { status: 404, code: 'not_found', message: 'no secret with id 1' },
      otherSource: { status: 404, code: 'not_found', message: 'no secret with id 2' },
      unknownSettings: undefined,
    });
  });

  it('caches token lookups and settings (a change behind its back is seen after refresh), and drops what its own writes change', async () => {
    const answers = await onBoth(async (b) => {
      const { sources } = b.store;
      const id = await sources.create('alpha', 'hash-a', null);
      const first = { byHash: await sources.idForTokenHash('hash-a'), settings: await sources.settings(id), unknown: await sources.idForTokenHash('nope') };
      await b.exec(`UPDATE sources SET token_hash = 'hash-x', name = 'renamed', format = 'jobs' WHERE id = ${id}`);
      const cached = { byHash: await sources.idForTokenHash('hash-a'), newHash: await sources.idForTokenHash('hash-x'), settings: await sources.settings(id) };
      await sources.refresh();
      const refreshed = { byHash: await sources.idForTokenHash('hash-a'), newHash: await sources.idForTokenHash('hash-x'), settings: await sources.settings(id) };
      // Its own writes: the old token stops working at once, the settings are read again.
      const reissued = await sources.setTokenHash(id, 'hash-b');
      const afterReissue = { old: await sources.idForTokenHash('hash-x'), now: await sources.idForTokenHash('hash-b') };
      await sources.setFormat(id, 'alertmanager');
      const format = (await sources.settings(id))?.format;
      await sources.setMapping(id, MAPPING);
      const mapping = (await sources.settings(id))?.mapping;
      await sources.setMapping(id, null);
      const noMapping = (await sources.settings(id))?.mapping;
      await sources.setFromFile(id, { format: 'pipeline', autoResolveAfterMs: 60_000, mapping: MAPPING });
      const fromFile = { settings: await sources.settings(id), managedBy: await sources.managedBy(id) };
      await sources.setAutoResolve(id, null);
      const autoResolve = (await sources.get(id)).autoResolveAfterMs;
      return { first, cached, refreshed, reissued, afterReissue, format, mapping, noMapping, fromFile, autoResolve };
    });
    expect(answers).toEqual({
      first: { byHash: 1, settings: { name: 'alpha', format: 'native', secrets: [], mapping: null }, unknown: undefined },
      cached: { byHash: 1, newHash: 1, settings: { name: 'alpha', format: 'native', secrets: [], mapping: null } },
      refreshed: { byHash: undefined, newHash: 1, settings: { name: 'renamed', format: 'jobs', secrets: [], mapping: null } },
      reissued: { id: 1, name: 'renamed' },
      afterReissue: { old: undefined, now: 1 },
      format: 'alertmanager',
      mapping: MAPPING,
      noMapping: null,
      fromFile: { settings: { name: 'renamed', format: 'pipeline', secrets: [], mapping: MAPPING }, managedBy: 'file' },
      autoResolve: null,
    });
  });

  it('404s for every write of an unknown source', async () => {
    const answers = await onBoth(async ({ store: { sources } }) => ({
      setTokenHash: await failure(sources.setTokenHash(7, 'h')),
      delete: await failure(sources.delete(7)),
      setFormat: await failure(sources.setFormat(7, 'native')),
      setAutoResolve: await failure(sources.setAutoResolve(7, 1_000)),
      setMapping: await failure(sources.setMapping(7, null)),
    }));
    const nf = { status: 404, code: 'not_found', message: 'no source with id 7' };
    expect(answers).toEqual({ setTokenHash: nf, delete: nf, setFormat: nf, setAutoResolve: nf, setMapping: nf });
  });

  it('deletes a source with its secrets, idempotency keys and webhook ids (only its own), and its token stops working', async () => {
    const answers = await onBoth(async (b) => {
      const { sources, idempotency } = b.store;
      const a = await sources.create('alpha', 'hash-a', null);
      const c = await sources.create('gamma', 'hash-c', null);
      await sources.addSecret(a, 'whsec_a');
      for (const s of [a, c]) {
        await idempotency.saveKeyAnswer(s, 'k', 'fp', `{"source":${s}}`, T0);
        await idempotency.saveWebhookIdAnswer(s, 'm', T0 + 3_600_000, `{"source":${s}}`);
      }
      const cached = [await sources.idForTokenHash('hash-a'), (await sources.settings(a))?.secrets];
      await sources.delete(a);
      return {
        cached,
        after: [await sources.idForTokenHash('hash-a'), await sources.settings(a), await sources.exists(a)],
        keys: [await idempotency.key(a, 'k'), await idempotency.key(c, 'k')],
        ids: [await idempotency.webhookIdAnswer(a, 'm'), await idempotency.webhookIdAnswer(c, 'm')],
        again: await failure(sources.delete(a)),
        left: (await sources.list()).map((s) => s.name),
      };
    });
    expect(answers).toEqual({
      cached: [1, ['whsec_a']],
      after: [undefined, undefined, false],
      keys: [undefined, { response: '{"source":2}', bodyHash: 'fp' }],
      ids: [undefined, '{"source":2}'],
      again: { status: 404, code: 'not_found', message: 'no source with id 1' },
      left: ['gamma'],
    });
  });

  it('inside a transaction: a delete and its forgotten keys roll back together; a write through tx drops the store’s cache', async () => {
    const answers = await onBoth(async (b) => {
      const { sources, idempotency } = b.store;
      const a = await sources.create('alpha', 'hash-a', null);
      await idempotency.saveKeyAnswer(a, 'k', 'fp', '{}', T0);
      const boom = new Error('boom');
      const thrown = await b.store
        .transaction(async (tx) => {
          await tx.sources.delete(a);
          const inside = [await tx.sources.exists(a), await tx.idempotency.key(a, 'k')];
          expect(inside).toEqual([false, undefined]);
          throw boom;
        })
        .catch((err: unknown) => err);
      const rolledBack = { same: thrown === boom, exists: await sources.exists(a), key: await idempotency.key(a, 'k'), byHash: await sources.idForTokenHash('hash-a') };
      // The store's cache holds the settings; a write through a transaction's module drops them for the store too.
      const before = (await sources.settings(a))?.format;
      await b.store.transaction(async (tx) => tx.sources.setFormat(a, 'jobs'));
      const after = (await sources.settings(a))?.format;
      await b.store.transaction(async (tx) => tx.sources.setTokenHash(a, 'hash-b'));
      return { rolledBack, formats: [before, after], tokens: [await sources.idForTokenHash('hash-a'), await sources.idForTokenHash('hash-b')] };
    });
    expect(answers).toEqual({ rolledBack: { same: true, exists: true, key: { response: '{}', bodyHash: 'fp' }, byHash: 1 }, formats: ['native', 'jobs'], tokens: [undefined, 1] });
  });

  describe('on PostgreSQL only', () => {
    it('a lookup in flight when the cache is dropped does not cache what it read', async () => {
      const { sources } = onPg;
      const id = await sources.create('alpha', 'hash-a', null);
      const locker = await handle.pool.connect();
      try {
        // The lookup waits for the table while another session holds it; the cache is dropped meanwhile.
        await locker.query('BEGIN; LOCK TABLE sources IN ACCESS EXCLUSIVE MODE');
        const lookup = sources.idForTokenHash('hash-a');
        const settings = sources.settings(id);
        for (let i = 0; ; i++) {
          if (i === 200) throw new Error('the lookups never waited for the lock');
          // Polled on another connection: inside the locker's transaction, pg_stat_activity is one snapshot.
          const waiting = await handle.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
          if ((waiting.rows[0] as { n: number }).n >= 2) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        await sources.refresh();
        await locker.query('COMMIT');
        expect(await lookup).toBe(id);
        expect((await settings)?.name).toBe('alpha');
      } finally {
        locker.release();
      }
      // Had they been cached, these would still answer from memory.
      await handle.pool.query(`UPDATE sources SET token_hash = 'hash-x', name = 'renamed' WHERE id = ${id}`);
      expect(await sources.idForTokenHash('hash-a')).toBeUndefined();
      expect((await sources.settings(id))?.name).toBe('renamed');
    });

    it('two adds of one secret side by side: one is stored, the other a 409', async () => {
      const id = await onPg.sources.create('alpha', 'hash-a', null);
      const results = await Promise.all([failure(onPg.sources.addSecret(id, 'whsec_x')), failure(onPg.sources.addSecret(id, 'whsec_x'))]);
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results).toContainEqual({ status: 409, code: 'conflict', message: 'the source already has this secret' });
      expect((await onPg.sources.get(id)).secrets).toHaveLength(1);
    });
  });
});

describe('mutes', () => {
  const ALERTS: SeedAlert[] = [
    { id: 1, service: 'api', severity: 'P1', title: 'down', receivedAt: T0 },
    { id: 2, service: 'db', severity: 'P2', title: 'slow', receivedAt: T0 },
    { id: 3, service: 'db', severity: 'P2', title: 'slow', receivedAt: T0 },
  ];
  const alert = (over: Partial<MutableAlert> & { service?: string; title?: string; dedup_key?: string }): MutableAlert => ({
    sourceId: over.sourceId ?? 1,
    input: { service: over.service ?? 'api', title: over.title ?? 'down', ...(over.dedup_key === undefined ? {} : { dedup_key: over.dedup_key }) },
    ...(over.incident ? { incident: over.incident } : {}),
  });
  /** Which compiled mutes match each probe alert: the cache compared as data (its matchers are functions). */
  const PROBES: MutableAlert[] = [
    alert({}),
    alert({ service: 'API-gateway', title: 'x' }),
    alert({ dedup_key: 'k1' }),
    alert({ dedup_key: 'k1', sourceId: 2 }),
    alert({ incident: { key: 'grp' } }),
    alert({ incident: { key: 'grp' }, sourceId: 2 }),
    alert({ service: 'db', title: 'slow' }),
  ];
  const compiled = (mutes: Common['mutes'], now: number, wall = now) =>
    mutes.active(now, wall).map((m) => ({ id: m.id, expiresAt: m.expiresAt, routeId: m.routeId, window: m.inForce !== undefined, matches: m.matches === null ? null : PROBES.map((p) => m.matches!(p)) }));

  it('creates mutes of every kind (recording a mute made from a card on its alert), lists, gets and compiles them', async () => {
    const answers = await onBoth(async (b) => {
      const { mutes } = b.store;
      await b.seedAlerts(ALERTS);
      const now = Date.now();
      const glob = await mutes.create({ service: 'api*', routeId: null, dedupKey: null, reason: 'deploy' }, 30, ADMIN, now);
      const card = await mutes.create({ service: 'db', title: 'slow', routeId: null, dedupKey: null, reason: 'noisy', alertId: 2 }, 60, ALICE, now);
      const key = await mutes.create({ service: null, routeId: null, dedupKey: 'k1', sourceId: 1, reason: null }, 10, ADMIN, now);
      const anySource = await mutes.create({ service: null, routeId: null, dedupKey: 'k1', reason: null }, 10, ADMIN, now);
      const incident = await mutes.create({ service: null, routeId: null, dedupKey: null, incidentKey: 'grp', sourceId: 1, reason: null, alertId: 1 }, 10, ALICE, now);
      const route = await mutes.create({ service: null, routeId: 5, dedupKey: null, reason: 'route' }, 5, ADMIN, now);
      const rows = [glob, card, key, anySource, incident, route];
      return {
        rows: rows.map((r) => ({ ...r, createdAt: r.createdAt - now, expiresAt: r.expiresAt - now })),
        list: (await mutes.list()).map((m) => m.id),
        activeNow: (await mutes.list(now)).map((m) => m.id),
        activeIn20m: (await mutes.list(now + 20 * 60_000)).map((m) => m.id),
        get: (await mutes.get(card.id)).reason,
        missing: await failure(mutes.get(99)),
        compiled: compiled(mutes, now).map((c) => ({ ...c, expiresAt: c.expiresAt - now })),
        in20m: compiled(mutes, now + 20 * 60_000).map((c) => c.id),
        inForce: [mutes.inForce(route, now), mutes.inForce(route, now + 5 * 60_000)],
        actions: [(await b.actionsOf(1)).map(({ at, ...a }) => ({ ...a, at: at - now })), (await b.actionsOf(2)).map(({ at, ...a }) => ({ ...a, at: at - now })), await b.actionsOf(3)],
      };
    });
    const blank = { title: null, routeId: null, dedupKey: null, incidentKey: null, sourceId: null, alertId: null, endedAt: null, managedBy: null, configName: null, startsAt: null, recurCron: null, recurMs: null, recurTimezone: null, createdAt: 0 };
    expect(answers.rows).toEqual([
      { ...blank, id: 1, service: 'api*', reason: 'deploy', createdBy: 'root', expiresAt: 30 * 60_000 },
      { ...blank, id: 2, service: 'db', title: 'slow', reason: 'noisy', alertId: 2, createdBy: 'alice', expiresAt: 60 * 60_000 },
      { ...blank, id: 3, service: null, dedupKey: 'k1', sourceId: 1, reason: null, createdBy: 'root', expiresAt: 10 * 60_000 },
      { ...blank, id: 4, service: null, dedupKey: 'k1', reason: null, createdBy: 'root', expiresAt: 10 * 60_000 },
      { ...blank, id: 5, service: null, incidentKey: 'grp', sourceId: 1, reason: null, alertId: 1, createdBy: 'alice', expiresAt: 10 * 60_000 },
      { ...blank, id: 6, service: null, routeId: 5, reason: 'route', createdBy: 'root', expiresAt: 5 * 60_000 },
    ]);
    expect(answers.list).toEqual([1, 2, 3, 4, 5, 6]);
    expect(answers.activeNow).toEqual([1, 2, 3, 4, 5, 6]);
    expect(answers.activeIn20m).toEqual([1, 2]);
    expect(answers.get).toBe('noisy');
    expect(answers.missing).toEqual({ status: 404, code: 'not_found', message: 'no mute with id 99' });
    expect(answers.compiled).toEqual([
      // PROBES: api/down, API-gateway/x, dedup k1 (source 1), dedup k1 (source 2), incident grp (1), incident grp (2), db/slow
      { id: 1, expiresAt: 30 * 60_000, routeId: null, window: false, matches: [true, true, true, true, true, true, false] },
      { id: 2, expiresAt: 60 * 60_000, routeId: null, window: false, matches: [false, false, false, false, false, false, true] },
      { id: 3, expiresAt: 10 * 60_000, routeId: null, window: false, matches: [false, false, true, false, false, false, false] },
      { id: 4, expiresAt: 10 * 60_000, routeId: null, window: false, matches: [false, false, true, true, false, false, false] },
      { id: 5, expiresAt: 10 * 60_000, routeId: null, window: false, matches: [false, false, false, false, true, false, false] },
      { id: 6, expiresAt: 5 * 60_000, routeId: 5, window: false, matches: null },
    ]);
    expect(answers.in20m).toEqual([1, 2]);
    expect(answers.inForce).toEqual([true, false]);
    expect(answers.actions).toEqual([
      [{ id: 2, kind: 'mute', actorKind: 'discord', actorName: 'alice', reason: null, at: 0 }],
      [{ id: 1, kind: 'mute', actorKind: 'discord', actorName: 'alice', reason: 'noisy', at: 0 }],
      [],
    ]);
  });

  it('ends a mute in force (recording an unmute on its card’s alert) and returns it as it was; 404 when none is in force', async () => {
    const answers = await onBoth(async (b) => {
      const { mutes } = b.store;
      await b.seedAlerts(ALERTS);
      const now = Date.now();
      const card = await mutes.create({ service: 'db', title: 'slow', routeId: null, dedupKey: null, reason: 'noisy', alertId: 2 }, 60, ALICE, now);
      const plain = await mutes.create({ service: 'api', routeId: null, dedupKey: null, reason: null }, 1, ADMIN, now);
      const before = compiled(mutes, now).map((m) => m.id);
      const ended = await mutes.end(card.id, ADMIN, now + 1_000);
      const after = compiled(mutes, now).map((m) => m.id);
      return {
        ended: { id: ended.id, endedAt: ended.endedAt },
        stored: (await mutes.get(card.id)).endedAt! - now,
        before,
        after,
        again: await failure(mutes.end(card.id, ADMIN, now + 2_000)),
        expired: await failure(mutes.end(plain.id, ADMIN, now + 60_000)),
        unknown: await failure(mutes.end(99, ADMIN, now)),
        plainEnded: (await mutes.end(plain.id, ADMIN, now + 30_000)).id,
        actions: (await b.actionsOf(2)).map((a) => [a.kind, a.actorName, a.reason, a.at - now]),
        listActive: (await mutes.list(now)).map((m) => m.id),
      };
    });
    expect(answers).toEqual({
      ended: { id: 1, endedAt: null },
      stored: 1_000,
      before: [1, 2],
      after: [2],
      again: { status: 404, code: 'not_found', message: 'no mute in force with id 1' },
      expired: { status: 404, code: 'not_found', message: 'no mute in force with id 2' },
      unknown: { status: 404, code: 'not_found', message: 'no mute in force with id 99' },
      plainEnded: 2,
      actions: [
        ['mute', 'alice', 'noisy', 0],
        ['unmute', 'root', null, 1_000],
      ],
      listActive: [],
    });
  });

  it('maintenance windows: created, updated and ended from the file, listed, in force only while open', async () => {
    // Times ahead of the clock: the cache (re-read at Date.now()) keeps only mutes not yet expired.
    const start = Date.UTC(2030, 0, 1);
    const now = Date.now();
    const once: NewWindow = { service: 'api', routeId: null, dedupKey: null, reason: 'upgrade', configName: 'upgrade', schedule: { kind: 'once', startsAt: start, endsAt: start + 3_600_000 } };
    const nightly: NewWindow = { service: null, routeId: 3, dedupKey: null, reason: 'backups', configName: 'nightly', schedule: { kind: 'recurring', cron: '0 2 * * *', timezone: 'UTC', durationMs: 1_800_000 } };
    const answers = await onBoth(async (b) => {
      const { mutes } = b.store;
      const w1 = await mutes.createWindow(once, T0);
      const w2 = await mutes.createWindow(nightly, T0);
      const other = await mutes.create({ service: 'x', routeId: null, dedupKey: null, reason: null }, 10, ADMIN, now);
      const ids = (wall: number) => compiled(mutes, now, wall).map((m) => m.id);
      const at2am = Date.UTC(2025, 11, 1, 2, 10);
      const open = { before: ids(start - 1), during: ids(start + 1), nightly: ids(at2am), noon: ids(at2am + 10 * 3_600_000) };
      const inForce = [mutes.inForce(w1, start - 1), mutes.inForce(w1, start + 1), mutes.inForce(w2, at2am), mutes.inForce(w2, at2am + 3_600_000)];
      await mutes.updateWindow(w1.id, { ...once, service: 'db', reason: 'longer', schedule: { kind: 'once', startsAt: start, endsAt: start + 7_200_000 } });
      const updated = await mutes.get(w1.id);
      const windows = await mutes.windows();
      await mutes.endWindow(w2.id, T0 + 5);
      return {
        rows: [w1, w2].map(({ createdAt: _, ...r }) => r),
        createdAt: [w1.createdAt, w2.createdAt],
        other: other.managedBy,
        open,
        inForce,
        updated: { service: updated.service, reason: updated.reason, expiresAt: updated.expiresAt, startsAt: updated.startsAt },
        windows: windows.map((w) => w.configName),
        afterEnd: { windows: (await mutes.windows()).map((w) => w.configName), ended: (await mutes.get(w2.id)).endedAt, nightly: ids(at2am) },
      };
    });
    expect(answers.rows).toEqual([
      { id: 1, service: 'api', title: null, routeId: null, dedupKey: null, incidentKey: null, sourceId: null, reason: 'upgrade', alertId: null, createdBy: 'herald.yaml', expiresAt: start + 3_600_000, endedAt: null, managedBy: 'file', configName: 'upgrade', startsAt: start, recurCron: null, recurMs: null, recurTimezone: null },
      { id: 2, service: null, title: null, routeId: 3, dedupKey: null, incidentKey: null, sourceId: null, reason: 'backups', alertId: null, createdBy: 'herald.yaml', expiresAt: 253_402_300_799_000, endedAt: null, managedBy: 'file', configName: 'nightly', startsAt: null, recurCron: '0 2 * * *', recurMs: 1_800_000, recurTimezone: 'UTC' },
    ]);
    expect(answers.createdAt).toEqual([T0, T0]);
    expect(answers.other).toBeNull();
    expect(answers.open).toEqual({ before: [3], during: [1, 3], nightly: [2, 3], noon: [3] });
    expect(answers.inForce).toEqual([false, true, true, false]);
    expect(answers.updated).toEqual({ service: 'db', reason: 'longer', expiresAt: start + 7_200_000, startsAt: start });
    expect(answers.windows).toEqual(['upgrade', 'nightly']);
    expect(answers.afterEnd).toEqual({ windows: ['upgrade'], ended: T0 + 5, nightly: [3] });
  });

  it('counts the alerts each mute silenced, all or only some mutes', async () => {
    const answers = await onBoth(async (b) => {
      const { mutes } = b.store;
      const now = Date.now();
      const m1 = await mutes.create({ service: 'a', routeId: null, dedupKey: null, reason: null }, 10, ADMIN, now);
      const m2 = await mutes.create({ service: 'b', routeId: null, dedupKey: null, reason: null }, 10, ADMIN, now);
      await b.seedAlerts([
        { id: 1, service: 'a', severity: 'P1', title: 't', receivedAt: T0, mutedByMuteId: m1.id },
        { id: 2, service: 'a', severity: 'P1', title: 't', receivedAt: T0, mutedByMuteId: m1.id },
        { id: 3, service: 'b', severity: 'P1', title: 't', receivedAt: T0, mutedByMuteId: m2.id },
        { id: 4, service: 'c', severity: 'P1', title: 't', receivedAt: T0 },
      ]);
      return {
        all: [...(await mutes.mutedCounts()).entries()].sort((x, y) => x[0] - y[0]),
        some: [...(await mutes.mutedCounts([m2.id, 99])).entries()],
        none: [...(await mutes.mutedCounts([])).entries()],
      };
    });
    expect(answers).toEqual({
      all: [
        [1, 2],
        [2, 1],
      ],
      some: [[2, 1]],
      none: [],
    });
  });

  it('refresh(now) compiles only what is in force then; a change behind its back is seen after refresh', async () => {
    const answers = await onBoth(async (b) => {
      const { mutes } = b.store;
      const now = Date.now();
      await mutes.create({ service: 'a', routeId: null, dedupKey: null, reason: null }, 10, ADMIN, now);
      await mutes.create({ service: 'b', routeId: null, dedupKey: null, reason: null }, 60, ADMIN, now);
      const ids = () => compiled(mutes, now).map((m) => m.id);
      await b.exec(`UPDATE mutes SET ended_at = ${now} WHERE id = 2`);
      const cached = ids();
      await mutes.refresh();
      const refreshed = ids();
      await b.exec(`UPDATE mutes SET ended_at = NULL WHERE id = 2`);
      await mutes.refresh(now + 30 * 60_000);
      return { cached, refreshed, later: compiled(mutes, now + 30 * 60_000).map((m) => m.id), atNow: ids() };
    });
    expect(answers).toEqual({ cached: [1, 2], refreshed: [1], later: [2], atNow: [2] });
  });

  it('inside a transaction: a create and its recorded action roll back together; the cache is the store’s, seen at once', async () => {
    const answers = await onBoth(async (b) => {
      const { mutes } = b.store;
      await b.seedAlerts(ALERTS);
      const now = Date.now();
      const committed = await b.store.transaction(async (tx) => {
        const m = await tx.mutes.create({ service: 'api', routeId: null, dedupKey: null, reason: 'r', alertId: 1 }, 10, ALICE, now);
        return { id: m.id, seenByStore: compiled(mutes, now).map((c) => c.id) };
      });
      const boom = new Error('boom');
      const thrown = await b.store
        .transaction(async (tx) => {
          await tx.mutes.end(committed.id, ADMIN, now + 1);
          await tx.mutes.create({ service: 'db', routeId: null, dedupKey: null, reason: null, alertId: 2 }, 10, ALICE, now);
          throw boom;
        })
        .catch((err: unknown) => err);
      // As on SQLite, a cache refreshed inside a transaction that rolls back is refreshed again by the caller.
      await mutes.refresh();
      return {
        committed,
        same: thrown === boom,
        list: (await mutes.list()).map((m) => [m.id, m.endedAt]),
        compiled: compiled(mutes, now).map((c) => c.id),
        actions: [(await b.actionsOf(1)).map((a) => a.kind), (await b.actionsOf(2)).map((a) => a.kind)],
      };
    });
    expect(answers).toEqual({ committed: { id: 1, seenByStore: [1] }, same: true, list: [[1, null]], compiled: [1], actions: [['mute'], []] });
  });

  describe('on PostgreSQL only', () => {
    it('two ends of one mute side by side: one ends it (one unmute recorded), the other is a 404', async () => {
      await backends[1]!.seedAlerts(ALERTS);
      const now = Date.now();
      const m = await onPg.mutes.create({ service: 'api', routeId: null, dedupKey: null, reason: null, alertId: 1 }, 10, ALICE, now);
      const results = await Promise.all([failure(onPg.mutes.end(m.id, ADMIN, now + 1)), failure(onPg.mutes.end(m.id, ADMIN, now + 2))]);
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results).toContainEqual({ status: 404, code: 'not_found', message: `no mute in force with id ${m.id}` });
      expect((await backends[1]!.actionsOf(1)).map((a) => a.kind)).toEqual(['mute', 'unmute']);
    });

    it('a re-read that returns after a later-started one does not overwrite the cache', async () => {
      const now = Date.now();
      await onPg.mutes.create({ service: 'a', routeId: null, dedupKey: null, reason: null }, 10, ADMIN, now);
      const cache = muteCache();
      const locker = await handle.pool.connect();
      try {
        await locker.query('BEGIN; LOCK TABLE mutes IN ACCESS EXCLUSIVE MODE');
        // Two modules sharing one cache: one over the pool, which waits for the lock; one over the session that holds it.
        const overPool = new PgMuteStore(handle.db, cache);
        const overLocker = new PgMuteStore(drizzle(locker, { schema: pgSchema }), cache);
        // Started first, at a time past the mute's expiry (it would compile nothing), and answered last.
        const stale = overPool.refresh(now + 3_600_000);
        for (let i = 0; ; i++) {
          if (i === 200) throw new Error('the re-read never waited for the lock');
          const waiting = await handle.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
          if ((waiting.rows[0] as { n: number }).n >= 1) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        await overLocker.refresh(now);
        expect(overPool.active(now).map((m) => m.id)).toEqual([1]);
        await locker.query('COMMIT');
        await stale;
      } finally {
        locker.release();
      }
      expect(cache.compiled.map((m) => m.id)).toEqual([1]);
    });
  });
});

