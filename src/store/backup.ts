import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';

export interface BackupResult {
  /** Pages copied, and the copy's size in bytes. */
  pages: number;
  bytes: number;
}

/**
 * An online backup of Herald's SQLite file into `destination`, through SQLite's backup API (better-sqlite3's
 * `backup`): safe while Herald runs and writes (the copy is one consistent snapshot, including what is still in
 * the write-ahead log), unlike copying the file. The copy holds webhook tokens: it is created 0600, and an
 * existing file is never overwritten. Throws with a plain message (the path named) on any failure, leaving no
 * half-written copy behind.
 */
export async function backupDatabase(dbPath: string, destination: string): Promise<BackupResult> {
  const source = resolve(dbPath);
  const target = resolve(destination);
  if (!existsSync(source)) throw new Error(`there is no database at ${source} (HERALD_DB)`);
  if (source === target) throw new Error('the backup file must not be the database itself');
  // 'wx': fails if it exists; 0600 before SQLite writes a byte of it.
  try {
    closeSync(openSync(target, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'EEXIST' ? `${target} exists already: choose a new file name (a backup never overwrites one)` : `cannot create ${target}: ${(err as Error).message}`);
  }
  let db: Database.Database | undefined;
  try {
    // Not readonly: a read-only connection cannot read a WAL database whose -shm it may not create.
    db = new Database(source, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const progress = await db.backup(target);
    return { pages: progress.totalPages, bytes: statSync(target).size };
  } catch (err) {
    rmSync(target, { force: true });
    throw new Error(`backup of ${source} failed: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}
