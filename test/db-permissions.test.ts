import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../src/store/sqlite/open.js';

/** Real SQLite files in real folders: the database holds webhook tokens and signing secrets. */
const root = mkdtempSync(join(tmpdir(), 'herald-perms-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o7777;
const touch = (path: string, m: number) => {
  closeSync(openSync(path, 'a', m));
  chmodSync(path, m);
};

function open(dbFile: string): string[] {
  const warnings: string[] = [];
  const db = openDb(dbFile, { onWarning: (w) => warnings.push(w) });
  db.$client.prepare('select 1').get();
  db.$client.close();
  return warnings;
}

describe('database file permissions', () => {
  it('creates the folder 0700 and the database, WAL and SHM files 0600', () => {
    const dbFile = join(root, 'fresh', 'nested', 'herald.db');
    const warnings: string[] = [];
    const db = openDb(dbFile, { onWarning: (w) => warnings.push(w) });
    db.$client.prepare('create table t (x)').run();
    expect([mode(join(root, 'fresh')), mode(join(root, 'fresh', 'nested'))]).toEqual([0o700, 0o700]);
    expect([mode(dbFile), mode(`${dbFile}-wal`), mode(`${dbFile}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    expect(warnings).toEqual([]);
    db.$client.close();
  });

  it('tightens an existing folder and files of its own user that are looser', () => {
    const dir = join(root, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const dbFile = join(dir, 'herald.db');
    open(dbFile);
    chmodSync(dbFile, 0o644);
    touch(`${dbFile}-wal`, 0o666);
    touch(`${dbFile}-shm`, 0o644);
    const warnings: string[] = [];
    const db = openDb(dbFile, { onWarning: (w) => warnings.push(w) });
    expect([mode(dir), mode(dbFile), mode(`${dbFile}-wal`), mode(`${dbFile}-shm`)]).toEqual([0o700, 0o600, 0o600, 0o600]);
    expect(warnings).toEqual([]);
    db.$client.close();
  });

  it('leaves a shared folder such as /tmp as it is, and says so', () => {
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const dbFile = join(shared, 'herald.db');
    const warnings = open(dbFile);
    expect(mode(shared)).toBe(0o1777);
    expect(mode(dbFile)).toBe(0o600);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^the database folder ${shared} is readable by other users \\(mode 0777\\) and is a shared folder, so Herald leaves it as it is`))]);
  });

  it.skipIf(process.getuid?.() !== 0)("leaves a folder owned by another user as it is, and says so", () => {
    const theirs = join(root, 'theirs');
    mkdirSync(theirs);
    chmodSync(theirs, 0o755);
    chownSync(theirs, 65534, 65534);
    const warnings = open(join(theirs, 'herald.db'));
    expect(mode(theirs)).toBe(0o755);
    expect(warnings).toEqual([expect.stringMatching(/is readable by other users \(mode 0755\) and is owned by another user, so Herald leaves it as it is/)]);
  });
});
