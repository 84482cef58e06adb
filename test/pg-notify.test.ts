import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Listener, notify } from '../src/store/pg/notify.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import { pgDatabase } from './support/postgres.js';
import { waitFor } from './support/stack.js';

const db = pgDatabase();
let a: PgHandle;
let b: PgHandle;
let listener: Listener;
const wakes: number[] = [];
const caches: string[] = [];
const errors: string[] = [];
let missed = 0;

beforeAll(async () => {
  a = await openPg(db.url, { poolSize: 2 });
  b = await openPg(db.url, { poolSize: 2 });
  listener = new Listener(
    a.client,
    { onWake: (id) => wakes.push(id), onCache: (c) => caches.push(c), onMissed: () => missed++, onError: (e) => errors.push(e.message) },
    { minBackoffMs: 50, maxBackoffMs: 1_000 },
  );
  await listener.start();
});
afterAll(async () => {
  await listener?.close();
  await a?.close();
  await b?.close();
});

/** A wake sent on its own (autocommit) from instance B: a marker that everything committed before it has arrived. */
async function marker(id: number): Promise<void> {
  await notify(b.db, { kind: 'wake', channelId: id });
  await waitFor(`wake ${id} to arrive`, () => wakes.includes(id), 10_000);
}

describe('notifications', () => {
  it('delivers what another instance sent in a transaction when it commits, not before', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let sent!: () => void;
    const inside = new Promise<void>((r) => (sent = r));
    const tx = b.db.transaction(async (t) => {
      await notify(t, { kind: 'wake', channelId: 42 });
      await notify(t, { kind: 'cache', cache: 'routes' });
      sent();
      await held;
    });
    await inside;
    // Sent inside the open transaction, then a marker outside it arrives: the transaction's notices wait for its commit.
    await marker(1);
    expect(wakes).not.toContain(42);
    expect(caches).toEqual([]);
    release();
    await tx;
    await waitFor('the committed notices', () => wakes.includes(42) && caches.includes('routes'), 10_000);
  });

  it('never delivers what a rolled-back transaction sent', async () => {
    await expect(
      b.db.transaction(async (t) => {
        await notify(t, { kind: 'wake', channelId: 43 });
        await notify(t, { kind: 'cache', cache: 'mutes' });
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    // Notices arrive in commit order: had the rolled-back ones been sent, they would be here before this marker.
    await marker(2);
    expect(wakes).not.toContain(43);
    expect(caches).not.toContain('mutes');
  });

  it('reconnects after its connection is killed, says notices may have been missed, and receives the next one', async () => {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN herald_wake%' AND pid <> pg_backend_pid()`);
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await waitFor('the listener to reconnect', () => missed === 1 && listener.listening, 10_000);
    expect(errors.join(' ')).toMatch(/terminat/i);
    await notify(b.db, { kind: 'cache', cache: 'sources' });
    await waitFor('the notice after the reconnect', () => caches.includes('sources'), 10_000);
  });

  it('reports a payload that is not a channel id, and goes on', async () => {
    await b.pool.query(`SELECT pg_notify('herald_wake', 'not-a-number')`);
    await marker(3);
    expect(errors.some((e) => e.includes('not a channel id'))).toBe(true);
  });
});
