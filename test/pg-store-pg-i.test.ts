import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { DeadLetterStore } from '../src/store/dead-letters.js';
import type { HealthStore } from '../src/store/health.js';
import { addCounts, noCounts, type RetentionBatch, type RetentionStore } from '../src/store/retention.js';
import { openStore, type Store } from '../src/store/index.js';
import { PgHealthStore } from '../src/store/pg/health.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL dead letters, health and retention modules (src/store/pg/dead-letters.ts, pg/health.ts,
 * pg/retention.ts) against a real PostgreSQL database, and the same scenarios against the SQLite modules on a file:
 * one behaviour, two backends. Each scenario runs on both, asserts what it expects of each, and that both answered
 * the same (test/pg-store.test.ts's style), the 404s and 409s of a replay included.
 */

/** What both backends offer for these modules. */
interface Common {
  readonly deadLetters: Pick<DeadLetterStore, keyof DeadLetterStore>;
  readonly health: Pick<HealthStore, keyof HealthStore>;
  readonly retention: Pick<RetentionStore, keyof RetentionStore>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

type Severity = 'P0' | 'P1' | 'P2' | 'P3';
type DeliveryState = 'pending' | 'leased' | 'sent' | 'dead' | 'cancelled' | 'digest';

/** Rows of the tables these modules read and write, written the same on both, with their ids. */
interface Seed {
  channels?: { id: number; name: string; discordChannelId: string; removedAt?: number }[];
  webhooks?: { id: number; channelId: number; discordWebhookId: string; token: string; state?: 'active' | 'quarantined' | 'gone'; breakerState?: 'closed' | 'open' | 'half_open' }[];
  incidents?: { id: number; sourceId: number | null; key: string; title: string; createdAt: number }[];
  alerts?: {
    id: number; service: string; severity: Severity; title: string; receivedAt: number; status?: 'firing' | 'resolved'; incidentId?: number;
    lastSeenAt?: number; changedAt?: number; resolvedAt?: number; retractedAt?: number;
  }[];
  mutes?: { id: number; alertId?: number; service?: string; createdBy: string; createdAt: number; expiresAt: number; endedAt?: number }[];
  alertActions?: { alertId: number; kind: 'ack' | 'resolve'; actorKind: 'discord' | 'admin' | 'system'; actorName: string; at: number }[];
  deliveries?: {
    id: number; alertId: number | null; channelId: number; priority: number; sortKey: number; availableAt: number; createdAt: number;
    state?: DeliveryState; webhookId?: number; discordMessageId?: string; sentAt?: number; attempts?: number; renderLevel?: number;
  }[];
  messageOps?: { id: number; channelId: number; discordMessageId: string; deliveryId: number; purpose: 'sync' | 'resolve'; state?: 'pending' | 'leased' | 'done' | 'dead'; availableAt: number; createdAt: number; attempts?: number }[];
  deadLetters?: { id: number; deliveryId: number; opId?: number; reason: string; discordError?: string; createdAt: number; replayedAt?: number }[];
  attempts?: { deliveryId: number; at: number; latencyMs: number; outcome: string }[];
  idempotencyKeys?: { sourceId: number; key: string; response: string; createdAt: number }[];
  events?: { kind: string; message: string; at: number }[];
}
const SEEDED = ['channels', 'webhooks', 'incidents', 'alerts', 'mutes', 'alertActions', 'deliveries', 'messageOps', 'deadLetters', 'attempts', 'idempotencyKeys', 'events'] as const;
/** Every table these tests write, children first. */
const TABLES = ['events', 'idempotency_keys', 'attempts', 'dead_letters', 'message_ops', 'deliveries', 'alert_actions', 'mutes', 'alerts', 'incidents', 'webhooks', 'channels'] as const;

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seed(rows: Seed): Promise<void>;
  /** Rows of a table as stored, by id (a table without one: by its first column). */
  rows(table: (typeof SEEDED)[number]): Promise<Record<string, unknown>[]>;
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
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-i-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  const l = liteSchema;
  const p = pgSchema;
  const order = (t: (typeof SEEDED)[number], s: typeof l | typeof p) => {
    const table = s[t] as unknown as Record<string, never>;
    return asc(('id' in table ? table.id : t === 'idempotencyKeys' ? table.key : table.at) as never);
  };
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
      rows: async (t) => lite.db.select().from(l[t] as never).orderBy(order(t, l)).all() as Record<string, unknown>[],
      clear: async () => {
        for (const t of TABLES) lite.db.run(sql.raw(`delete from ${t}`));
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
        for (const t of ['channels', 'webhooks', 'incidents', 'alerts', 'mutes', 'deliveries', 'message_ops', 'dead_letters'] as const) {
          await handle.db.execute(sql.raw(`select setval(pg_get_serial_sequence('${t}', 'id'), coalesce((select max(id) from ${t}), 0) + 1, false)`));
        }
      },
      rows: async (t) => (await handle.db.select().from(p[t] as never).orderBy(order(t, p))) as Record<string, unknown>[],
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

/** What a call threw (its status and code, for a ServiceError), or what it returned. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: v }),
    (err: unknown) => {
      const e = err as { status?: number; code?: string; message?: string };
      return { status: e.status, code: e.code, message: e.message };
    },
  );

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;

const alert = (id: number, extra: Partial<NonNullable<Seed['alerts']>[number]> = {}) => ({ id, service: 'api', severity: 'P2' as const, title: `alert ${id}`, receivedAt: T0, ...extra });
const delivery = (id: number, alertId: number | null, channelId: number, state: DeliveryState, extra: Partial<NonNullable<Seed['deliveries']>[number]> = {}) => ({
  id, alertId, channelId, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0, state, ...extra,
});

const CHANNELS: Seed['channels'] = [
  { id: 1, name: 'ops', discordChannelId: '1001' },
  { id: 2, name: 'db', discordChannelId: '1002' },
];

describe('dead letters', () => {
  const seed: Seed = {
    channels: CHANNELS,
    alerts: [alert(1, { severity: 'P1' }), alert(2)],
    deliveries: [
      delivery(1, 1, 1, 'dead', { attempts: 5, renderLevel: 2 }),
      delivery(2, 2, 2, 'sent', { discordMessageId: 'm2' }),
      delivery(3, null, 1, 'dead'),
      delivery(4, 2, 1, 'sent', { discordMessageId: 'm4' }),
    ],
    messageOps: [
      { id: 1, channelId: 2, discordMessageId: 'm2', deliveryId: 2, purpose: 'sync', state: 'dead', availableAt: T0, createdAt: T0, attempts: 4 },
      { id: 2, channelId: 1, discordMessageId: 'm4', deliveryId: 4, purpose: 'resolve', state: 'done', availableAt: T0, createdAt: T0 },
    ],
    deadLetters: [
      { id: 1, deliveryId: 1, reason: 'gave up: https://discord.com/api/webhooks/123/secrettoken', discordError: '{"message":"x"}', createdAt: T0 + 1 },
      { id: 2, deliveryId: 2, opId: 1, reason: 'edit failed', createdAt: T0 + 2 },
      { id: 3, deliveryId: 3, reason: 'digest dead', createdAt: T0 + 3, replayedAt: T0 + 4 },
      { id: 4, deliveryId: 4, opId: 2, reason: 'op no longer dead', createdAt: T0 + 5 },
      { id: 5, deliveryId: 2, reason: 'delivery not dead', createdAt: T0 + 6 },
    ],
  };

  it('list (newest first, pending, beforeId, limit, scrubbed, joined with its alert) and countPending', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(seed);
      const d = b.store.deadLetters;
      return {
        all: await d.list({ limit: 10 }),
        pending: (await d.list({ limit: 10, pending: true })).map((r) => r.id),
        before: (await d.list({ limit: 2, beforeId: 4 })).map((r) => r.id),
        count: await d.countPending(),
      };
    });
    expect(answers.all.map((r) => r.id)).toEqual([5, 4, 3, 2, 1]);
    expect(answers.all[4]).toEqual({
      id: 1, delivery_id: 1, alert_id: 1, channel_id: 1, alert_title: 'alert 1', severity: 'P1', reason: expect.not.stringContaining('secrettoken') as unknown as string,
      discord_error: '{"message":"x"}', created_at: T0 + 1, replayed_at: null,
    });
    expect(answers.all[2]).toMatchObject({ id: 3, alert_id: null, alert_title: null, severity: null, replayed_at: T0 + 4 });
    expect(answers.pending).toEqual([5, 4, 2, 1]);
    expect(answers.before).toEqual([3, 2]);
    expect(answers.count).toBe(4);
  });

  it('replay revives a dead delivery and a dead message operation, marks the letter; 404 and the 409s roll back', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(seed);
      const d = b.store.deadLetters;
      const now = T0 + 1_000;
      return {
        delivery: await outcome(d.replay(1, now)),
        op: await outcome(d.replay(2, now)),
        again: await outcome(d.replay(1, now)),
        replayed: await outcome(d.replay(3, now)),
        opNotDead: await outcome(d.replay(4, now)),
        notDead: await outcome(d.replay(5, now)),
        missing: await outcome(d.replay(99, now)),
        // Inside a caller's transaction: the 409 rolls back only when the caller lets it through.
        inTx: await outcome(b.store.transaction(async (tx) => tx.deadLetters.replay(5, now))),
        count: await d.countPending(),
        deliveries: (await b.rows('deliveries')).map((r) => [r.id, r.state, r.attempts, r.renderLevel, r.availableAt, r.createdAt, r.sortKey, r.leaseUntil]),
        ops: (await b.rows('messageOps')).map((r) => [r.id, r.state, r.attempts, r.availableAt, r.createdAt]),
        letters: (await b.rows('deadLetters')).map((r) => [r.id, r.replayedAt]),
      };
    });
    const now = T0 + 1_000;
    expect(answers.delivery).toEqual({ ok: { delivery_id: 1, channel_id: 1, op: false } });
    expect(answers.op).toEqual({ ok: { delivery_id: 2, channel_id: 2, op: true } });
    expect(answers.again).toEqual({ status: 409, code: 'conflict', message: 'dead letter 1 was already replayed' });
    expect(answers.replayed).toMatchObject({ status: 409 });
    expect(answers.opNotDead).toEqual({ status: 409, code: 'conflict', message: 'the message edit of dead letter 4 is no longer dead; nothing to replay' });
    expect(answers.notDead).toEqual({ status: 409, code: 'conflict', message: 'delivery 2 is sent, not dead; nothing to replay' });
    expect(answers.missing).toEqual({ status: 404, code: 'not_found', message: 'no dead letter with id 99' });
    expect(answers.inTx).toMatchObject({ status: 409 });
    expect(answers.count).toBe(2);
    expect(answers.deliveries[0]).toEqual([1, 'pending', 0, 0, now, now, now + 2 * 60_000, null]);
    expect(answers.ops[0]).toEqual([1, 'pending', 0, now, now]);
    expect(answers.letters).toEqual([[1, now], [2, now], [3, T0 + 4], [4, null], [5, null]]);
  });

  it('a replay whose transaction rolls back leaves the delivery dead and the letter pending', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(seed);
      const r = await outcome(
        b.store.transaction(async (tx) => {
          await tx.deadLetters.replay(1, T0 + 1_000);
          throw new Error('caller gave up');
        }),
      );
      return { r, count: await b.store.deadLetters.countPending(), state: (await b.rows('deliveries'))[0]!.state };
    });
    expect(answers).toEqual({ r: { status: undefined, code: undefined, message: 'caller gave up' }, count: 4, state: 'dead' });
  });

  it('PostgreSQL: two replays of one letter at once: one revives, the other gets the 409', async () => {
    await backends[1]!.seed(seed);
    const results = await Promise.all([outcome(onPg.deadLetters.replay(1, T0 + 1_000)), outcome(onPg.deadLetters.replay(1, T0 + 2_000))]);
    expect(results.filter((r) => 'ok' in r)).toHaveLength(1);
    expect(results.filter((r) => 'status' in r && r.status === 409)).toHaveLength(1);
  });
});

describe('health', () => {
  it('channels: healthy webhooks (active, breaker not open) and the oldest pending delivery, removed channels left out', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({
        channels: [...CHANNELS!, { id: 3, name: 'gone', discordChannelId: '1003', removedAt: T0 }, { id: 4, name: 'empty', discordChannelId: '1004' }],
        webhooks: [
          { id: 11, channelId: 1, discordWebhookId: '2011', token: 't11' },
          { id: 12, channelId: 1, discordWebhookId: '2012', token: 't12', breakerState: 'half_open' },
          { id: 13, channelId: 1, discordWebhookId: '2013', token: 't13', breakerState: 'open' },
          { id: 21, channelId: 2, discordWebhookId: '2021', token: 't21', state: 'quarantined' },
          { id: 31, channelId: 3, discordWebhookId: '2031', token: 't31' },
        ],
        alerts: [alert(1)],
        deliveries: [
          delivery(1, 1, 1, 'pending', { availableAt: T0 + 50 }),
          delivery(2, 1, 1, 'pending', { availableAt: T0 + 20 }),
          delivery(3, 1, 1, 'leased', { availableAt: T0 + 1 }),
          delivery(4, 1, 2, 'sent', { availableAt: T0 + 2 }),
          delivery(5, 1, 3, 'pending', { availableAt: T0 + 3 }),
        ],
      });
      return b.store.health.channels();
    });
    expect(answers).toEqual([
      { id: 1, name: 'ops', healthy: 2, oldestDue: T0 + 20 },
      { id: 2, name: 'db', healthy: 0, oldestDue: null },
      { id: 4, name: 'empty', healthy: 0, oldestDue: null },
    ]);
  });

  it('probe: no problem while the database takes writes', async () => {
    expect(await onBoth(async (b) => b.store.health.probe())).toEqual({ unreachable: false, problems: [] });
  });

  it('probe: a database that cannot take writes (SQLite: another writer holds the lock; PostgreSQL: read-only) or cannot be reached', async () => {
    const other = new Database(join(dir, 'herald.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      const locked = await lite.health.probe();
      expect(locked.unreachable).toBe(false);
      expect(locked.problems).toEqual([expect.stringMatching(/^database: cannot take the write lock \(SQLITE_BUSY: .*\); alerts cannot be stored now$/)]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const readOnly = await handle.db.transaction(async (tx) => {
      await tx.execute(sql`set transaction read only`);
      return new PgHealthStore(tx).probe();
    });
    expect(readOnly).toEqual({ unreachable: false, problems: ['database: cannot take writes (transactions are read-only: default_transaction_read_only); alerts cannot be stored now'] });

    const closedLite = openStore(join(dir, 'closed.db'), { sync: 'normal', agingMs: 60_000 });
    closedLite.close();
    const closedPg = await openPg(pg.url, { poolSize: 1 });
    await closedPg.close();
    const unreachable = { unreachable: true, problems: ['database unavailable'] };
    expect(await closedLite.health.probe()).toEqual(unreachable);
    expect(await new PgHealthStore(closedPg.db).probe()).toEqual(unreachable);
  });
});

describe('retention', () => {
  const cutoff = T0 + 1_000;
  const now = T0 + 2_000;
  const old = { status: 'resolved' as const, resolvedAt: T0 + 10 };
  const seed: Seed = {
    channels: CHANNELS,
    incidents: [
      { id: 1, sourceId: null, key: 'alone', title: 'alone', createdAt: T0 },
      { id: 2, sourceId: null, key: 'shared', title: 'shared', createdAt: T0 },
    ],
    alerts: [
      alert(1, old),
      alert(2, { status: 'resolved', resolvedAt: T0 + 5_000 }),
      alert(3),
      alert(4, old),
      alert(5, old),
      alert(6, old),
      alert(7, old),
      alert(8, { retractedAt: T0 + 20, incidentId: 1 }),
      alert(9, { ...old, incidentId: 2 }),
      alert(10, { incidentId: 2 }),
      alert(11, { ...old, lastSeenAt: T0 + 1_500 }),
    ],
    mutes: [
      { id: 1, alertId: 1, createdBy: 'ann', createdAt: T0, expiresAt: T0 + 100, endedAt: T0 + 50 },
      { id: 2, alertId: 5, createdBy: 'ann', createdAt: T0, expiresAt: T0 + 10_000 },
    ],
    alertActions: [
      { alertId: 1, kind: 'resolve', actorKind: 'discord', actorName: 'ann', at: T0 + 10 },
      { alertId: 3, kind: 'ack', actorKind: 'admin', actorName: 'bob', at: T0 + 10 },
    ],
    deliveries: [
      delivery(1, 1, 1, 'sent', { discordMessageId: 'm1', sentAt: T0 + 1 }),
      delivery(2, 1, 2, 'dead'),
      delivery(3, 4, 1, 'pending'),
      delivery(4, 6, 1, 'sent', { discordMessageId: 'm6' }),
      delivery(5, 7, 1, 'sent', { discordMessageId: 'm7' }),
      delivery(6, 3, 1, 'sent', { discordMessageId: 'm7' }),
      delivery(7, null, 1, 'sent', { discordMessageId: 'dg1', sentAt: T0 + 1 }),
      delivery(8, null, 1, 'pending'),
      delivery(9, null, 1, 'sent', { discordMessageId: 'dg2', sentAt: T0 + 5_000 }),
      delivery(10, null, 1, 'sent', { discordMessageId: 'dg3', sentAt: T0 + 2 }),
      delivery(11, null, 2, 'dead', { createdAt: T0 + 3 }),
      delivery(12, 9, 2, 'sent', { discordMessageId: 'm9', sentAt: T0 + 1 }),
    ],
    messageOps: [
      { id: 1, channelId: 1, discordMessageId: 'm1', deliveryId: 1, purpose: 'resolve', state: 'done', availableAt: T0, createdAt: T0 },
      { id: 2, channelId: 1, discordMessageId: 'm6', deliveryId: 4, purpose: 'sync', state: 'pending', availableAt: T0, createdAt: T0 },
      { id: 3, channelId: 1, discordMessageId: 'dg3', deliveryId: 10, purpose: 'sync', state: 'leased', availableAt: T0, createdAt: T0 },
    ],
    deadLetters: [
      { id: 1, deliveryId: 2, reason: 'gave up', createdAt: T0 + 1 },
      { id: 2, deliveryId: 11, reason: 'digest gave up', createdAt: T0 + 3 },
    ],
    attempts: [
      { deliveryId: 1, at: T0 + 1, latencyMs: 5, outcome: 'sent' },
      { deliveryId: 2, at: T0 + 1, latencyMs: 5, outcome: 'server_error' },
      { deliveryId: 7, at: T0 + 1, latencyMs: 5, outcome: 'sent' },
      { deliveryId: 6, at: T0 + 1, latencyMs: 5, outcome: 'sent' },
    ],
  };

  /** Every batch from the start until `next` is null, as jobs/retention.ts runs them. */
  async function run(batch: (after: number) => Promise<RetentionBatch>) {
    const batches: RetentionBatch[] = [];
    let after = 0;
    for (;;) {
      const b = await batch(after);
      batches.push(b);
      if (b.next === null) return batches;
      after = b.next;
    }
  }

  it('deleteAlertBatch: finished, quiet alerts with nothing still to do go with every row about them, page by page; an incident with its last members', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(seed);
      const batches = await run((after) => b.store.retention.deleteAlertBatch(after, 4, cutoff, now));
      const total = noCounts();
      for (const x of batches) addCounts(total, x.counts);
      return {
        batches: batches.map((x) => x.next),
        total,
        alerts: (await b.rows('alerts')).map((r) => r.id),
        incidents: (await b.rows('incidents')).map((r) => r.id),
        deliveries: (await b.rows('deliveries')).map((r) => r.id),
        mutes: (await b.rows('mutes')).map((r) => [r.id, r.alertId]),
        actions: (await b.rows('alertActions')).map((r) => r.alertId),
        ops: (await b.rows('messageOps')).map((r) => r.id),
        letters: (await b.rows('deadLetters')).map((r) => r.id),
        attempts: (await b.rows('attempts')).map((r) => r.deliveryId),
      };
    });
    expect(answers.batches).toEqual([4, 8, 11, null]);
    expect(answers.alerts).toEqual([2, 3, 4, 5, 6, 7, 10, 11]);
    expect(answers.incidents).toEqual([2]);
    expect(answers.deliveries).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(answers.mutes).toEqual([[1, null], [2, 5]]);
    expect(answers.actions).toEqual([3]);
    expect(answers.ops).toEqual([2, 3]);
    expect(answers.letters).toEqual([2]);
    expect(answers.attempts).toEqual([7, 6]);
    expect(answers.total).toEqual({ ...noCounts(), alerts: 3, alertActions: 1, deliveries: 3, attempts: 2, messageOps: 1, deadLetters: 1 });
  });

  it('PostgreSQL: an alert another transaction holds (an ingest folding a repeat into it) is skipped by the batch, not waited for', async () => {
    await backends[1]!.seed(seed);
    const batch = await handle.db.transaction(async (tx) => {
      await tx.execute(sql`select id from alerts where id = 1 for update`);
      return onPg.retention.deleteAlertBatch(0, 20, cutoff, now);
    });
    expect(batch).toMatchObject({ next: 11, counts: { alerts: 2 } });
    expect((await backends[1]!.rows('alerts')).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 10, 11]);
  });

  it('deleteAlertBatch: nothing to look at (empty table, a page received after the cutoff)', async () => {
    const answers = await onBoth(async (b) => {
      const empty = await b.store.retention.deleteAlertBatch(0, 10, cutoff, now);
      await b.seed({ alerts: [alert(1, { ...old, receivedAt: T0 + 5_000 }), alert(2, old)] });
      return { empty, recent: await b.store.retention.deleteAlertBatch(0, 1, cutoff, now), past: await b.store.retention.deleteAlertBatch(2, 1, cutoff, now) };
    });
    expect(answers).toEqual({ empty: { next: null, counts: {} }, recent: { next: null, counts: {} }, past: { next: null, counts: {} } });
  });

  it('deleteDeliveriesWithoutAlertBatch: finished digest messages before the cutoff with no edit to make, in batches', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(seed);
      const batches = await run((after) => b.store.retention.deleteDeliveriesWithoutAlertBatch(after, 1, cutoff));
      return { batches, deliveries: (await b.rows('deliveries')).map((r) => r.id), letters: (await b.rows('deadLetters')).map((r) => r.id) };
    });
    expect(answers.batches).toEqual([
      { next: 7, counts: { attempts: 1, deadLetters: 0, messageOps: 0, deliveries: 1 } },
      { next: 11, counts: { attempts: 0, deadLetters: 1, messageOps: 0, deliveries: 1 } },
      { next: null, counts: {} },
    ]);
    expect(answers.deliveries).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 12]);
    expect(answers.letters).toEqual([1]);
  });

  it('deleteIdempotencyKeys and deleteEvents: up to the limit of those before the cutoff', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed({
        idempotencyKeys: [
          { sourceId: 1, key: 'a', response: '{}', createdAt: T0 },
          { sourceId: 1, key: 'b', response: '{}', createdAt: T0 + 1 },
          { sourceId: 2, key: 'a', response: '{}', createdAt: T0 + 2 },
          { sourceId: 2, key: 'c', response: '{}', createdAt: T0 + 5_000 },
        ],
        events: [
          { kind: 'x', message: 'one', at: T0 },
          { kind: 'x', message: 'two', at: T0 + 1 },
          { kind: 'x', message: 'three', at: T0 + 2 },
          { kind: 'x', message: 'late', at: T0 + 5_000 },
        ],
      });
      const r = b.store.retention;
      const keys = [await r.deleteIdempotencyKeys(cutoff, 2), await r.deleteIdempotencyKeys(cutoff, 2), await r.deleteIdempotencyKeys(cutoff, 2)];
      const events = [await r.deleteEvents(cutoff, 2)];
      const firstEvents = (await b.rows('events')).map((e) => e.message);
      events.push(await r.deleteEvents(cutoff, 2), await r.deleteEvents(cutoff, 2));
      return { keys, events, firstEvents, leftKeys: (await b.rows('idempotencyKeys')).map((k) => [k.sourceId, k.key]), leftEvents: (await b.rows('events')).map((e) => e.message) };
    });
    expect(answers).toEqual({ keys: [2, 1, 0], events: [2, 1, 0], firstEvents: ['three', 'late'], leftKeys: [[2, 'c']], leftEvents: ['late'] });
  });
});
