import { describe, expect, it } from 'vitest';
import { WalSync } from '../src/store/sqlite/wal-sync.js';

/** A controllable fsync: each call is recorded, and finishes (or fails) when the test says so. */
function fakeFsync() {
  const calls: { path: string; finish: () => void; fail: (err: Error) => void }[] = [];
  const fsync = (path: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ path, finish: resolve, fail: reject });
    });
  return { calls, fsync };
}

const settled = async (p: Promise<void>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  // Every promise reaction queued so far runs before the next turn of the event loop.
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('WalSync (durability off the event loop)', () => {
  it('fsyncs the write-ahead log at each call, and each caller waits for its own fsync only', async () => {
    const f = fakeFsync();
    const wal = new WalSync('/data/herald.db', f.fsync);
    const first = wal.durable();
    // Arrived while the first fsync runs: that one may have started before their commit, so each gets its own, at once.
    const second = wal.durable();
    expect(f.calls.map((c) => c.path)).toEqual(['/data/herald.db-wal', '/data/herald.db-wal']);
    f.calls[1]!.finish();
    expect(await settled(second)).toBe('resolved');
    expect(await settled(first)).toBe('pending');
    f.calls[0]!.finish();
    expect(await settled(first)).toBe('resolved');
  });

  it('closing waits for the fsyncs already asked for', async () => {
    const f = fakeFsync();
    const wal = new WalSync('/data/herald.db', f.fsync);
    const pending = wal.durable();
    const closed = wal.close();
    expect(await settled(closed)).toBe('pending');
    f.calls[0]!.finish();
    expect(await settled(pending)).toBe('resolved');
    expect(await settled(closed)).toBe('resolved');
  });

  it('a failed fsync rejects its callers, and the next caller tries again', async () => {
    const f = fakeFsync();
    const wal = new WalSync('/data/herald.db', f.fsync);
    const first = wal.durable();
    f.calls[0]!.fail(Object.assign(new Error('I/O error'), { code: 'EIO' }));
    expect(await settled(first)).toBe('rejected');
    const again = wal.durable();
    expect(f.calls).toHaveLength(2);
    f.calls[1]!.finish();
    expect(await settled(again)).toBe('resolved');
  });

  it('with no log file (checkpointed and truncated), it syncs the database file itself', async () => {
    const synced: string[] = [];
    const wal = new WalSync('/data/herald.db', async (path) => {
      if (path.endsWith('-wal')) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      synced.push(path);
    });
    await wal.durable();
    expect(synced).toEqual(['/data/herald.db']);
  });
});
