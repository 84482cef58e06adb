import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LaneLeases } from '../src/store/pg/leases.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import { pgDatabase } from './support/postgres.js';
import { waitFor } from './support/stack.js';

/** Two Herald instances: each its own pool on the same database, as two processes would have. */
const db = pgDatabase();
let a: PgHandle;
let b: PgHandle;
let leasesA: LaneLeases;
let leasesB: LaneLeases;
const CHANNELS = Array.from({ length: 24 }, (_, i) => i + 1);

beforeAll(async () => {
  a = await openPg(db.url, { poolSize: 4 });
  b = await openPg(db.url, { poolSize: 4 });
  leasesA = new LaneLeases(a.pool);
  leasesB = new LaneLeases(b.pool);
  await a.pool.query(`INSERT INTO channels (id, name, discord_channel_id) SELECT i, 'c' || i, '1000' || i FROM unnest($1::integer[]) AS i`, [CHANNELS]);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

async function ownersInDb(): Promise<Map<number, string>> {
  const r = await a.pool.query<{ channel_id: number; owner: string }>('SELECT channel_id, owner FROM lane_leases WHERE expires_at > clock_timestamp()');
  return new Map(r.rows.map((row) => [row.channel_id, row.owner]));
}

describe('lane leases', () => {
  it('never gives a channel to two instances acquiring at the same time, free or lapsed', async () => {
    for (let round = 0; round < 15; round++) {
      // Odd rounds race for leases a third instance let lapse: the takeover path, not the first insert.
      if (round % 2 === 1) {
        const c = new LaneLeases(a.pool);
        expect(await c.acquire('c', CHANNELS, 1)).toEqual(CHANNELS);
        await waitFor('instance c’s leases to lapse', async () => (await c.owned('c')).length === 0);
      }
      const shuffled = [...CHANNELS].sort(() => Math.random() - 0.5);
      const [a1, b1, a2, b2] = await Promise.all([
        leasesA.acquire('a', CHANNELS, 30_000),
        leasesB.acquire('b', [...CHANNELS].reverse(), 30_000),
        leasesA.acquire('a', shuffled, 30_000),
        leasesB.acquire('b', shuffled, 30_000),
      ]);
      const ofA = new Set([...a1!, ...a2!]);
      const ofB = new Set([...b1!, ...b2!]);
      expect([...ofA].filter((id) => ofB.has(id))).toEqual([]);
      expect([...ofA, ...ofB].sort((x, y) => x - y)).toEqual(CHANNELS);
      const owners = await ownersInDb();
      for (const id of CHANNELS) expect(owners.get(id)).toBe(ofA.has(id) ? 'a' : 'b');
      expect(await leasesA.owned('a')).toEqual([...ofA].sort((x, y) => x - y));
      await Promise.all([leasesA.release('a'), leasesB.release('b')]);
    }
  });

  it('leaves a held lease alone and hands a lapsed one over', async () => {
    expect(await leasesA.acquire('a', [1, 2], 300)).toEqual([1, 2]);
    expect(await leasesB.acquire('b', [1, 2, 3], 30_000)).toEqual([3]);
    await waitFor('b to take over a’s lapsed leases', async () => (await leasesB.acquire('b', [1, 2], 30_000)).length === 2, 10_000);
    expect(await leasesB.owned('b')).toEqual([1, 2, 3]);
    // a's lease is gone: renewing it fails, and it owns nothing.
    expect(await leasesA.renew('a', [1, 2], 30_000)).toEqual([]);
    expect(await leasesA.owned('a')).toEqual([]);
    await leasesB.release('b');
  });

  it('renews only the owner’s leases', async () => {
    expect(await leasesA.acquire('a', [5], 30_000)).toEqual([5]);
    const before = (await a.pool.query<{ e: Date }>('SELECT expires_at AS e FROM lane_leases WHERE channel_id = 5')).rows[0]!.e;
    expect(await leasesB.renew('b', [5], 60_000)).toEqual([]);
    const after = (await a.pool.query<{ e: Date; owner: string }>('SELECT expires_at AS e, owner FROM lane_leases WHERE channel_id = 5')).rows[0]!;
    expect(after).toEqual({ e: before, owner: 'a' });
    expect(await leasesA.renew('a', [5], 60_000)).toEqual([5]);
    const renewed = (await a.pool.query<{ e: Date }>('SELECT expires_at AS e FROM lane_leases WHERE channel_id = 5')).rows[0]!.e;
    expect(renewed.getTime()).toBeGreaterThan(before.getTime());
    await leasesA.release('a');
  });

  it('frees a released lease at once', async () => {
    expect(await leasesA.acquire('a', [7, 8], 600_000)).toEqual([7, 8]);
    expect(await leasesB.acquire('b', [7, 8], 600_000)).toEqual([]);
    expect(await leasesA.release('a', [7])).toEqual([7]);
    expect(await leasesB.acquire('b', [7, 8], 600_000)).toEqual([7]);
    expect(await leasesA.owned('a')).toEqual([8]);
    expect(await leasesB.owned('b')).toEqual([7]);
    await Promise.all([leasesA.release('a'), leasesB.release('b')]);
  });

  it('counts expiry by the database’s clock, not the instance’s', async () => {
    expect(await leasesA.acquire('a', [9], 60_000)).toEqual([9]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // An instance whose clock runs an hour ahead still finds the lease held.
      vi.setSystemTime(Date.now() + 3_600_000);
      expect(await leasesB.acquire('b', [9], 60_000)).toEqual([]);
      expect(await leasesA.owned('a')).toEqual([9]);
    } finally {
      vi.useRealTimers();
    }
    await leasesA.release('a');
  });
});
