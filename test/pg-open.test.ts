import { inspect } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { LOCK_KEYS, LOCK_SPACE } from '../src/store/pg/locks.js';
import { openPg, PgOpenError, type PgHandle } from '../src/store/pg/open.js';
import { pgDatabase } from './support/postgres.js';
import { waitFor } from './support/stack.js';

const db = pgDatabase();

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Every form an error is seen in: its message, its string, a log of it (util.inspect shows causes and fields), JSON. */
const allTextOf = (err: unknown) => [String(err), (err as Error).message, (err as Error).stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)].join('\n');

async function openError(url: string): Promise<PgOpenError> {
  try {
    const h = await openPg(url, { poolSize: 1, connectTimeoutMs: 5_000 });
    await h.close();
  } catch (err) {
    expect(err).toBeInstanceOf(PgOpenError);
    return err as PgOpenError;
  }
  throw new Error(`openPg succeeded on ${url}`);
}

describe('openPg', () => {
  it('migrates exactly once when several instances start together, each then seeing the whole schema', async () => {
    const handles = await Promise.all(Array.from({ length: 4 }, () => openPg(db.url, { poolSize: 2 })));
    try {
      const applied = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
      expect(Number(applied[0]!.n)).toBe(1);
      for (const h of handles) {
        const tables = await h.pool.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('alerts', 'deliveries', 'lane_leases')`);
        expect(Number(tables.rows[0]!.n)).toBe(3);
      }
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('waits while another instance holds the migration lock, then opens', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, LOCK_KEYS.migrate]);
    let opened: PgHandle | undefined;
    const opening = openPg(db.url, { poolSize: 1 }).then((h) => (opened = h));
    try {
      // The opener's session is queued behind the lock: a not-granted advisory lock of the migration key.
      await waitFor('the opener waiting for the migration lock', async () => {
        const rows = await holder.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND NOT granted`, [LOCK_SPACE, LOCK_KEYS.migrate]);
        return rows.rowCount === 1;
      });
      expect(opened).toBeUndefined();
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, LOCK_KEYS.migrate]);
      const h = await opening;
      expect((await h.db.$client.query('SELECT count(*)::int AS n FROM lane_leases')).rows[0]).toEqual({ n: 0 });
      await h.close();
    } finally {
      await holder.end();
    }
  });

  describe('failures name host, port and database, never the password or the URL', () => {
    const password = 'Pw-n0t-t0-b3-s33n';
    const server = () => new URL(db.url);

    it('nothing listening', async () => {
      const err = await openError(`postgres://herald:${password}@127.0.0.1:1/herald`);
      expect(err.message).toContain('cannot open the PostgreSQL database herald on 127.0.0.1:1');
      expect(err.code).toBe('ECONNREFUSED');
      expect(allTextOf(err)).not.toContain(password);
    });

    it('a user the server refuses', async () => {
      const s = server();
      const err = await openError(`postgres://herald_no_such_user:${password}@${s.host}${s.pathname}`);
      expect(err.message).toContain(`on ${s.hostname}:${s.port}`);
      // 28000: no such role (a trust server); 28P01: the password refused (a server that asks for one).
      expect(['28000', '28P01']).toContain(err.code);
      expect(allTextOf(err)).not.toContain(password);
    });

    it('a database that does not exist', async () => {
      const s = server();
      s.pathname = '/herald_no_such_database';
      const withPassword = s.password ? s.toString() : s.toString().replace('//postgres@', `//postgres:${password}@`);
      const err = await openError(withPassword);
      expect(err.message).toContain(`database herald_no_such_database on ${s.hostname}:${s.port}`);
      expect(err.code).toBe('3D000');
      expect(allTextOf(err)).not.toContain(s.password || password);
    });

    it('a URL that is not one', async () => {
      for (const bad of [`postgres://herald:${password}@db.example:notaport/herald`, `mysql://herald:${password}@db.example/herald`, `herald:${password}`]) {
        const err = await openError(bad);
        expect(err.target).toBeNull();
        expect(err.message).toMatch(/^cannot open the PostgreSQL database: the database URL/);
        expect(allTextOf(err)).not.toContain(password);
      }
    });
  });
});
