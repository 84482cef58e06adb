import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type {} from './pg-server.js';

/**
 * A fresh PostgreSQL database for one test file, on the server `pg-server.ts` found or started for the run:
 * created before the file's tests, dropped (with any connection left open) after them.
 *
 *   const db = pgDatabase();
 *   it('…', async () => { const pool = new pg.Pool({ connectionString: db.url }); … });
 *
 * No server is a failure of every test that uses it, with the reason, never a skip.
 */
export function pgDatabase(): { readonly url: string; readonly name: string } {
  let url: string | undefined;
  const name = `herald_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    const server = inject('heraldPg');
    if ('error' in server) throw new Error(`no PostgreSQL for the tests: ${server.error}`);
    await admin(server.url, (c) => c.query(`CREATE DATABASE ${name}`));
    const u = new URL(server.url);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  afterAll(async () => {
    const server = inject('heraldPg');
    if (url === undefined || 'error' in server) return;
    await admin(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });
  return {
    get url() {
      if (url === undefined) throw new Error('pgDatabase().url is read before its beforeAll ran');
      return url;
    },
    name,
  };
}

async function admin(url: string, fn: (c: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}
