/**
 * SQLite result codes (better-sqlite3's `err.code`) that say the database cannot take writes right now,
 * not that the statement is wrong: another process holds the write lock (BUSY, LOCKED), the disk is full
 * (FULL), the file is read-only or unreadable (READONLY, IOERR, CANTOPEN). Extended codes such as
 * SQLITE_BUSY_SNAPSHOT or SQLITE_IOERR_WRITE start with their primary code.
 */
const UNAVAILABLE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL'];

export function sqliteCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** True for a database that cannot write now (retry later), false for anything else (a bug, a constraint). */
export function isDbUnavailable(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && UNAVAILABLE.some((c) => code === c || code.startsWith(`${c}_`));
}

/** A thrown error that stands for "the database is busy or unwritable": HTTP answers it with 503 and Retry-After. */
export class DatabaseUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(cause: unknown) {
    super(`the database cannot take writes right now (${sqliteCode(cause) ?? 'unknown error'})`, { cause });
  }
}

/** How long a failed write keeps /readyz failing. */
export const WRITE_FAILURE_WINDOW_MS = 15_000;

/**
 * The last write failure Herald saw (ingest, delivery, timers), for /readyz: a write that failed within
 * the last `windowMs` makes Herald not ready, with the reason. Writes that succeed are not tracked: the
 * window ends on its own, and /readyz also makes a probe of its own.
 */
export class WriteHealth {
  private last: { at: number; code: string; message: string } | undefined;

  constructor(private readonly windowMs = WRITE_FAILURE_WINDOW_MS) {}

  noteFailure(err: unknown, now = Date.now()): void {
    this.last = { at: now, code: sqliteCode(err) ?? 'error', message: err instanceof Error ? err.message : String(err) };
  }

  /** A plain sentence when a write failed within the window, else undefined. */
  problem(now = Date.now()): string | undefined {
    const l = this.last;
    if (!l || now - l.at > this.windowMs) return undefined;
    return `database: a write failed ${Math.round((now - l.at) / 1000)} s ago (${l.code}: ${l.message})`;
  }
}

/** True for SQLite's UNIQUE constraint failure (a race past a pre-check). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
