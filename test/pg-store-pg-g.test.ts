import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../src/store/delivery-rows.js';
import type { DigestStore } from '../src/store/digests.js';
import { openStore, type Store } from '../src/store/index.js';
import type { MessageOps } from '../src/store/message-ops.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL message operations and digests modules (src/store/pg/message-ops.ts, pg/digests.ts) against a real
 * PostgreSQL database, and the same scenarios against the SQLite modules on a file: one behaviour, two backends.
 * Each scenario runs on both, asserts what it expects of each, and that both answered the same
 * (test/pg-store.test.ts's style). Neither module throws a ServiceError (no 404 or 409 to compare).
 */

/** What both backends offer for these modules: the PostgreSQL ones lack the SQLite-only twins. */
interface Common {
  readonly messageOps: Pick<MessageOps, Exclude<keyof MessageOps, 'enqueueMessageSync' | 'reviveDeadSync'>>;
  readonly digests: Pick<DigestStore, keyof DigestStore>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

type Severity = 'P0' | 'P1' | 'P2' | 'P3';

/** Rows of other modules' tables (not ported here), written the same on both, with their ids. */
interface Seed {
  channels?: { id: number; name: string; discordChannelId: string; kind?: 'text' | 'forum' }[];
  webhooks?: { id: number; channelId: number; discordWebhookId: string; token: string; owner?: 'app' | 'external'; goneAt?: number }[];
  incidents?: { id: number; sourceId: number | null; key: string; title: string; createdAt: number }[];
  alerts?: {
    id: number; service: string; severity: Severity; title: string; receivedAt: number; incidentId?: number; changedAt?: number; occurrences?: number;
    acknowledgedAt?: number; resolvedAt?: number; retractedAt?: number; mutedByMuteId?: number;
  }[];
  mutes?: { id: number; incidentKey?: string; sourceId?: number | null; alertId?: number; createdBy: string; createdAt: number; expiresAt: number; endedAt?: number }[];
  deliveries?: {
    id: number; alertId: number; channelId: number; priority: number; sortKey: number; availableAt: number; createdAt: number;
    state?: 'pending' | 'leased' | 'sent' | 'dead' | 'cancelled' | 'digest'; webhookId?: number; discordMessageId?: string; note?: 'repeat' | 'ack'; stormId?: number; mention?: string;
  }[];
  deadLetters?: { deliveryId: number; reason: string; createdAt: number }[];
}
const SEEDED = ['channels', 'webhooks', 'incidents', 'alerts', 'mutes', 'deliveries', 'deadLetters'] as const;

interface OpRow {
  id: number; channelId: number; webhookId: number | null; discordMessageId: string; deliveryId: number; purpose: string; via: string; state: string;
  availableAt: number; leaseUntil: number | null; attempts: number; lastError: string | null; outcome: string | null; createdAt: number; doneAt: number | null;
}

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seed(rows: Seed): Promise<void>;
  /** The message_ops rows as stored, by id. */
  ops(): Promise<OpRow[]>;
  /** The attempts and dead letters rows as stored, by id (without their ids). */
  attempts(): Promise<Record<string, unknown>[]>;
  deadLetters(): Promise<Record<string, unknown>[]>;
  clear(): Promise<void>;
}

const pg = pgDatabase();
let handle: PgHandle;
let dir: string;
let lite: Store;
let onPg: PgStore;
const backends: Backend[] = [];

/** Every table these tests write, children first. */
const TABLES = ['attempts', 'dead_letters', 'message_ops', 'deliveries', 'digest_settings', 'mutes', 'alerts', 'incidents', 'webhooks', 'channels'] as const;

const withoutId = <R extends { id: number }>(rows: R[]) => rows.map(({ id: _id, ...rest }) => rest);

beforeAll(async () => {
  handle = await openPg(pg.url, { poolSize: 4 });
  onPg = pgStore(handle.db);
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-g-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  const l = liteSchema;
  const p = pgSchema;
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      seed: async (s) => {
        for (const t of SEEDED) {
          const rows = s[t];
          if (rows) lite.db.insert(l[t]).values(rows as never).run();
        }
      },
      ops: async () => lite.db.select().from(l.messageOps).orderBy(asc(l.messageOps.id)).all(),
      attempts: async () => withoutId(lite.db.select().from(l.attempts).orderBy(asc(l.attempts.id)).all()),
      deadLetters: async () => withoutId(lite.db.select().from(l.deadLetters).orderBy(asc(l.deadLetters.id)).all()),
      clear: async () => {
        for (const t of TABLES) lite.db.run(sql.raw(`delete from ${t}`));
        // Ids start again at 1, as PostgreSQL's identities do after the truncate below.
        lite.db.run(sql`delete from sqlite_sequence`);
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      seed: async (s) => {
        for (const t of SEEDED) {
          const rows = s[t];
          if (rows) await handle.db.insert(p[t]).values(rows as never);
        }
        // Rows inserted with their ids leave an identity's sequence behind (SQLite's next id is past the largest).
        for (const t of ['channels', 'webhooks', 'incidents', 'alerts', 'mutes', 'deliveries'] as const) {
          if (s[t]) await handle.db.execute(sql.raw(`select setval(pg_get_serial_sequence('${t}', 'id'), (select max(id) from ${t}))`));
        }
      },
      ops: async () => handle.db.select().from(p.messageOps).orderBy(asc(p.messageOps.id)),
      attempts: async () => withoutId(await handle.db.select().from(p.attempts).orderBy(asc(p.attempts.id))),
      deadLetters: async () => withoutId(await handle.db.select().from(p.deadLetters).orderBy(asc(p.deadLetters.id))),
      clear: async () => {
        await handle.db.execute(sql.raw(`truncate ${TABLES.join(', ')} restart identity cascade`));
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

/** What a call threw, comparable across backends. */
async function outcome<T>(p: Promise<T>): Promise<T | { other: string }> {
  try {
    return await p;
  } catch (err) {
    return { other: String(err) };
  }
}

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;

const alert = (id: number, extra: Partial<NonNullable<Seed['alerts']>[number]> = {}) => ({ id, service: 'api', severity: 'P2' as const, title: `alert ${id}`, receivedAt: T0, ...extra });
const sent = (id: number, alertId: number, channelId: number, messageId: string | undefined, extra: Partial<NonNullable<Seed['deliveries']>[number]> = {}) => ({
  id, alertId, channelId, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0, state: 'sent' as const, webhookId: channelId * 10 + 1,
  ...(messageId === undefined ? {} : { discordMessageId: messageId }), ...extra,
});

const BASE: Seed = {
  channels: [
    { id: 1, name: 'ops', discordChannelId: '1001' },
    { id: 2, name: 'db', discordChannelId: '1002', kind: 'forum' },
    { id: 3, name: 'quiet', discordChannelId: '1003' },
  ],
  webhooks: [
    { id: 11, channelId: 1, discordWebhookId: '2011', token: 't11', owner: 'app' },
    { id: 21, channelId: 2, discordWebhookId: '2021', token: 't21', goneAt: T0 },
    { id: 31, channelId: 3, discordWebhookId: '2031', token: 't31' },
  ],
};

const attempt = (outcome: string, deliveryIds: number[] = [1]): AttemptRecord => ({ deliveryIds, webhookId: 11, at: T0 + 5, status: 200, latencyMs: 12, outcome });

describe('message operations', () => {
  it('enqueues a sync of every sent message of an alert once (first delivery, coalescing with a pending one, skipping one)', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({
        ...BASE,
        alerts: [alert(1), alert(2)],
        deliveries: [
          sent(1, 1, 1, 'm1'),
          sent(2, 1, 1, 'm1', { webhookId: 11 }),
          sent(3, 1, 2, 'm2'),
          sent(4, 1, 1, 'm3', { note: 'repeat' }),
          sent(5, 1, 1, undefined),
          sent(6, 1, 3, 'm4', { state: 'pending' }),
          sent(7, 2, 3, 'm5'),
          sent(8, 1, 3, 'm0'),
        ],
      });
      const m = b.store.messageOps;
      const first = await m.enqueueForAlert(1, 'ack', T0 + 1);
      const again = await m.enqueueForAlert(1, 'resolve', T0 + 2);
      const skipped = await m.enqueueForAlert(2, 'sync', T0 + 3, 'm5');
      const other = await m.enqueueForAlert(2, 'sync', T0 + 3);
      const none = await m.enqueueForAlert(99, 'sync', T0 + 3);
      return { first: { channels: [...first.channels], messages: first.messages }, again: { channels: [...again.channels], messages: again.messages }, skipped: [...skipped.channels], other: [...other.channels], none: [...none.channels], ops: await b.ops() };
    });
    // Messages in SQLite's group order (by message id): m0 (channel 3), m1, m2; the message with no id counts, gets nothing.
    expect(answers.first).toEqual({ channels: [3, 1, 2], messages: 4 });
    expect(answers.again).toEqual({ channels: [], messages: 4 });
    expect(answers.skipped).toEqual([]);
    expect(answers.other).toEqual([3]);
    expect(answers.none).toEqual([]);
    expect(answers.ops.map((o) => [o.discordMessageId, o.deliveryId, o.channelId, o.webhookId, o.purpose, o.via, o.state, o.availableAt, o.createdAt])).toEqual([
      ['m0', 8, 3, 31, 'ack', 'webhook', 'pending', T0 + 1, T0 + 1],
      ['m1', 1, 1, 11, 'ack', 'webhook', 'pending', T0 + 1, T0 + 1],
      ['m2', 3, 2, 21, 'ack', 'webhook', 'pending', T0 + 1, T0 + 1],
      ['m5', 7, 3, 31, 'sync', 'webhook', 'pending', T0 + 3, T0 + 3],
    ]);
  });

  it('enqueueMessage coalesces only with a pending webhook edit (not a mute-end, a bot operation, a leased one); thread starts', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1')] });
      const m = b.store.messageOps;
      const r: Record<string, unknown> = {};
      await m.enqueueThreadStart(1, 11, 'm1', 1, T0);
      r.afterThread = await m.enqueueMessage(1, 11, 'm1', 1, 'sync', T0 + 1);
      r.coalesced = await m.enqueueMessage(1, null, 'm1', 1, 'resolve', T0 + 2);
      await m.lease(2, T0 + 100);
      r.afterLease = await m.enqueueMessage(1, null, 'm1', 1, 'resolve', T0 + 3);
      return { ...r, ops: await b.ops() };
    });
    expect(answers).toMatchObject({ afterThread: true, coalesced: false, afterLease: true });
    expect(answers.ops.map((o) => [o.id, o.purpose, o.via, o.state, o.webhookId, o.leaseUntil])).toEqual([
      [1, 'thread', 'bot', 'pending', 11, null],
      [2, 'sync', 'webhook', 'leased', 11, T0 + 100],
      [3, 'resolve', 'webhook', 'pending', null, null],
    ]);
  });

  it('enqueues for an incident (its cards, not compact or note ones; a mute-end per message at a time) and a mute-end after a send while muted', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({
        ...BASE,
        incidents: [
          { id: 1, sourceId: null, key: 'db-down', title: 'db down', createdAt: T0 },
          { id: 2, sourceId: null, key: 'calm', title: 'calm', createdAt: T0 },
        ],
        alerts: [alert(1, { incidentId: 1 }), alert(2, { incidentId: 1 }), alert(3), alert(4, { incidentId: 2 })],
        mutes: [
          { id: 1, incidentKey: 'db-down', sourceId: null, createdBy: 'ann', createdAt: T0, expiresAt: T0 + 1_000 },
          { id: 2, incidentKey: 'db-down', sourceId: null, createdBy: 'ann', createdAt: T0, expiresAt: T0 + 5_000, endedAt: T0 + 10 },
          { id: 3, incidentKey: 'calm', sourceId: 7, createdBy: 'ann', createdAt: T0, expiresAt: T0 + 5_000 },
        ],
        deliveries: [
          sent(1, 1, 1, 'c1'),
          sent(2, 2, 1, 'c1'),
          sent(3, 2, 2, 'c2'),
          sent(4, 1, 3, 's1', { stormId: 9 }),
          sent(5, 2, 3, 'n1', { note: 'ack' }),
          sent(6, 3, 3, 'x1'),
          sent(7, 4, 3, 'k1'),
        ],
      });
      const m = b.store.messageOps;
      const sync = [...(await m.enqueueForIncident(1, T0 + 1, { skipMessageId: 'c2' }))];
      const again = [...(await m.enqueueForIncident(1, T0 + 2))];
      const at = [...(await m.enqueueForIncident(1, T0 + 3, { at: T0 + 1_001 }))];
      const none = [...(await m.enqueueForIncident(99, T0 + 3))];
      const mutedEnd = await m.muteEndIfMuted(1, 3, 31, 'z1', 6, T0 + 4);
      const already = await m.muteEndIfMuted(1, 1, 11, 'c1', 1, T0 + 4);
      const otherSource = await m.muteEndIfMuted(2, 3, 31, 'k1', 7, T0 + 4);
      const expired = await m.muteEndIfMuted(1, 3, 31, 'z2', 6, T0 + 2_000);
      const unknown = await m.muteEndIfMuted(99, 3, 31, 'z3', 6, T0);
      return { sync, again, at, none, mutedEnd, already, otherSource, expired, unknown, ops: await b.ops() };
    });
    expect(answers).toMatchObject({ sync: [1], again: [2], at: [1, 2], none: [], mutedEnd: true, already: false, otherSource: false, expired: false, unknown: false });
    expect(answers.ops.map((o) => [o.discordMessageId, o.deliveryId, o.purpose, o.availableAt, o.createdAt])).toEqual([
      ['c1', 1, 'sync', T0 + 1, T0 + 1],
      ['c2', 3, 'sync', T0 + 2, T0 + 2],
      ['c1', 1, 'mute-end', T0 + 1_001, T0 + 3],
      ['c2', 3, 'mute-end', T0 + 1_001, T0 + 3],
      ['z1', 6, 'mute-end', T0 + 1_001, T0 + 4],
    ]);
  });

  it('lists ready operations (with their webhook, by id, up to the limit), leases, counts pending and the next time', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1'), sent(2, 1, 2, 'm2')] });
      const m = b.store.messageOps;
      await m.enqueueMessage(1, 11, 'm1', 1, 'ack', T0);
      await m.enqueueMessage(1, null, 'm9', 1, 'sync', T0 + 50);
      await m.enqueueThreadStart(1, 11, 'm1', 1, T0 + 10);
      await m.enqueueMessage(2, 21, 'm2', 2, 'ack', T0 + 5);
      await m.enqueueMessage(1, 11, 'm8', 1, 'sync', T0 + 500);
      const r = {
        ready: await m.ready(1, T0 + 100, 10),
        limited: (await m.ready(1, T0 + 100, 2)).map((o) => o.id),
        forum: await m.ready(2, T0 + 100, 10),
        early: await m.ready(1, T0 - 1, 10),
        next: await m.nextAvailableAt(1),
        nextNone: await m.nextAvailableAt(3),
        pending: [...(await m.pendingByChannel())],
      };
      await m.lease(1, T0 + 30_000);
      await m.lease(3, T0 + 30_000);
      return {
        ...r,
        afterLease: (await m.ready(1, T0 + 100, 10)).map((o) => o.id),
        nextAfter: await m.nextAvailableAt(1),
        pendingAfter: [...(await m.pendingByChannel())],
        ops: (await b.ops()).map((o) => [o.id, o.state, o.leaseUntil]),
      };
    });
    expect(answers.ready).toEqual([
      { id: 1, channelId: 1, discordChannelId: '1001', discordMessageId: 'm1', channelKind: 'text', deliveryId: 1, purpose: 'ack', via: 'webhook', attempts: 0, createdAt: T0, webhook: { id: 11, discordWebhookId: '2011', token: 't11', owner: 'app', gone: false } },
      { id: 2, channelId: 1, discordChannelId: '1001', discordMessageId: 'm9', channelKind: 'text', deliveryId: 1, purpose: 'sync', via: 'webhook', attempts: 0, createdAt: T0 + 50, webhook: null },
      { id: 3, channelId: 1, discordChannelId: '1001', discordMessageId: 'm1', channelKind: 'text', deliveryId: 1, purpose: 'thread', via: 'bot', attempts: 0, createdAt: T0 + 10, webhook: { id: 11, discordWebhookId: '2011', token: 't11', owner: 'app', gone: false } },
    ]);
    expect(answers.limited).toEqual([1, 2]);
    expect(answers.forum).toEqual([
      { id: 4, channelId: 2, discordChannelId: '1002', discordMessageId: 'm2', channelKind: 'forum', deliveryId: 2, purpose: 'ack', via: 'webhook', attempts: 0, createdAt: T0 + 5, webhook: { id: 21, discordWebhookId: '2021', token: 't21', owner: 'external', gone: true } },
    ]);
    expect(answers.early).toEqual([]);
    expect(answers).toMatchObject({ next: T0, nextNone: null, pending: [[1, 4], [2, 1]], afterLease: [2], nextAfter: T0 + 50, pendingAfter: [[1, 4], [2, 1]] });
    expect(answers.ops).toEqual([[1, 'leased', T0 + 30_000], [2, 'pending', null], [3, 'leased', T0 + 30_000], [4, 'pending', null], [5, 'pending', null]]);
  });

  it('records outcomes: done (with its attempt and `also`), retry (counted or not), to the bot, dead (a dead letter), revived', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1'), sent(2, 1, 1, 'm2'), sent(3, 1, 1, 'm3'), sent(4, 1, 1, 'm4')] });
      const m = b.store.messageOps;
      for (const [i, id] of ['m1', 'm2', 'm3', 'm4'].entries()) await m.enqueueMessage(1, 11, id, i + 1, 'sync', T0);
      for (const id of [1, 2, 3, 4]) await m.lease(id, T0 + 30_000);
      let alsoRan = 0;
      await m.done(1, 'edited', T0 + 10, attempt('edited'), () => {
        alsoRan++;
      });
      await m.done(1, 'edited', T0 + 11);
      await m.retry(2, { availableAt: T0 + 1_000, countAttempt: true, error: 'HTTP 500', attempt: attempt('server_error', [2]) });
      await m.retry(2, { availableAt: T0 + 2_000, countAttempt: false });
      await m.toBot(3, T0 + 20, 'webhook gone', attempt('gone', [3]));
      await m.dead(4, 4, 'too many failures', '{"code":10008}', T0 + 30, attempt('dead', [4]));
      const revived = await m.reviveDead(4, T0 + 40);
      const notDead = await m.reviveDead(4, T0 + 50);
      const unknown = await m.reviveDead(99, T0 + 50);
      await m.toBot(2, T0 + 60, 'busy');
      return { alsoRan, revived, notDead, unknown, ops: await b.ops(), attempts: await b.attempts(), deadLetters: await b.deadLetters() };
    });
    expect(answers).toMatchObject({ alsoRan: 1, revived: 1, notDead: 0, unknown: 0 });
    expect(answers.ops.map(({ id, state, via, attempts, availableAt, leaseUntil, lastError, outcome, doneAt, createdAt }) => ({ id, state, via, attempts, availableAt, leaseUntil, lastError, outcome, doneAt, createdAt }))).toEqual([
      { id: 1, state: 'done', via: 'webhook', attempts: 0, availableAt: T0, leaseUntil: null, lastError: null, outcome: 'edited', doneAt: T0 + 11, createdAt: T0 },
      { id: 2, state: 'pending', via: 'bot', attempts: 0, availableAt: T0 + 60, leaseUntil: null, lastError: 'busy', outcome: null, doneAt: null, createdAt: T0 },
      { id: 3, state: 'pending', via: 'bot', attempts: 0, availableAt: T0 + 20, leaseUntil: null, lastError: 'webhook gone', outcome: null, doneAt: null, createdAt: T0 },
      { id: 4, state: 'pending', via: 'webhook', attempts: 0, availableAt: T0 + 40, leaseUntil: null, lastError: 'too many failures', outcome: 'dead', doneAt: null, createdAt: T0 + 40 },
    ]);
    expect(answers.attempts.map((a) => [a.deliveryId, a.opId, a.outcome, a.webhookId, a.at, a.status, a.latencyMs, a.error, a.rateLimitScope])).toEqual([
      [1, 1, 'edited', 11, T0 + 5, 200, 12, null, null],
      [2, 2, 'server_error', 11, T0 + 5, 200, 12, null, null],
      [3, 3, 'gone', 11, T0 + 5, 200, 12, null, null],
      [4, 4, 'dead', 11, T0 + 5, 200, 12, null, null],
    ]);
    expect(answers.deadLetters).toEqual([{ deliveryId: 4, opId: 4, reason: 'too many failures', discordError: '{"code":10008}', createdAt: T0 + 30, replayedAt: null }]);
  });

  it('retry counts an attempt only when told, and keeps the last error unless given one', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1')] });
      const m = b.store.messageOps;
      await m.enqueueMessage(1, 11, 'm1', 1, 'sync', T0);
      await m.retry(1, { availableAt: T0 + 1, countAttempt: true, error: 'e1' });
      const one = (await b.ops())[0]!;
      await m.retry(1, { availableAt: T0 + 2, countAttempt: false });
      const two = (await b.ops())[0]!;
      await m.dead(1, 1, 'gave up', null, T0 + 3);
      const dead = (await b.ops())[0]!;
      return { one: [one.attempts, one.lastError, one.availableAt], two: [two.attempts, two.lastError, two.availableAt], dead: [dead.state, dead.attempts], attempts: await b.attempts() };
    });
    expect(answers).toEqual({ one: [1, 'e1', T0 + 1], two: [1, 'e1', T0 + 2], dead: ['dead', 2], attempts: [] });
  });

  it('recovers every lease at start; reclaims expired leases of the given channels, not held ones', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1'), sent(2, 1, 2, 'm2'), sent(3, 1, 3, 'm3')] });
      const m = b.store.messageOps;
      await m.enqueueMessage(1, 11, 'm1', 1, 'sync', T0);
      await m.enqueueMessage(1, 11, 'm1b', 1, 'sync', T0);
      await m.enqueueMessage(2, 21, 'm2', 2, 'sync', T0);
      await m.enqueueMessage(3, 31, 'm3', 3, 'sync', T0);
      await m.lease(1, T0 + 10);
      await m.lease(2, T0 + 10);
      await m.lease(3, T0 + 10);
      await m.lease(4, T0 + 1_000);
      const noChannels = [...(await m.reclaimExpiredLeases(T0 + 100, [], new Set()))];
      const notYet = [...(await m.reclaimExpiredLeases(T0 + 5, [1, 2, 3], new Set()))];
      const reclaimed = [...(await m.reclaimExpiredLeases(T0 + 100, [1, 3], new Set([2])))].sort();
      const states = (await b.ops()).map((o) => [o.id, o.state, o.leaseUntil]);
      const recovered = await m.recoverLeases();
      const recoveredAgain = await m.recoverLeases();
      return { noChannels, notYet, reclaimed, states, recovered, recoveredAgain, after: (await b.ops()).map((o) => o.state) };
    });
    expect(answers).toEqual({
      noChannels: [],
      notYet: [],
      reclaimed: [1],
      states: [[1, 'pending', null], [2, 'leased', T0 + 10], [3, 'leased', T0 + 10], [4, 'leased', T0 + 1_000]],
      recovered: 3,
      recoveredAgain: 0,
      after: ['pending', 'pending', 'pending', 'pending'],
    });
  });

  it('the alerts of a message (each once, by delivery, with mention and mute), whether it is compact, and a sync when one changed after the send', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({
        ...BASE,
        alerts: [alert(1, { changedAt: T0 + 5 }), alert(2, { severity: 'P1' }), alert(3)],
        mutes: [{ id: 1, alertId: 2, createdBy: 'ann', createdAt: T0, expiresAt: 4_000_000_000_000 }],
        deliveries: [
          sent(1, 2, 1, 'm1', { mention: '@here' }),
          sent(2, 1, 1, 'm1'),
          sent(3, 2, 1, 'm1'),
          sent(4, 3, 1, 'm1', { state: 'cancelled' }),
          sent(5, 3, 1, 's1', { stormId: 4 }),
        ],
      });
      const m = b.store.messageOps;
      const shown = await m.alertsOf('m1');
      return {
        shown: shown.map((a) => [a.id, a.severity, a.mention, a.mutedUntil, a.changedAt, a.title, a.labels]),
        first: shown[0],
        none: await m.alertsOf('nope'),
        compact: await m.isCompact('s1'),
        notCompact: await m.isCompact('m1'),
        unchanged: await m.syncIfChanged([{ id: 1, changedAt: T0 + 5 }, { id: 2, changedAt: null }], 1, 11, 'm1', 2, T0 + 10),
        nothing: await m.syncIfChanged([], 1, 11, 'm1', 2, T0 + 10),
        changed: await m.syncIfChanged([{ id: 1, changedAt: null }], 1, 11, 'm1', 2, T0 + 10),
        gone: await m.syncIfChanged([{ id: 99, changedAt: T0 }], 1, 11, 'm1', 2, T0 + 11),
        ops: (await b.ops()).map((o) => [o.discordMessageId, o.deliveryId, o.purpose, o.availableAt]),
      };
    });
    expect(answers.shown).toEqual([
      [2, 'P1', '@here', 4_000_000_000_000, null, 'alert 2', null],
      [1, 'P2', null, null, T0 + 5, 'alert 1', null],
    ]);
    expect(answers.first).toMatchObject({ id: 2, service: 'api', status: 'firing', receivedAt: T0, occurrences: 1, incidentId: null });
    expect(answers).toMatchObject({ none: [], compact: true, notCompact: false, unchanged: false, nothing: false, changed: true, gone: false, ops: [['m1', 2, 'sync', T0 + 10]] });
  });

  it('inside a store transaction: its writes commit together, a throw rolls back the enqueues and the outcomes', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1'), sent(2, 1, 1, 'm2')] });
      const committed = await b.store.transaction(async (tx) => {
        const r = await tx.messageOps.enqueueForAlert(1, 'ack', T0);
        await tx.messageOps.done(1, 'edited', T0 + 1, attempt('edited'));
        return [...r.channels];
      });
      const rolledBack = await outcome(
        b.store.transaction(async (tx) => {
          await tx.messageOps.enqueueMessage(1, 11, 'm3', 1, 'sync', T0 + 2);
          await tx.messageOps.dead(2, 2, 'gave up', null, T0 + 2, attempt('dead', [2]));
          await tx.digests.save(1, { enabled: true, time: '09:00', timezone: 'UTC' });
          throw new Error('undo');
        }),
      );
      return { committed, rolledBack, ops: (await b.ops()).map((o) => [o.id, o.discordMessageId, o.state]), attempts: (await b.attempts()).length, deadLetters: await b.deadLetters(), digests: await b.store.digests.all() };
    });
    expect(answers).toEqual({ committed: [1], rolledBack: { other: 'Error: undo' }, ops: [[1, 'm1', 'done'], [2, 'm2', 'pending']], attempts: 1, deadLetters: [], digests: [] });
  });

  describe('on PostgreSQL only', () => {
    const seedOps = async () => {
      await backends[1]!.seed({ ...BASE, alerts: [alert(1)], deliveries: [sent(1, 1, 1, 'm1')] });
      for (let i = 0; i < 6; i++) await onPg.messageOps.enqueueMessage(1, 11, `m${i}`, 1, 'sync', T0);
    };

    it('two lanes at once, each reading ready operations and leasing them in its own transaction, lease different ones', async () => {
      await seedOps();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      // The first lane's transaction stays open (its rows locked) while the second reads and leases.
      const first = onPg.transaction(async (tx) => {
        const ops = await tx.messageOps.ready(1, T0, 4);
        for (const o of ops) await tx.messageOps.lease(o.id, T0 + 30_000);
        await held;
        return ops.map((o) => o.id);
      });
      await new Promise((r) => setTimeout(r, 200));
      const second = await onPg.transaction(async (tx) => {
        const ops = await tx.messageOps.ready(1, T0, 4);
        for (const o of ops) await tx.messageOps.lease(o.id, T0 + 60_000);
        return ops.map((o) => o.id);
      });
      release();
      expect(await first).toEqual([1, 2, 3, 4]);
      expect(second).toEqual([5, 6]);
      expect((await backends[1]!.ops()).map((o) => [o.id, o.state, o.leaseUntil])).toEqual([
        [1, 'leased', T0 + 30_000], [2, 'leased', T0 + 30_000], [3, 'leased', T0 + 30_000], [4, 'leased', T0 + 30_000], [5, 'leased', T0 + 60_000], [6, 'leased', T0 + 60_000],
      ]);
    });

    it('a lease of an operation another lane holds, or has leased, leaves it that lane’s', async () => {
      await seedOps();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = onPg.transaction(async (tx) => {
        await tx.messageOps.lease(1, T0 + 30_000);
        await held;
      });
      await new Promise((r) => setTimeout(r, 200));
      // Not waited for: the row is locked by the first lane's transaction.
      await onPg.messageOps.lease(1, T0 + 60_000);
      release();
      await first;
      await onPg.messageOps.lease(1, T0 + 90_000);
      expect((await backends[1]!.ops())[0]).toMatchObject({ id: 1, state: 'leased', leaseUntil: T0 + 30_000 });
    });

    it('a reclaim skips an expired lease whose outcome another transaction is writing', async () => {
      await seedOps();
      await onPg.messageOps.lease(1, T0 + 10);
      await onPg.messageOps.lease(2, T0 + 10);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const settling = onPg.transaction(async (tx) => {
        await tx.messageOps.done(1, 'edited', T0 + 20);
        await held;
      });
      await new Promise((r) => setTimeout(r, 200));
      const reclaimed = [...(await onPg.messageOps.reclaimExpiredLeases(T0 + 100, [1], new Set()))];
      release();
      await settling;
      expect(reclaimed).toEqual([1]);
      expect((await backends[1]!.ops()).slice(0, 2).map((o) => [o.id, o.state])).toEqual([[1, 'done'], [2, 'pending']]);
    });
  });
});

describe('digests', () => {
  it('saves, reads, lists (by channel), marks sent and deletes settings; onChange after each save and delete, a transaction’s too', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const d = b.store.digests;
      let changes = 0;
      d.onChange(() => changes++);
      await d.save(3, { enabled: true, time: '09:00', timezone: 'Europe/Paris' }, 'file');
      await d.save(1, { enabled: false, time: '18:30', timezone: 'UTC' });
      const afterSaves = changes;
      await d.save(3, { enabled: false, time: '10:00', timezone: 'UTC' });
      await d.markSent(1, T0);
      await d.markSent(99, T0);
      const strip = (r: { createdAt: number } | undefined) => {
        if (!r) return r;
        const { createdAt, ...rest } = r;
        expect(Math.abs(createdAt - Date.now())).toBeLessThan(60_000);
        return rest;
      };
      const read = { one: strip(await d.settings(1)), three: strip(await d.settings(3)), none: await d.settings(2), all: (await d.all()).map(strip) };
      const deleted = await d.delete(1);
      const again = await d.delete(1);
      const afterDeletes = changes;
      await b.store.transaction(async (tx) => tx.digests.save(2, { enabled: true, time: '07:00', timezone: 'UTC' }));
      return { afterSaves, ...read, deleted, again, afterDeletes, afterTx: changes, left: (await d.all()).map((r) => r.channelId) };
    });
    expect(answers).toEqual({
      afterSaves: 2,
      one: { channelId: 1, enabled: false, time: '18:30', timezone: 'UTC', lastSentAt: T0, managedBy: null },
      three: { channelId: 3, enabled: false, time: '10:00', timezone: 'UTC', lastSentAt: null, managedBy: null },
      none: undefined,
      all: [
        { channelId: 1, enabled: false, time: '18:30', timezone: 'UTC', lastSentAt: T0, managedBy: null },
        { channelId: 3, enabled: false, time: '10:00', timezone: 'UTC', lastSentAt: null, managedBy: null },
      ],
      deleted: true,
      again: false,
      afterDeletes: 4,
      afterTx: 5,
      left: [2, 3],
    });
  });

  it('reports a range: counts by service and severity, mean times, the noisiest, muted, digest-only and dead letters, for all or one channel', async () => {
    const H = 3_600_000;
    const answers = await onBoth(async (b) => {
      await b.seed({
        ...BASE,
        alerts: [
          alert(1, { service: 'db', severity: 'P1', title: 'slow', occurrences: 3, acknowledgedAt: T0 + 10_000, resolvedAt: T0 + 60_001 }),
          alert(2, { service: 'api', severity: 'P1', title: 'down', occurrences: 5, acknowledgedAt: T0 + 20_000 }),
          alert(3, { service: 'api', severity: 'P0', title: 'down', occurrences: 2, receivedAt: T0 + 1 }),
          alert(4, { service: 'Zed', title: 'z', occurrences: 5 }),
          alert(5, { service: 'api', title: 'gone', retractedAt: T0 + 5 }),
          alert(6, { service: 'api', title: 'never', occurrences: 0 }),
          alert(7, { service: 'api', title: 'muted', mutedByMuteId: 1 }),
          alert(8, { service: 'api', title: 'digest', receivedAt: T0 + 2 }),
          alert(9, { service: 'old', title: 'before', receivedAt: T0 - H, resolvedAt: T0 + 100 }),
          alert(10, { service: 'api', title: 'later', receivedAt: T0 + 2 * H }),
          alert(11, { service: 'db', title: 'b', occurrences: 1 }),
          alert(12, { service: 'db', title: 'a', occurrences: 1 }),
        ],
        deliveries: [
          sent(1, 1, 1, 'm1'),
          sent(2, 2, 2, 'm2'),
          sent(3, 3, 1, 'm3'),
          sent(4, 8, 1, undefined, { state: 'digest' }),
          sent(5, 9, 1, 'm5'),
          sent(6, 4, 2, 'm6'),
        ],
        deadLetters: [
          { deliveryId: 1, reason: 'r', createdAt: T0 + 5 },
          { deliveryId: 2, reason: 'r', createdAt: T0 + 5 },
          { deliveryId: 2, reason: 'r', createdAt: T0 + 2 * H },
        ],
      });
      const d = b.store.digests;
      return {
        all: await d.report({ from: T0, to: T0 + H }),
        one: await d.report({ from: T0, to: T0 + H, channelId: 1 }),
        empty: await d.report({ from: T0 + 5 * H, to: T0 + 6 * H, channelId: null }),
        inTx: await b.store.transaction((tx) => tx.digests.report({ from: T0, to: T0 + H, channelId: 2 })),
      };
    });
    expect(answers.all).toMatchObject({
      from: T0,
      to: T0 + H,
      channel_id: null,
      totals: { fired: 7, acknowledged: 2, resolved: 2 },
      mtta_ms: 15_000,
      mttr_ms: Math.round((60_001 + H + 100) / 2),
      muted: 1,
      digest_only: 1,
      dead_letters: 2,
    });
    expect(answers.all.by_service.map((r) => [r.service, r.severity, r.fired, r.acknowledged, r.resolved])).toEqual([
      ['Zed', 'P2', 1, 0, 0],
      ['api', 'P0', 1, 0, 0],
      ['api', 'P1', 1, 1, 0],
      ['api', 'P2', 1, 0, 0],
      ['db', 'P1', 1, 1, 1],
      ['db', 'P2', 2, 0, 0],
      ['old', 'P2', 0, 0, 1],
    ]);
    // Ties by count, then by name bytewise ('a' before 'b'; an upper case letter before any lower case one).
    expect(answers.all.noisiest.map((n) => [n.service, n.title, n.count])).toEqual([
      ['api', 'down', 7],
      ['Zed', 'z', 5],
      ['db', 'slow', 3],
      ['api', 'digest', 1],
      ['db', 'a', 1],
    ]);
    expect(answers.one).toMatchObject({ channel_id: 1, totals: { fired: 3, acknowledged: 1, resolved: 2 }, mtta_ms: 10_000, digest_only: 1, dead_letters: 1, muted: 1 });
    expect(answers.empty).toEqual({
      from: T0 + 5 * H, to: T0 + 6 * H, channel_id: null, totals: { fired: 0, acknowledged: 0, resolved: 0 }, by_service: [], mtta_ms: null, mttr_ms: null, noisiest: [], muted: 0, digest_only: 0, dead_letters: 0,
    });
    expect(answers.inTx).toMatchObject({ channel_id: 2, totals: { fired: 2, acknowledged: 1, resolved: 0 }, mtta_ms: 20_000, mttr_ms: null, digest_only: 0, dead_letters: 1 });
  });
});
