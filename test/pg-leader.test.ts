import { createServer, connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_KEYS, LOCK_SPACE } from '../src/store/pg/locks.js';
import { Leader } from '../src/store/pg/leader.js';
import { openPg, type PgHandle } from '../src/store/pg/open.js';
import { pgDatabase } from './support/postgres.js';
import { waitFor } from './support/stack.js';

const db = pgDatabase();
let a: PgHandle;
let b: PgHandle;

beforeAll(async () => {
  a = await openPg(db.url, { poolSize: 2 });
  b = await openPg(db.url, { poolSize: 2 });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** From a third connection, as an operator or a failing network would: ends the session holding the bot lock. */
async function killLeaderSession(): Promise<number> {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const r = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LOCK_SPACE, LOCK_KEYS.bot],
    );
    return r.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

/**
 * A TCP relay to the server that can go silent without closing (a cut network: the sockets stay open, nothing
 * arrives), and then cut its connections to the server (as the server ends a session whose peer vanished).
 */
async function relay(to: URL) {
  const pairs: [Socket, Socket][] = [];
  let silent = false;
  // Half-open sockets, so that a silent relay swallows a FIN too (a client's goodbye is lost like any other packet).
  const server = createServer({ allowHalfOpen: true }, (down) => {
    const up = connect({ port: Number(to.port || 5432), host: to.hostname, allowHalfOpen: true });
    pairs.push([down, up]);
    down.on('data', (d) => void (silent || up.write(d)));
    up.on('data', (d) => void (silent || down.write(d)));
    down.on('end', () => void (silent || up.end()));
    up.on('end', () => void (silent || down.end()));
    const close = () => (down.destroy(), up.destroy());
    for (const s of [down, up]) s.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(to);
  url.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: url.toString(),
    goSilent: () => void (silent = true),
    cut: () => pairs.forEach(([, up]) => up.destroy()),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('bot leader', () => {
  it('one instance leads; when its connection is killed it knows it lost, and the other takes over within seconds', async () => {
    const changesA: boolean[] = [];
    const errorsA: string[] = [];
    const leaderA = new Leader(a.client, { onChange: (l) => changesA.push(l), onError: (e) => errorsA.push(e.message) });
    const leaderB = new Leader(b.client);
    try {
      expect(await leaderA.tryLead()).toBe(true);
      expect(leaderA.isLeader).toBe(true);
      expect(await leaderB.tryLead()).toBe(false);
      expect(leaderB.isLeader).toBe(false);
      // Leading, a try is a check of the connection: still the leader.
      expect(await leaderA.tryLead()).toBe(true);

      expect(await killLeaderSession()).toBe(1);
      const killedAt = Date.now();
      await waitFor('A to notice it lost the lead', () => !leaderA.isLeader, 5_000);
      expect(changesA).toEqual([true, false]);
      expect(errorsA.join(' ')).toMatch(/terminat/i);
      await waitFor('B to take the lead', () => leaderB.tryLead(), 5_000, 100);
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(leaderB.isLeader).toBe(true);
      // A tries again on a new connection, and finds B leading.
      expect(await leaderA.tryLead()).toBe(false);
    } finally {
      await leaderA.close();
      await leaderB.close();
    }
  });

  it('frees the lead at once on close, and never has two leaders among overlapping tries', async () => {
    const leaderA = new Leader(a.client);
    const leaderB = new Leader(b.client);
    try {
      const tries = await Promise.all([leaderA.tryLead(), leaderB.tryLead(), leaderA.tryLead(), leaderB.tryLead()]);
      expect([leaderA.isLeader, leaderB.isLeader].filter(Boolean)).toHaveLength(1);
      expect(tries.filter(Boolean)).toHaveLength(2); // the two overlapping tries of the winner share one answer
      const [first, second] = leaderA.isLeader ? [leaderA, leaderB] : [leaderB, leaderA];
      await first.close();
      expect(first.isLeader).toBe(false);
      expect(await second.tryLead()).toBe(true);
    } finally {
      await leaderA.close();
      await leaderB.close();
    }
  });

  it('steps down when its connection stops answering without closing, and no one leads until the server ends that session', async () => {
    const r = await relay(new URL(db.url));
    const changes: boolean[] = [];
    const errors: string[] = [];
    const leaderA = new Leader(() => new pg.Client({ connectionString: r.url }), { checkTimeoutMs: 500, onChange: (l) => changes.push(l), onError: (e) => errors.push(e.message) });
    const leaderB = new Leader(b.client);
    try {
      expect(await leaderA.tryLead()).toBe(true);
      r.goSilent();
      expect(await leaderA.tryLead()).toBe(false);
      expect(changes).toEqual([true, false]);
      expect(errors.join(' ')).toMatch(/did not answer within 500 ms/);
      // The server still holds A's session, and with it the lock: B cannot lead yet, so there are never two leaders.
      expect(await leaderB.tryLead()).toBe(false);
      r.cut();
      await waitFor('B to take the lead once the server ended A’s session', () => leaderB.tryLead(), 5_000, 100);
    } finally {
      await leaderA.close();
      await leaderB.close();
      await r.close();
    }
  });

  it('answers false, with the reason, when the database cannot be reached', async () => {
    const errors: Error[] = [];
    const leader = new Leader(() => new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/herald', connectionTimeoutMillis: 2_000 }), { onError: (e) => errors.push(e) });
    expect(await leader.tryLead()).toBe(false);
    expect(errors.map((e) => e.message).join(' ')).toMatch(/ECONNREFUSED/);
    await leader.close();
  });
});
