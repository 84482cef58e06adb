import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { secureDatabaseFiles, secureDatabasePath } from './permissions.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/**
 * The project's drizzle/ folder: three levels up from this file when run from source (src/store/sqlite/), four
 * when run compiled (dist/src/store/sqlite/); the first that holds a migration journal wins.
 */
const MIGRATIONS = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../drizzle'), resolve(here, '../../../../drizzle')];
  return candidates.find((dir) => existsSync(resolve(dir, 'meta/_journal.json'))) ?? candidates[0]!;
})();

/** How long one statement waits for another connection's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 20;

/**
 * Opens (creating if needed) Herald's SQLite file in WAL mode and applies pending migrations.
 * Commits survive a crash of the process (kill -9) in either mode; with `sync: 'full'` the store also makes them
 * survive power loss, by fsyncing the write-ahead log off the event loop (`durability.ts`), so the connection
 * itself runs `synchronous=NORMAL` in both modes.
 * The folder ends up 0700 and the files 0600 (see permissions.ts); `onWarning` hears what could not be tightened.
 */
/**
 * The database at `path` could not be opened, created or migrated: a setting or a file for the operator to fix
 * (the message names the path and SQLite's or the system's cause), not a bug.
 */
export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot open the database ${resolve(path)} (HERALD_DB): ${causeOf(cause)}`, { cause });
  }
}

function causeOf(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  // System errors say it with the path already ("EACCES: permission denied, mkdir '/x'"); SQLite's are short ("file is not a database").
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** `openDb`, with every failure to open, create or migrate the file turned into a DatabaseOpenError. */
export function openDb(path: string, opts: { onWarning?: (message: string) => void } = {}): Db {
  try {
    return openDbOrThrow(path, opts);
  } catch (err) {
    throw new DatabaseOpenError(path, err);
  }
}

function openDbOrThrow(path: string, opts: { onWarning?: (message: string) => void }): Db {
  const warnings = path === ':memory:' ? [] : secureDatabasePath(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // Overwrites what an update or delete leaves behind in a page (a removed webhook's token) at no extra I/O.
  sqlite.pragma('secure_delete = FAST');
  // WAL and SHM files left by an earlier run (or made before Herald set modes) are tightened too.
  if (path !== ':memory:') secureDatabaseFiles(path, warnings);
  for (const w of warnings) opts.onWarning?.(w);
  // NORMAL in WAL mode: a commit writes the log without fsyncing it on this (the only) thread. For 'full', the
  // store fsyncs the log in the thread pool before an answer that promises durability (durability.ts).
  sqlite.pragma('synchronous = NORMAL');
  // Short on purpose: better-sqlite3 waits for a lock synchronously, so a long busy_timeout would freeze
  // HTTP, the bot and delivery together while another process writes. A busy database fails fast and
  // is retried asynchronously (src/guard.ts, the outcome recorder), and ingest answers 503.
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // A bounded page cache keeps RSS flat with a large queue; the OS cache does the rest.
  sqlite.pragma('cache_size = -16000');
  const db = drizzle(sqlite, { schema }) as Db;
  // Foreign keys off while migrating: a migration that rebuilds a table (drizzle-kit's way to change a
  // column in SQLite) drops the old one, and with them on, that drop would cascade-delete child rows.
  // The pragma is a no-op inside a transaction, so it is set around the migrator, then checked.
  sqlite.pragma('foreign_keys = OFF');
  migrate(db, { migrationsFolder: MIGRATIONS });
  sqlite.pragma('foreign_keys = ON');
  const broken = sqlite.pragma('foreign_key_check') as unknown[];
  if (broken.length > 0) throw new Error(`database migration left ${broken.length} rows with broken references`);
  return db;
}
