import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgDriver from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptStore } from '../src/store/attempts.js';
import type { EventStore } from '../src/store/events.js';
import type { IdempotencyStore } from '../src/store/idempotency.js';
import { openStore, type Store } from '../src/store/index.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';
import { waitFor } from './support/stack.js';

/**
 * The PostgreSQL store modules (src/store/pg/modules.ts) against a real PostgreSQL database, and the same scenarios
 * against the SQLite modules on a file: one behaviour, two backends. Each scenario runs on both, asserts what it
 * expects of each, and that both answered the same.
 */

/** What both backends offer so far: the ported modules and the transaction. */
interface Common {
  readonly events: Pick<EventStore, keyof EventStore>;
  readonly attempts: Pick<AttemptStore, keyof AttemptStore>;
  readonly idempotency: Pick<IdempotencyStore, Exclude<keyof IdempotencyStore, 'forgetSourceSync'>>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

/** Rows written under the modules (their tables are written by other modules, not ported yet), the same on both. */
interface Seed {
  channels?: { id: number; name: string; discordChannelId: string }[];
  webhooks?: { id: number; channelId: number; discordWebhookId: string; token: string }[];
  deliveries?: { id: number; channelId: number; priority: number; sortKey: number; availableAt: number; createdAt: number }[];
  events?: (typeof liteSchema.events.$inferInsert)[];
  attempts?: (typeof liteSchema.attempts.$inferInsert)[];
  seenWebhookIds?: (typeof liteSchema.seenWebhookIds.$inferInsert)[];
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
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-'));
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
        if (s.deliveries) lite.db.insert(l.deliveries).values(s.deliveries).run();
        if (s.events) lite.db.insert(l.events).values(s.events).run();
        if (s.attempts) lite.db.insert(l.attempts).values(s.attempts).run();
        if (s.seenWebhookIds) lite.db.insert(l.seenWebhookIds).values(s.seenWebhookIds).run();
      },
      clear: async () => {
        for (const t of [l.attempts, l.deliveries, l.webhooks, l.channels, l.events, l.idempotencyKeys, l.seenWebhookIds]) lite.db.delete(t).run();
      },
    },
    {
      name: 'postgresql',
      store: onPg,
      seed: async (s) => {
        if (s.channels) await handle.db.insert(p.channels).values(s.channels);
        if (s.webhooks) await handle.db.insert(p.webhooks).values(s.webhooks);
        if (s.deliveries) await handle.db.insert(p.deliveries).values(s.deliveries);
        if (s.events) await handle.db.insert(p.events).values(s.events);
        if (s.attempts) await handle.db.insert(p.attempts).values(s.attempts);
        if (s.seenWebhookIds) await handle.db.insert(p.seenWebhookIds).values(s.seenWebhookIds);
      },
      clear: async () => {
        for (const t of [p.attempts, p.deliveries, p.webhooks, p.channels, p.events, p.idempotencyKeys, p.seenWebhookIds]) await handle.db.delete(t);
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

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL), on a minute's start. */
const T0 = 1_764_000_000_000;

const WEBHOOKS: Seed = {
  channels: [
    { id: 1, name: 'ops', discordChannelId: '1001' },
    { id: 2, name: 'db', discordChannelId: '1002' },
  ],
  webhooks: [
    { id: 1, channelId: 1, discordWebhookId: '2001', token: 't1' },
    { id: 2, channelId: 1, discordWebhookId: '2002', token: 't2' },
  ],
};

describe('events', () => {
  const EVENTS: Seed = {
    ...WEBHOOKS,
    events: [
      { id: 1, kind: 'webhook_quarantined', channelId: 1, webhookId: 1, message: 'one', at: T0 + 1 },
      { id: 2, kind: 'channel_without_webhook', channelId: 1, webhookId: null, message: 'two', at: T0 + 2 },
      { id: 3, kind: 'webhook_quarantined', channelId: 2, webhookId: 2, message: 'three', at: T0 + 3 },
      { id: 4, kind: 'webhook_quarantined', channelId: null, webhookId: null, message: 'four', at: T0 + 4 },
      { id: 5, kind: 'channel_without_webhook', channelId: 2, webhookId: null, message: 'five', at: T0 + 5 },
    ],
  };

  it('lists newest first, filtered by kind, channel and id, up to the limit, with numbers for ids and times', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(EVENTS);
      const list = (f: Parameters<EventStore['list']>[0]) => b.store.events.list(f);
      return {
        all: await list({ limit: 10 }),
        two: await list({ limit: 2 }),
        kind: await list({ limit: 10, kind: 'webhook_quarantined' }),
        channel: await list({ limit: 10, channelId: 1 }),
        before: await list({ limit: 10, beforeId: 4 }),
        all3: await list({ limit: 1, kind: 'webhook_quarantined', channelId: 2, beforeId: 5 }),
        none: await list({ limit: 10, kind: 'nothing' }),
      };
    });
    expect(answers.all[0]).toEqual({ id: 5, kind: 'channel_without_webhook', channel_id: 2, webhook_id: null, message: 'five', at: T0 + 5 });
    expect(answers.all.map((e) => e.id)).toEqual([5, 4, 3, 2, 1]);
    expect(answers.two.map((e) => e.id)).toEqual([5, 4]);
    expect(answers.kind.map((e) => e.id)).toEqual([4, 3, 1]);
    expect(answers.channel.map((e) => e.id)).toEqual([2, 1]);
    expect(answers.before.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(answers.all3.map((e) => e.id)).toEqual([3]);
    expect(answers.none).toEqual([]);
  });
});

describe('attempts', () => {
  const m1 = T0;
  const m2 = T0 + 60_000;
  const ATTEMPTS: Seed = {
    ...WEBHOOKS,
    deliveries: [1, 2, 3].map((id) => ({ id, channelId: 1, priority: 2, sortKey: T0, availableAt: T0, createdAt: T0 })),
    attempts: [
      // Before the minutes asked for.
      { id: 1, deliveryId: 1, webhookId: 1, at: m1 - 600_000, status: 200, latencyMs: 80, outcome: 'sent' },
      // One packed request of two deliveries: two rows, one request.
      { id: 2, deliveryId: 1, webhookId: 1, at: m1 + 1_000, status: 200, latencyMs: 90, outcome: 'sent' },
      { id: 3, deliveryId: 2, webhookId: 1, at: m1 + 1_000, status: 200, latencyMs: 90, outcome: 'sent' },
      { id: 4, deliveryId: 3, webhookId: 2, at: m1 + 5_000, status: 429, latencyMs: 30, outcome: 'rate_limited', rateLimitScope: 'shared', error: 'slow down' },
      { id: 5, deliveryId: 3, webhookId: 2, at: m2 + 5_000, status: 429, latencyMs: 30, outcome: 'rate_limited', rateLimitScope: 'user' },
      // No answer, no webhook (removed since): the error names a webhook URL with its token.
      { id: 6, deliveryId: null, webhookId: null, at: m2 + 10_000, status: null, latencyMs: 10_000, outcome: 'error', error: 'POST https://discord.com/api/webhooks/2001/secret-token-xyz timed out' },
      // An edit (op 7) of delivery 1's message, at the same time and by the same webhook as another request.
      { id: 7, deliveryId: 1, webhookId: 1, at: m2 + 20_000, status: 200, latencyMs: 50, outcome: 'edited', opId: 7 },
      { id: 8, deliveryId: 2, webhookId: 1, at: m2 + 20_000, status: 200, latencyMs: 50, outcome: 'edited', opId: 8 },
    ],
  };

  it('lists newest first, filtered, with error text scrubbed of secrets', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(ATTEMPTS);
      const list = (f: Parameters<AttemptStore['list']>[0]) => b.store.attempts.list(f);
      return {
        all: await list({ limit: 10 }),
        three: await list({ limit: 3 }),
        webhook: await list({ limit: 10, webhookId: 1 }),
        delivery: await list({ limit: 10, deliveryId: 3 }),
        status: await list({ limit: 10, status: 429 }),
        outcome: await list({ limit: 10, outcome: 'sent' }),
        before: await list({ limit: 2, beforeId: 5 }),
        combined: await list({ limit: 10, webhookId: 1, deliveryId: 1, outcome: 'sent', status: 200, beforeId: 3 }),
      };
    });
    expect(answers.all.map((a) => a.id)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(answers.all.find((a) => a.id === 4)).toEqual({
      id: 4,
      delivery_id: 3,
      webhook_id: 2,
      at: T0 + 5_000,
      status: 429,
      latency_ms: 30,
      outcome: 'rate_limited',
      error: 'slow down',
      rate_limit_scope: 'shared',
    });
    const unanswered = answers.all.find((a) => a.id === 6)!;
    expect(unanswered).toMatchObject({ delivery_id: null, webhook_id: null, status: null, rate_limit_scope: null });
    expect(unanswered.error).not.toContain('secret-token-xyz');
    expect(answers.three.map((a) => a.id)).toEqual([8, 7, 6]);
    expect(answers.webhook.map((a) => a.id)).toEqual([8, 7, 3, 2, 1]);
    expect(answers.delivery.map((a) => a.id)).toEqual([5, 4]);
    expect(answers.status.map((a) => a.id)).toEqual([5, 4]);
    expect(answers.outcome.map((a) => a.id)).toEqual([3, 2, 1]);
    expect(answers.before.map((a) => a.id)).toEqual([4, 3]);
    expect(answers.combined.map((a) => a.id)).toEqual([2, 1]);
  });

  it('counts requests and 429s per minute since a time, a packed request once, only minutes with a request', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(ATTEMPTS);
      return {
        fromM1: await b.store.attempts.perMinute(m1),
        fromM2: await b.store.attempts.perMinute(m2 + 6_000),
        earlier: await b.store.attempts.perMinute(m1 - 3_600_000),
        later: await b.store.attempts.perMinute(m2 + 60_000),
      };
    });
    expect(answers.fromM1).toEqual([
      { minute: m1, requests: 2, rateLimited: 1 },
      // 429 (5), the unanswered one (6), and two edits at one time by one webhook, of two operations (7, 8).
      { minute: m2, requests: 4, rateLimited: 1 },
    ]);
    expect(answers.fromM2).toEqual([{ minute: m2, requests: 3, rateLimited: 0 }]);
    expect(answers.earlier).toEqual([{ minute: m1 - 600_000, requests: 1, rateLimited: 0 }, ...answers.fromM1]);
    expect(answers.later).toEqual([]);
  });
});

describe('idempotency', () => {
  it('keeps an Idempotency-Key’s answer and fingerprint per source, once', async () => {
    const answers = await onBoth(async ({ store: { idempotency } }) => {
      await idempotency.saveKeyAnswer(1, 'k1', 'fp1', '{"ids":[1]}', T0);
      await idempotency.saveKeyAnswer(2, 'k1', 'fp2', '{"ids":[2]}', T0);
      const again = await idempotency.saveKeyAnswer(1, 'k1', 'fp3', '{"ids":[3]}', T0).then(
        () => 'saved',
        () => 'refused',
      );
      const noSource = await idempotency.saveKeyAnswer(null, 'k9', 'fp9', '{}', T0).then(
        () => 'saved',
        () => 'refused',
      );
      return {
        again,
        noSource,
        k1: await idempotency.key(1, 'k1'),
        other: await idempotency.key(2, 'k1'),
        unknown: await idempotency.key(1, 'k2'),
        nullSource: await idempotency.key(null, 'k1'),
      };
    });
    expect(answers).toEqual({
      again: 'refused',
      noSource: 'refused',
      k1: { response: '{"ids":[1]}', bodyHash: 'fp1' },
      other: { response: '{"ids":[2]}', bodyHash: 'fp2' },
      unknown: undefined,
      nullSource: undefined,
    });
  });

  it('keeps a signed message id’s answer, replaces one recorded without an answer, prunes expired ids now and then', async () => {
    const answers = await onBoth(async (b) => {
      const { idempotency } = b.store;
      // From before answers were kept.
      await b.seed({ seenWebhookIds: [{ sourceId: 1, messageId: 'old', expiresAt: T0 + 9_000, response: null }] });
      const before = await idempotency.webhookIdAnswer(1, 'old');
      await idempotency.saveWebhookIdAnswer(1, 'm1', T0 + 5_000, '{"ids":[1]}');
      await idempotency.saveWebhookIdAnswer(1, 'old', T0 + 8_000, '{"ids":[2]}');
      const read = async () => ({
        m1: await idempotency.webhookIdAnswer(1, 'm1'),
        old: await idempotency.webhookIdAnswer(1, 'old'),
        otherSource: await idempotency.webhookIdAnswer(2, 'm1'),
        unknown: await idempotency.webhookIdAnswer(1, 'm2'),
      });
      const saved = await read();
      await idempotency.pruneWebhookIdsNowAndThen(T0 + 6_000);
      const pruned = await read();
      // Within a minute of the last prune: nothing pruned, though `old` (now until T0 + 8 s) has expired.
      await idempotency.pruneWebhookIdsNowAndThen(T0 + 8_500);
      const notYet = await read();
      await idempotency.pruneWebhookIdsNowAndThen(T0 + 66_000);
      return { before, saved, pruned, notYet, later: await read() };
    });
    expect(answers).toEqual({
      before: null,
      saved: { m1: '{"ids":[1]}', old: '{"ids":[2]}', otherSource: undefined, unknown: undefined },
      pruned: { m1: undefined, old: '{"ids":[2]}', otherSource: undefined, unknown: undefined },
      notYet: { m1: undefined, old: '{"ids":[2]}', otherSource: undefined, unknown: undefined },
      later: { m1: undefined, old: undefined, otherSource: undefined, unknown: undefined },
    });
  });

  it('forgets a source’s keys and ids, and only that source’s', async () => {
    const answers = await onBoth(async ({ store: { idempotency } }) => {
      for (const source of [1, 2]) {
        await idempotency.saveKeyAnswer(source, 'k', 'fp', `{"source":${source}}`, T0);
        await idempotency.saveWebhookIdAnswer(source, 'm', T0 + 3_600_000, `{"source":${source}}`);
      }
      await idempotency.forgetSource(1);
      return {
        keys: [await idempotency.key(1, 'k'), await idempotency.key(2, 'k')],
        ids: [await idempotency.webhookIdAnswer(1, 'm'), await idempotency.webhookIdAnswer(2, 'm')],
      };
    });
    expect(answers).toEqual({ keys: [undefined, { response: '{"source":2}', bodyHash: 'fp' }], ids: [undefined, '{"source":2}'] });
  });
});

describe('transaction', () => {
  const save = (tx: Common, key: string) => tx.idempotency.saveKeyAnswer(10, key, 'fp', `{"key":"${key}"}`, T0);
  const stored = async (b: Backend, ...keys: string[]) => {
    const found: string[] = [];
    for (const k of keys) if (await b.store.idempotency.key(10, k)) found.push(k);
    return found;
  };

  it('commits every call made through tx together and returns the callback’s result', async () => {
    const answers = await onBoth(async (b) => {
      const result = await b.store.transaction(async (tx) => {
        await save(tx, 'a');
        await save(tx, 'b');
        return { inside: (await tx.idempotency.key(10, 'a'))?.response };
      });
      return { result, stored: await stored(b, 'a', 'b') };
    });
    expect(answers).toEqual({ result: { inside: '{"key":"a"}' }, stored: ['a', 'b'] });
  });

  it('a throw rolls back everything written through tx, a nested transaction’s writes too, and is rethrown', async () => {
    const answers = await onBoth(async (b) => {
      const failure = new Error('no');
      const thrown = await b.store
        .transaction(async (tx) => {
          await save(tx, 'outer');
          await tx.transaction(async (inner) => save(inner, 'inner'));
          throw failure;
        })
        .catch((err: unknown) => err);
      return { same: thrown === failure, stored: await stored(b, 'outer', 'inner') };
    });
    expect(answers).toEqual({ same: true, stored: [] });
  });

  it('a nested tx.transaction joins the transaction: it sees the outer writes, and they commit together', async () => {
    const answers = await onBoth(async (b) => {
      const seen = await b.store.transaction(async (tx) => {
        await save(tx, 'outer');
        const inInner = await tx.transaction(async (inner) => {
          await save(inner, 'inner');
          return { joined: inner === tx, outer: (await inner.idempotency.key(10, 'outer')) !== undefined };
        });
        return { ...inInner, inner: (await tx.idempotency.key(10, 'inner')) !== undefined };
      });
      return { seen, stored: await stored(b, 'outer', 'inner') };
    });
    expect(answers).toEqual({ seen: { joined: true, outer: true, inner: true }, stored: ['outer', 'inner'] });
  });

  it('a transaction’s modules share the store’s state: a prune through tx counts for the store’s next', async () => {
    const answers = await onBoth(async (b) => {
      const now = T0 + 10 * 3_600_000;
      await b.seed({ seenWebhookIds: [{ sourceId: 1, messageId: 'expired', expiresAt: now - 1, response: 'x' }] });
      await b.store.transaction((tx) => tx.idempotency.pruneWebhookIdsNowAndThen(now - 2));
      await b.store.idempotency.pruneWebhookIdsNowAndThen(now);
      return await b.store.idempotency.webhookIdAnswer(1, 'expired');
    });
    expect(answers).toBe('x');
  });

  describe('on PostgreSQL only', () => {
    it('an uncommitted write is seen through tx, not through the store (another connection), until the commit', async () => {
      const seen = await onPg.transaction(async (tx) => {
        await tx.idempotency.saveKeyAnswer(10, 'pending', 'fp', '{}', T0);
        return { tx: await tx.idempotency.key(10, 'pending'), store: await onPg.idempotency.key(10, 'pending') };
      });
      expect(seen).toEqual({ tx: { response: '{}', bodyHash: 'fp' }, store: undefined });
      expect(await onPg.idempotency.key(10, 'pending')).toEqual({ response: '{}', bodyHash: 'fp' });
    });

    it('gives its connection back to the pool after a commit and after a rollback', async () => {
      // More transactions than the pool has connections (4), one after another, and then as many at once.
      for (let i = 0; i < 6; i++) {
        await expect(onPg.transaction(async () => Promise.reject(new Error(`no ${i}`)))).rejects.toThrow(`no ${i}`);
        await onPg.transaction((tx) => tx.idempotency.saveKeyAnswer(11, `k${i}`, 'fp', '{}', T0));
      }
      await Promise.all(Array.from({ length: 8 }, (_, i) => onPg.transaction((tx) => tx.idempotency.saveKeyAnswer(12, `k${i}`, 'fp', '{}', T0))));
      expect(handle.pool.totalCount).toBeLessThanOrEqual(4);
      expect(handle.pool.idleCount).toBe(handle.pool.totalCount);
      const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => onPg.idempotency.key(12, `k${i}`)));
      expect(keys.every((k) => k !== undefined)).toBe(true);
    });

    it('a statement that fails inside a transaction aborts it, even when the callback catches the failure (SQLite’s would go on)', async () => {
      await onPg.idempotency.saveKeyAnswer(14, 'taken', 'fp', '{}', T0);
      const next = onPg.transaction(async (tx) => {
        await tx.idempotency.saveKeyAnswer(14, 'a', 'fp', '{}', T0);
        const clash = await tx.idempotency.saveKeyAnswer(14, 'taken', 'fp', '{}', T0).catch((err: unknown) => err);
        // A unique violation, on the cause of drizzle's DrizzleQueryError.
        expect(clash).toMatchObject({ cause: { code: '23505' } });
        await tx.idempotency.saveKeyAnswer(14, 'b', 'fp', '{}', T0);
      });
      // in_failed_sql_transaction: "current transaction is aborted, commands ignored until end of transaction block".
      await expect(next).rejects.toMatchObject({ cause: { code: '25P02' } });
      expect([await onPg.idempotency.key(14, 'a'), await onPg.idempotency.key(14, 'b')]).toEqual([undefined, undefined]);
      // SQLite fails the statement only: the transaction goes on and commits the rest.
      await lite.idempotency.saveKeyAnswer(14, 'taken', 'fp', '{}', T0);
      await lite.transaction(async (tx) => {
        await tx.idempotency.saveKeyAnswer(14, 'a', 'fp', '{}', T0);
        await expect(tx.idempotency.saveKeyAnswer(14, 'taken', 'fp', '{}', T0)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
        await tx.idempotency.saveKeyAnswer(14, 'b', 'fp', '{}', T0);
      });
      expect([await lite.idempotency.key(14, 'a'), await lite.idempotency.key(14, 'b')]).toEqual([{ response: '{}', bodyHash: 'fp' }, { response: '{}', bodyHash: 'fp' }]);
    });

    it('a transaction whose connection dies while its callback awaits fails with the callback’s error, crashes nothing, and the pool goes on', async () => {
      const admin = new pgDriver.Client({ connectionString: pg.url });
      await admin.connect();
      // As an administrator (or a failover) would: the server ends the session that is in the transaction.
      const killTheTransaction = async () => {
        const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`);
        expect(killed.rowCount).toBe(1);
        await waitFor('the session to end', async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`)).rowCount === 0);
      };
      try {
        // The callback throws: its error, not that of the ROLLBACK that could not be sent.
        const failure = new Error('the callback’s own');
        const thrown = await onPg
          .transaction(async (tx) => {
            await tx.idempotency.saveKeyAnswer(13, 'a', 'fp', '{}', T0);
            await killTheTransaction();
            throw failure;
          })
          .catch((err: unknown) => err);
        expect(thrown).toBe(failure);
        // The callback goes on through tx: that call fails, and its failure is the transaction's.
        const next = onPg.transaction(async (tx) => {
          await tx.idempotency.saveKeyAnswer(13, 'b', 'fp', '{}', T0);
          await killTheTransaction();
          await tx.idempotency.saveKeyAnswer(13, 'c', 'fp', '{}', T0);
        });
        await expect(next).rejects.toThrow();
        expect([await onPg.idempotency.key(13, 'a'), await onPg.idempotency.key(13, 'b'), await onPg.idempotency.key(13, 'c')]).toEqual([undefined, undefined, undefined]);
        await onPg.transaction((tx) => tx.idempotency.saveKeyAnswer(13, 'd', 'fp', '{}', T0));
        expect(await onPg.idempotency.key(13, 'd')).toEqual({ response: '{}', bodyHash: 'fp' });
      } finally {
        await admin.end();
      }
    });
  });
});
