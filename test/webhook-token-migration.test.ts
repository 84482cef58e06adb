import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, expect, it } from 'vitest';
import { openDb } from '../src/store/sqlite/open.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Issue 8 §9: a removed webhook's token is wiped. Removal does that since issue 8; a database made before
 * keeps the tokens of webhooks removed back then until the data migration wipes them.
 */
it('wipes the tokens that webhooks removed before issue 8 still hold; other webhooks keep theirs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-migrate-'));
  dirs.push(dir);
  // An old database: every migration before the wipe.
  const old = join(dir, 'drizzle');
  mkdirSync(join(old, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync('drizzle/meta/_journal.json', 'utf8')) as { entries: { tag: string }[] };
  const wipe = journal.entries.findIndex((e) => e.tag === '0009_wipe_removed_webhook_tokens');
  expect(wipe).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, wipe);
  writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));
  for (const e of journal.entries) copyFileSync(join('drizzle', `${e.tag}.sql`), join(old, `${e.tag}.sql`));

  const path = join(dir, 'herald.db');
  const sqlite = new Database(path);
  migrate(drizzle(sqlite), { migrationsFolder: old });
  // As the old code removed a webhook: state removed, token left in place.
  const removedToken = 'old-removed-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const activeToken = 'active-token-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
  sqlite.exec(`
    INSERT INTO channels (id, name, discord_channel_id) VALUES (1, 'ops', '100000000000000001');
    INSERT INTO webhooks (id, channel_id, discord_webhook_id, token, state, gone_at) VALUES (1, 1, '200000000000000001', '${removedToken}', 'removed', 1000);
    INSERT INTO webhooks (id, channel_id, discord_webhook_id, token) VALUES (2, 1, '200000000000000002', '${activeToken}');
  `);
  sqlite.close();

  const db = openDb(path);
  expect(db.$client.prepare('SELECT id, state, token FROM webhooks ORDER BY id').all()).toEqual([
    { id: 1, state: 'removed', token: '' },
    { id: 2, state: 'active', token: activeToken },
  ]);
  db.$client.close();
  // Not left in the file either (secure_delete overwrites what the update replaced).
  for (const file of [path, `${path}-wal`].filter((f) => existsSync(f))) expect(readFileSync(file).includes(removedToken)).toBe(false);
});
