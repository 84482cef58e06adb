import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { LOCK_KEYS, LOCK_SPACE } from './locks.js';
import * as schema from './schema.js';

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

/**
 * What a PostgreSQL store module runs its SQL on: drizzle's base class of both the pool's database (`PgDb`) and a
 * transaction of it (`NodePgTransaction`). Built over the pool, each statement takes a pooled connection of its
 * own; built over a transaction, every statement runs on that transaction's connection (`modules.ts`).
 */
export type PgExecutor = PgDatabase<NodePgQueryResultHKT, typeof schema>;

/** Where a database is, for messages and logs: never its password, never its URL (which may hold the password). */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
}

/** An open PostgreSQL database: a pool for the store, and fresh dedicated clients for sessions that must stay put. */
export interface PgHandle {
  pool: pg.Pool;
  db: PgDb;
  target: PgTarget;
  /**
   * A new, not yet connected client of the same database, outside the pool: for a session-level lock or a LISTEN,
   * which live and die with one connection. Its owner listens to its `error` event and ends it.
   */
  client(): pg.Client;
  close(): Promise<void>;
}

/** drizzle/pg/, found from source (src/store/pg/) or compiled (dist/src/store/pg/), as sqlite/open.ts finds drizzle/. */
const MIGRATIONS = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../drizzle/pg'), resolve(here, '../../../../drizzle/pg')];
  return candidates.find((dir) => existsSync(resolve(dir, 'meta/_journal.json'))) ?? candidates[0]!;
})();

/**
 * The PostgreSQL database could not be reached, logged into or migrated, or its URL is not one. The message names
 * host, port and database (when the URL could be read) and the cause, never the password or the URL; no `cause`
 * is attached, since the driver's errors are not written to keep secrets out.
 */
export class PgOpenError extends Error {
  override name = 'PgOpenError';
  constructor(
    readonly target: PgTarget | null,
    reason: string,
    /** The driver's or the server's code (ECONNREFUSED, 28P01, 3D000, …), when it gave one. */
    readonly code?: string,
  ) {
    super(target ? `cannot open the PostgreSQL database ${target.database} on ${target.host}:${target.port}: ${reason}` : `cannot open the PostgreSQL database: ${reason}`);
  }
}

interface ParsedUrl {
  target: PgTarget;
  /** The password as written in the URL and decoded: both are scrubbed from the driver's messages. */
  secrets: string[];
}

function parseUrl(url: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PgOpenError(null, 'the database URL is not a valid URL (postgres://user:password@host:port/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new PgOpenError(null, `the database URL must start with postgres:// or postgresql://, not ${u.protocol}//`);
  const param = (name: string) => u.searchParams.get(name) || undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const user = decode(u.username) || param('user') || 'postgres';
  const target: PgTarget = {
    host: decode(u.hostname) || param('host') || 'localhost',
    port: Number(u.port || param('port') || 5432),
    // libpq's rule: no database named, the user's name.
    database: decode(u.pathname.slice(1)) || user,
  };
  const secrets = [u.password, decode(u.password), param('password') ?? ''].filter((s) => s.length > 0);
  return { target, secrets };
}

/**
 * The driver's message for an error, with any secret blanked out: an AggregateError's of each address, and of a
 * failed migration statement the server's own (drizzle's wrapper quotes the whole statement).
 */
function reasonOf(err: unknown, secrets: readonly string[]): { reason: string; code?: string } {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (typeof cause?.code === 'string') {
    const inner = reasonOf(cause, secrets);
    return { ...inner, reason: `migration failed: ${inner.reason}` };
  }
  const e = err as { message?: string; code?: string; errors?: { message?: string; code?: string }[] };
  const parts = e.errors?.length ? e.errors.map((x) => x.message ?? String(x)) : [e.message || String(err)];
  let reason = [...new Set(parts)].join('; ');
  for (const s of secrets) reason = reason.split(s).join('***');
  const code = e.code ?? e.errors?.find((x) => x.code)?.code;
  return { reason: code && !reason.includes(code) ? `${reason} (${code})` : reason, ...(code ? { code } : {}) };
}

export interface PgOpenOptions {
  /** Connections the pool may open at once (node-postgres's `max`). */
  poolSize: number;
  /** How long a new connection may take before it fails (default 10 s). */
  connectTimeoutMs?: number;
  /** An idle pooled connection failed (the server restarted, the network dropped): the pool replaces it. */
  onError?: (err: Error) => void;
}

/**
 * Opens a pool on the database at `url` (postgres://…) and applies the pending migrations of drizzle/pg/ under a
 * session-level advisory lock, so instances started together migrate once: the first takes the lock and migrates,
 * the others wait for it and then find every migration applied. Every failure is a PgOpenError.
 */
export async function openPg(url: string, opts: PgOpenOptions): Promise<PgHandle> {
  if (!Number.isInteger(opts.poolSize) || opts.poolSize < 1) throw new Error(`a PostgreSQL pool needs at least one connection (poolSize ${opts.poolSize})`);
  const { target, secrets } = parseUrl(url);
  const fail = (err: unknown): never => {
    const { reason, code } = reasonOf(err, secrets);
    throw new PgOpenError(target, reason, code);
  };
  const base: pg.ClientConfig = { connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, keepAlive: true };
  const client = () => new pg.Client(base);
  const pool = new pg.Pool({ ...base, max: opts.poolSize });
  // Without a listener an idle client's error would crash the process.
  pool.on('error', (err) => opts.onError?.(err));
  // The pool listens only while a client is idle. A checked-out one whose connection dies between two statements (a
  // transaction's, while its callback awaits) would emit `error` to nobody and crash the process: this listener
  // keeps it. Nothing is lost: the client is no longer queryable, so its next statement fails (the transaction's
  // caller gets the error), and the pool drops it when it is given back.
  pool.on('connect', (c) => c.on('error', () => {}));
  try {
    await migrateOnce(client());
  } catch (err) {
    await pool.end().catch(() => {});
    fail(err);
  }
  const db = drizzle(pool, { schema }) as PgDb;
  return { pool, db, target, client, close: () => pool.end() };
}

async function migrateOnce(client: pg.Client): Promise<void> {
  // A connection that dies while held here fails the query under way; this listener keeps the event from crashing.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, LOCK_KEYS.migrate]);
    try {
      await migrate(drizzle(client), { migrationsFolder: MIGRATIONS });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, LOCK_KEYS.migrate]).catch(() => {});
    }
  } finally {
    // Ending the session releases the lock in any case.
    await client.end().catch(() => {});
  }
}
