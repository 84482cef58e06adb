import type Database from 'better-sqlite3';
import { WalSync } from './wal-sync.js';

/** How soon a commit nobody waits on (a delivery's outcome, a lease) reaches stable storage in 'full' mode. */
export const BACKGROUND_SYNC_MS = 200;

/** When what is committed is also on stable storage (HERALD_DB_SYNC). */
export interface Durability {
  /**
   * Resolves once everything committed before the call survives power loss ('full'), at once ('normal': a
   * commit survives a crash of the process, which is all that mode promises). Rejects if the fsync failed.
   */
  durable(): Promise<void>;
  close(): void;
}

/**
 * 'full': answers that promise durability (ingest's 202, the admin API's changes) wait for `durable()`; every
 * other commit is fsynced within BACKGROUND_SYNC_MS by a timer that looks at whether this connection changed
 * anything since the last fsync. `onError` hears a failed background fsync.
 */
export function durabilityFor(sqlite: Database.Database, path: string, sync: 'full' | 'normal', onError: (err: unknown) => void): Durability {
  if (sync === 'normal' || path === ':memory:') return { durable: () => Promise.resolve(), close: () => {} };
  const wal = new WalSync(path);
  const changes = sqlite.prepare('SELECT total_changes() AS n').pluck();
  let synced = changes.get() as number;
  const timer = setInterval(() => {
    try {
      const now = changes.get() as number;
      if (now === synced) return;
      synced = now;
      wal.durable().catch((err: unknown) => {
        synced = -1; // tried again at the next tick
        onError(err);
      });
    } catch (err) {
      onError(err);
    }
  }, BACKGROUND_SYNC_MS);
  timer.unref();
  return {
    durable: () => wal.durable(),
    close: () => {
      clearInterval(timer);
      void wal.close();
    },
  };
}
