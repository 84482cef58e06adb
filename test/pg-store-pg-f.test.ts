import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Outbox } from '../src/store/deliveries.js';
import type { AttemptRecord } from '../src/store/delivery-rows.js';
import { openStore, type Store } from '../src/store/index.js';
import { pgStore, type PgStore } from '../src/store/pg/modules.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import * as pgSchema from '../src/store/pg/schema.js';
import * as liteSchema from '../src/store/sqlite/schema.js';
import { pgDatabase } from './support/postgres.js';

/**
 * The PostgreSQL outbox (src/store/pg/deliveries.ts) against a real PostgreSQL database, and the same scenarios
 * against SQLite's `Outbox` on a file: one behaviour, two backends (test/pg-store.test.ts's style). The module throws
 * no ServiceError (no 404/409 to compare); its results and the rows it writes (deliveries, attempts, dead letters) are.
 */

/** What both backends offer: PostgreSQL's outbox lacks the SQLite-only `…Sync` twins. */
interface Common {
  readonly deliveries: Pick<Outbox, Exclude<keyof Outbox, 'deadLetterSync' | 'reviveDeadSync'>>;
  transaction<T>(fn: (tx: Common) => Promise<T>): Promise<T>;
}

type Severity = 'P0' | 'P1' | 'P2' | 'P3';

/** Rows of other modules' tables, written the same on both, with their ids. */
interface Seed {
  channels?: { id: number; name: string; discordChannelId: string }[];
  webhooks?: { id: number; channelId: number; discordWebhookId: string; token: string }[];
  alerts?: { id: number; service: string; severity: Severity; title: string; receivedAt: number; incidentId?: number | null; labels?: Record<string, string> }[];
  messageOps?: { channelId: number; discordMessageId: string; deliveryId: number; purpose: 'sync'; availableAt: number; createdAt: number; state?: 'done'; outcome?: string }[];
}

interface Backend {
  name: 'sqlite' | 'postgresql';
  store: Common;
  seed(rows: Seed): Promise<void>;
  /** The rows the outbox writes, by id. */
  rows(): Promise<{ deliveries: unknown[]; attempts: unknown[]; deadLetters: unknown[] }>;
  clear(): Promise<void>;
}

const pg = pgDatabase();
let handle: PgHandle;
let dir: string;
let lite: Store;
let onPg: PgStore;
const backends: Backend[] = [];

/** Every table these tests write, children first. */
const TABLES = ['attempts', 'dead_letters', 'message_ops', 'deliveries', 'alerts', 'webhooks', 'channels'] as const;
const AGING = 60_000;

beforeAll(async () => {
  handle = await openPg(pg.url, { poolSize: 4 });
  onPg = pgStore(handle.db, { agingMs: AGING });
  dir = mkdtempSync(join(tmpdir(), 'herald-pgstore-f-'));
  lite = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: AGING });
  const l = liteSchema;
  const p = pgSchema;
  backends.push(
    {
      name: 'sqlite',
      store: lite,
      seed: async (s) => {
        if (s.channels) lite.db.insert(l.channels).values(s.channels).run();
        if (s.webhooks) lite.db.insert(l.webhooks).values(s.webhooks).run();
        if (s.alerts) lite.db.insert(l.alerts).values(s.alerts).run();
        if (s.messageOps) lite.db.insert(l.messageOps).values(s.messageOps).run();
      },
      rows: async () => ({
        deliveries: lite.db.select().from(l.deliveries).orderBy(asc(l.deliveries.id)).all(),
        attempts: lite.db.select().from(l.attempts).orderBy(asc(l.attempts.id)).all(),
        deadLetters: lite.db.select().from(l.deadLetters).orderBy(asc(l.deadLetters.id)).all(),
      }),
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
        if (s.channels) await handle.db.insert(p.channels).values(s.channels);
        if (s.webhooks) await handle.db.insert(p.webhooks).values(s.webhooks);
        if (s.alerts) await handle.db.insert(p.alerts).values(s.alerts);
        if (s.messageOps) await handle.db.insert(p.messageOps).values(s.messageOps);
        for (const t of ['channels', 'webhooks', 'alerts'] as const) {
          if (s[t]) await handle.db.execute(sql.raw(`select setval(pg_get_serial_sequence('${t}', 'id'), (select max(id) from ${t}))`));
        }
      },
      rows: async () => ({
        deliveries: await handle.db.select().from(p.deliveries).orderBy(asc(p.deliveries.id)),
        attempts: await handle.db.select().from(p.attempts).orderBy(asc(p.attempts.id)),
        deadLetters: await handle.db.select().from(p.deadLetters).orderBy(asc(p.deadLetters.id)),
      }),
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

/** A time past 2^31 ms, as every epoch-ms time is (a bigint column on PostgreSQL). */
const T0 = 1_764_000_000_000;

const alert = (id: number, severity: Severity, incidentId: number | null = null) => ({
  id,
  service: `svc-${id}`,
  severity,
  title: `alert ${id}`,
  receivedAt: T0,
  incidentId,
  labels: { zone: 'b', app: 'a' },
});

const BASE: Seed = {
  channels: [
    { id: 1, name: 'ops', discordChannelId: '1001' },
    { id: 2, name: 'db', discordChannelId: '1002' },
  ],
  webhooks: [
    { id: 1, channelId: 1, discordWebhookId: '2001', token: 't1' },
    { id: 2, channelId: 2, discordWebhookId: '2002', token: 't2' },
  ],
  alerts: [alert(1, 'P3'), alert(2, 'P2'), alert(3, 'P0'), alert(4, 'P1'), alert(5, 'P3'), alert(6, 'P2', 7), alert(7, 'P2', 7), alert(8, 'P2', 7)],
};

const attempt = (deliveryIds: number[], at: number, status: number | null, outcome: string, extra: Partial<AttemptRecord> = {}): AttemptRecord => ({
  deliveryIds,
  webhookId: 1,
  at,
  status,
  latencyMs: 42,
  outcome,
  ...extra,
});

describe('outbox', () => {
  it('enqueues and claims by priority with aging, then id; the urgent claim only P0/P1; not before availableAt; a digest is never claimed', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const o = b.store.deliveries;
      // sort keys: 1 → T0+180s (P3 at T0), 2 → T0+150s (P2 at T0+30s), 3 → T0+200s (P0 at T0+200s, aged past the P3),
      // 4 → T0+150s (P1 at T0+90s: the same key as 2, after it by id), 5 → in the future, 6 → a digest.
      await o.enqueue(1, 1, 3, T0);
      await o.enqueue(2, 1, 2, T0 + 30_000);
      await o.enqueue(3, 1, 0, T0 + 200_000);
      await o.enqueue(4, 1, 1, T0 + 90_000);
      await o.enqueue(5, 1, 3, T0, { availableAt: T0 + 900_000 });
      await o.enqueue(1, 1, 3, T0, { state: 'digest' });
      // A pre-rendered message about no alert, in the other channel.
      await o.enqueue(null, 2, 2, T0, { message: { content: 'digest', embeds: [] } as never, mention: 'role:9' });
      // The same sort key as 2: after it, by id.
      await o.enqueue(5, 1, 2, T0 + 30_000);
      const now = T0 + 300_000;
      const urgent = await o.claim(1, now, 10, 1, 30_000);
      const rest = await o.claim(1, now, 3, 3, 30_000);
      const none = await o.claim(1, now, 10, 3, 30_000);
      const other = await o.claim(2, now, 10, 3, 30_000);
      return { urgent, rest: rest.map((c) => c.id), none, other, rows: (await b.rows()).deliveries };
    });
    expect(answers.urgent.map((c) => c.id)).toEqual([4, 3]);
    expect(answers.urgent[0]).toMatchObject({
      id: 4, alertId: 4, channelId: 1, mention: null, message: null, note: null, threadId: null, priority: 1, attempts: 0, renderLevel: 0, createdAt: T0 + 90_000,
      alert: { id: 4, service: 'svc-4', severity: 'P1', title: 'alert 4', status: 'firing', labels: { zone: 'b', app: 'a' }, incidentId: null, changedAt: null },
    });
    expect(answers.rest).toEqual([2, 8, 1]);
    expect(answers.none).toEqual([]);
    expect(answers.other).toEqual([
      { id: 7, alertId: null, channelId: 2, mention: 'role:9', message: { content: 'digest', embeds: [] }, note: null, threadId: null, priority: 2, attempts: 0, renderLevel: 0, createdAt: T0, alert: null },
    ]);
    expect(answers.rows).toMatchObject([
      { id: 1, state: 'leased', leaseUntil: T0 + 330_000, sortKey: T0 + 180_000 },
      { id: 2, state: 'leased', sortKey: T0 + 150_000 },
      { id: 3, state: 'leased', sortKey: T0 + 200_000 },
      { id: 4, state: 'leased', sortKey: T0 + 150_000 },
      { id: 5, state: 'pending', availableAt: T0 + 900_000, createdAt: T0 + 900_000 },
      { id: 6, state: 'digest' },
      { id: 7, state: 'leased' },
      { id: 8, state: 'leased', sortKey: T0 + 150_000 },
    ]);
  });

  it('markSent, release and deadLetter write their rows and attempts; the counts, times and queue depth follow', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const o = b.store.deliveries;
      for (const a of [1, 2, 3, 4, 5]) await o.enqueue(a, 1, a === 3 ? 0 : 2, T0);
      await o.enqueue(1, 2, 3, T0 + 5_000);
      const before = { pending: await o.pendingByChannel(), depth: await o.depthByPriority(), next: await o.nextAvailableAt(1), none: await o.nextAvailableAt(9), last: await o.lastSentAt() };
      await o.claim(1, T0, 10, 3, 30_000);
      await o.markSent([1, 2], 1, 'm-1', T0 + 1_000, attempt([1, 2], T0 + 1_000, 200, 'sent'));
      await o.markSent([3], 1, 'm-2', T0 + 2_000, attempt([3], T0 + 2_000, 200, 'sent'), 'thread-3', 5);
      await o.release([4], { availableAt: T0 + 60_000, countAttempt: true, error: 'HTTP 500', renderLevel: 1, attempt: attempt([4], T0 + 3_000, 500, 'retry', { error: 'boom' }) });
      await o.release([5], { availableAt: T0 + 10_000, countAttempt: false });
      await o.release([], { availableAt: T0, countAttempt: true });
      await o.claim(1, T0 + 60_000, 10, 3, 30_000);
      await o.deadLetter([4, 5], 'gave up', '{"code":50035}', T0 + 61_000, attempt([], T0 + 61_000, 400, 'dead', { rateLimitScope: 'user' }));
      await o.deadLetter([], 'nothing', null, T0);
      return {
        before,
        after: { pending: await o.pendingByChannel(), depth: await o.depthByPriority(), next: await o.nextAvailableAt(1), last: await o.lastSentAt() },
        recent: await o.recentMessageTimes(1, T0),
        recentSince: await o.recentMessageTimes(1, T0 + 1_000),
        pendingIn: [await o.pendingIn(1), await o.pendingIn(2)],
        backlog: [await o.backlogOf(1, T0), await o.backlogOf(2, T0), await o.backlogOf(2, T0 + 5_000)],
        rows: await b.rows(),
      };
    });
    expect(answers.before).toEqual({ pending: new Map([[1, 5], [2, 1]]), depth: { 0: 1, 1: 0, 2: 4, 3: 1 }, next: T0, none: null, last: null });
    expect(answers.after).toEqual({ pending: new Map([[2, 1]]), depth: { 0: 0, 1: 0, 2: 0, 3: 1 }, next: null, last: T0 + 2_000 });
    expect(answers.recent).toEqual([T0 + 1_000, T0 + 2_000]);
    expect(answers.recentSince).toEqual([T0 + 2_000]);
    expect(answers.pendingIn).toEqual([0, 1]);
    expect(answers.backlog).toEqual([0, 0, 1]);
    expect(answers.rows.deliveries).toMatchObject([
      { id: 1, state: 'sent', webhookId: 1, discordMessageId: 'm-1', sentAt: T0 + 1_000, attempts: 1, leaseUntil: null, stormId: null },
      { id: 2, state: 'sent', discordMessageId: 'm-1', attempts: 1 },
      { id: 3, state: 'sent', discordMessageId: 'm-2', threadId: 'thread-3', stormId: 5, attempts: 1 },
      { id: 4, state: 'dead', attempts: 2, renderLevel: 1, lastError: 'gave up', availableAt: T0 + 60_000 },
      { id: 5, state: 'dead', attempts: 1, lastError: 'gave up', availableAt: T0 + 10_000 },
      { id: 6, state: 'pending' },
    ]);
    expect(answers.rows.attempts).toEqual([
      { id: 1, deliveryId: 1, webhookId: 1, at: T0 + 1_000, status: 200, latencyMs: 42, outcome: 'sent', error: null, rateLimitScope: null, opId: null },
      { id: 2, deliveryId: 2, webhookId: 1, at: T0 + 1_000, status: 200, latencyMs: 42, outcome: 'sent', error: null, rateLimitScope: null, opId: null },
      { id: 3, deliveryId: 3, webhookId: 1, at: T0 + 2_000, status: 200, latencyMs: 42, outcome: 'sent', error: null, rateLimitScope: null, opId: null },
      { id: 4, deliveryId: 4, webhookId: 1, at: T0 + 3_000, status: 500, latencyMs: 42, outcome: 'retry', error: 'boom', rateLimitScope: null, opId: null },
      { id: 5, deliveryId: null, webhookId: 1, at: T0 + 61_000, status: 400, latencyMs: 42, outcome: 'dead', error: null, rateLimitScope: 'user', opId: null },
    ]);
    expect(answers.rows.deadLetters).toEqual([
      { id: 1, deliveryId: 4, reason: 'gave up', discordError: '{"code":50035}', createdAt: T0 + 61_000, replayedAt: null, opId: null },
      { id: 2, deliveryId: 5, reason: 'gave up', discordError: '{"code":50035}', createdAt: T0 + 61_000, replayedAt: null, opId: null },
    ]);
  });

  it('threads: setThread, follow-ups into each thread (a waiting repeat covers the next), an escalation mention into the thread, dropThread', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const o = b.store.deliveries;
      await o.enqueue(1, 1, 2, T0);
      await o.enqueue(1, 2, 1, T0);
      await o.claim(1, T0, 10, 3, 30_000);
      await o.claim(2, T0, 10, 3, 30_000);
      await o.markSent([1], 1, 'm-1', T0 + 1_000, attempt([1], T0 + 1_000, 200, 'sent'));
      await o.markSent([2], 2, 'm-2', T0 + 1_000, attempt([2], T0 + 1_000, 200, 'sent'));
      const noThreads = [...(await o.enqueueThreadNotes(1, 'ack', T0 + 2_000))];
      await o.setThread('m-2', 'th-2');
      await o.setThread('m-1', 'th-1');
      const repeat = [...(await o.enqueueThreadNotes(1, 'repeat', T0 + 3_000))];
      const repeatAgain = [...(await o.enqueueThreadNotes(1, 'repeat', T0 + 4_000))];
      const ack = [...(await o.enqueueThreadNotes(1, 'ack', T0 + 5_000))];
      await o.enqueue(1, 2, 0, T0 + 6_000, { mention: 'user:5' });
      await o.enqueue(1, 1, 0, T0 + 6_000, { mention: 'role:5' });
      await o.dropThread('th-1');
      return { noThreads, repeat, repeatAgain, ack, rows: (await b.rows()).deliveries };
    });
    expect(answers).toMatchObject({ noThreads: [], repeat: [1, 2], repeatAgain: [], ack: [1, 2] });
    expect(answers.rows).toMatchObject([
      { id: 1, threadId: null, note: null },
      { id: 2, threadId: 'th-2', note: null },
      { id: 3, channelId: 1, note: 'repeat', threadId: null, priority: 2, sortKey: T0 + 3_000 + 2 * AGING, state: 'pending' },
      { id: 4, channelId: 2, note: 'repeat', threadId: 'th-2', priority: 1 },
      { id: 5, channelId: 1, note: 'ack', threadId: null },
      { id: 6, channelId: 2, note: 'ack', threadId: 'th-2' },
      { id: 7, channelId: 2, note: 'escalation', threadId: 'th-2', mention: 'user:5' },
      { id: 8, channelId: 1, note: 'escalation', threadId: null, mention: 'role:5' },
    ]);
  });

  it('incidents: the card, in flight, claimIncident (but except), attach, one backlog count per incident, a note per incident thread', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const o = b.store.deliveries;
      await o.enqueue(6, 1, 2, T0);
      await o.enqueue(7, 1, 2, T0 + 1_000);
      await o.enqueue(8, 1, 2, T0 + 2_000);
      await o.enqueue(1, 1, 2, T0);
      const backlog = await o.backlogOf(1, T0 + 5_000);
      const noCard = await o.incidentCard(7, 1);
      const first = await o.claim(1, T0 + 5_000, 1, 3, 30_000);
      const inFlight = [await o.incidentInFlight(7, 1, new Set()), await o.incidentInFlight(7, 1, new Set([1])), await o.incidentInFlight(8, 1, new Set())];
      const members = await o.claimIncident(7, 1, T0 + 5_000, 30_000, [first[0]!.id, 2]);
      const again = await o.claimIncident(7, 1, T0 + 5_000, 30_000, []);
      await o.markSent([1, 3], 1, 'card-1', T0 + 6_000, attempt([1, 3], T0 + 6_000, 200, 'sent'));
      const card = await o.incidentCard(7, 1);
      // Member 2 joins the posted card; a sent or dead one is never attached again.
      await o.attach([2, 1], card!, T0 + 7_000);
      await o.attach([], card!, T0 + 7_000);
      await o.setThread('card-1', 'th-c');
      const notes = [...(await o.enqueueThreadNotes(6, 'ack', T0 + 8_000)), ...(await o.enqueueThreadNotes(7, 'ack', T0 + 8_000))];
      await b.seed({ messageOps: [{ channelId: 1, discordMessageId: 'card-1', deliveryId: 1, purpose: 'sync', availableAt: T0, createdAt: T0, state: 'done', outcome: 'deleted_by_bot' }] });
      const deletedCard = await o.incidentCard(7, 1);
      return { backlog, noCard, first: first.map((c) => c.id), inFlight, members: members.map((c) => c.id), again: again.map((c) => c.id), card, notes, deletedCard, rows: (await b.rows()).deliveries };
    });
    expect(answers).toMatchObject({
      backlog: 2,
      noCard: undefined,
      first: [1],
      inFlight: [true, false, false],
      members: [3],
      again: [2],
      card: { deliveryId: 3, webhookId: 1, messageId: 'card-1', threadId: null, sentAt: T0 + 6_000 },
      notes: [1],
      deletedCard: undefined,
    });
    expect(answers.rows).toMatchObject([
      { id: 1, state: 'sent', threadId: 'th-c' },
      { id: 2, state: 'sent', discordMessageId: 'card-1', sentAt: T0 + 6_000, webhookId: 1, threadId: 'th-c' },
      { id: 3, state: 'sent', threadId: 'th-c' },
      { id: 4, state: 'pending' },
      { id: 5, note: 'ack', alertId: 6, threadId: 'th-c' },
    ]);
  });

  it('deadLetterChannel, cancelForAlert, reviveDead, recoverLeases and reclaimExpiredLeases (but held)', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      const o = b.store.deliveries;
      for (const a of [1, 2, 3]) await o.enqueue(a, 1, 2, T0);
      for (const a of [1, 4, 5]) await o.enqueue(a, 2, 2, T0);
      await o.claim(1, T0, 1, 3, 30_000);
      const dropped = await o.deadLetterChannel(1, 'channel removed', T0 + 1_000);
      const droppedNone = await o.deadLetterChannel(9, 'nothing', T0);
      const cancelled = [await o.cancelForAlert(1), await o.cancelForAlert(1)];
      await o.reviveDead(2, 0, T0 + 2_000);
      await o.claim(2, T0, 10, 3, 10_000);
      await o.claim(1, T0 + 2_000, 10, 3, 10_000);
      const reclaimed = await o.reclaimExpiredLeases(T0 + 11_000, new Set([6]));
      const reclaimedNone = await o.reclaimExpiredLeases(T0 + 11_000, new Set([6]));
      const recovered = [await o.recoverLeases(), await o.recoverLeases()];
      return { dropped, droppedNone, cancelled, reclaimed, reclaimedNone, recovered, rows: await b.rows() };
    });
    expect(answers).toMatchObject({ dropped: 2, droppedNone: 0, cancelled: [1, 0], reclaimed: new Map([[2, 1]]), reclaimedNone: new Map(), recovered: [3, 0] });
    expect(answers.rows.deliveries).toMatchObject([
      { id: 1, state: 'pending', leaseUntil: null },
      { id: 2, state: 'pending', attempts: 0, createdAt: T0 + 2_000, availableAt: T0 + 2_000, sortKey: T0 + 2_000 },
      { id: 3, state: 'dead', lastError: 'channel removed', attempts: 1 },
      { id: 4, state: 'cancelled', lastError: 'alert retracted before it was sent' },
      { id: 5, state: 'pending' },
      { id: 6, state: 'pending' },
    ]);
    expect(answers.rows.deadLetters).toMatchObject([
      { deliveryId: 2, reason: 'channel removed', discordError: null, createdAt: T0 + 1_000 },
      { deliveryId: 3, reason: 'channel removed' },
    ]);
  });

  it('inside a transaction: its writes commit together, or roll back with the throw', async () => {
    const answers = await onBoth(async (b) => {
      await b.seed(BASE);
      await b.store.transaction(async (tx) => {
        await tx.deliveries.enqueue(1, 1, 2, T0);
        await tx.deliveries.claim(1, T0, 10, 3, 30_000);
      });
      const undone = await b.store
        .transaction(async (tx) => {
          await tx.deliveries.markSent([1], 1, 'm-1', T0, attempt([1], T0, 200, 'sent'));
          await tx.deliveries.enqueue(2, 1, 2, T0);
          throw new Error('undo');
        })
        .catch((err: unknown) => String(err));
      const rows = await b.rows();
      return { undone, rows: rows.deliveries.length, state: (rows.deliveries[0] as { state: string }).state, attempts: rows.attempts.length };
    });
    expect(answers).toEqual({ undone: 'Error: undo', rows: 1, state: 'leased', attempts: 0 });
  });
});

describe('on PostgreSQL only', () => {
  /** Claims in a transaction held open (its rows locked) while `during` runs; returns both claims' ids. */
  async function whileHeld<T>(first: (tx: PgStore) => Promise<{ id: number }[]>, during: () => Promise<T>): Promise<{ first: number[]; during: T }> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let claimed!: () => void;
    const hasClaimed = new Promise<void>((r) => (claimed = r));
    const holding = onPg.transaction(async (tx) => {
      const rows = await first(tx);
      claimed();
      await held;
      return rows.map((r) => r.id);
    });
    await hasClaimed;
    const answer = await during();
    release();
    return { first: await holding, during: answer };
  }

  it('two claims at once on one channel lease disjoint rows, in queue order', async () => {
    await backends[1]!.seed(BASE);
    for (const a of [1, 2, 3, 4, 5, 1]) await onPg.deliveries.enqueue(a, 1, 2, T0);
    const { first, during } = await whileHeld(
      (tx) => tx.deliveries.claim(1, T0, 4, 3, 30_000),
      async () => (await onPg.transaction((tx) => tx.deliveries.claim(1, T0, 4, 3, 30_000))).map((c) => c.id),
    );
    expect(first).toEqual([1, 2, 3, 4]);
    expect(during).toEqual([5, 6]);
  });

  it('many claims at once, each on the pool, never lease one row twice', async () => {
    await backends[1]!.seed(BASE);
    for (let i = 0; i < 40; i++) await onPg.deliveries.enqueue((i % 5) + 1, 1, i % 4, T0 + i);
    const claims = await Promise.all(Array.from({ length: 8 }, () => onPg.deliveries.claim(1, T0 + 100, 6, 3, 30_000)));
    const ids = claims.flatMap((c) => c.map((d) => d.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(40);
  });

  it('an incident claim while a lane holds a member skips it; the lane claiming next gets the rest of the channel', async () => {
    await backends[1]!.seed(BASE);
    for (const a of [6, 7, 8]) await onPg.deliveries.enqueue(a, 1, 2, T0);
    await onPg.deliveries.enqueue(1, 1, 2, T0);
    const { first, during } = await whileHeld(
      (tx) => tx.deliveries.claim(1, T0, 1, 3, 30_000),
      async () => ({
        incident: (await onPg.deliveries.claimIncident(7, 1, T0, 30_000, [])).map((c) => c.id),
        lane: (await onPg.deliveries.claim(1, T0, 10, 3, 30_000)).map((c) => c.id),
      }),
    );
    expect(first).toEqual([1]);
    expect(during).toEqual({ incident: [2, 3], lane: [4] });
  });

  it('two incident claims at once lease disjoint members', async () => {
    await backends[1]!.seed(BASE);
    for (const a of [6, 7, 8, 1]) await onPg.deliveries.enqueue(a, 1, 2, T0);
    const { first, during } = await whileHeld(
      (tx) => tx.deliveries.claimIncident(7, 1, T0, 30_000, []),
      async () => (await onPg.deliveries.claimIncident(7, 1, T0, 30_000, [])).map((c) => c.id),
    );
    expect(first).toEqual([1, 2, 3]);
    expect(during).toEqual([]);
  });

  it('dropping a channel while a claim holds rows waits for it and leaves what it leased alone', async () => {
    await backends[1]!.seed(BASE);
    for (const a of [1, 2, 3]) await onPg.deliveries.enqueue(a, 1, 2, T0);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let claimed!: () => void;
    const hasClaimed = new Promise<void>((r) => (claimed = r));
    const holding = onPg.transaction(async (tx) => {
      await tx.deliveries.claim(1, T0, 2, 3, 30_000);
      claimed();
      await held;
    });
    await hasClaimed;
    const dropping = onPg.deliveries.deadLetterChannel(1, 'channel removed', T0);
    await new Promise((r) => setTimeout(r, 200));
    release();
    await holding;
    expect(await dropping).toBe(1);
    const rows = (await backends[1]!.rows()).deliveries as { state: string }[];
    expect(rows.map((r) => r.state)).toEqual(['leased', 'leased', 'dead']);
  });
});
