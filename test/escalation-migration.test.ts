import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
 * Escalation and digest rebuild the deliveries table (alert_id becomes nullable). With foreign keys on,
 * dropping the old table would cascade-delete its children (attempts, dead letters, message operations):
 * a database from before must come through with every row.
 */
it('upgrades a database with history without losing attempts, dead letters or message operations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-migrate-'));
  dirs.push(dir);
  // The migrations as they were before this branch: 0000 and 0001 only.
  const old = join(dir, 'drizzle');
  mkdirSync(join(old, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync('drizzle/meta/_journal.json', 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => e.tag === '0000_init' || e.tag === '0001_lifecycle');
  writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));
  for (const e of journal.entries) copyFileSync(join('drizzle', `${e.tag}.sql`), join(old, `${e.tag}.sql`));

  const path = join(dir, 'herald.db');
  const sqlite = new Database(path);
  sqlite.pragma('foreign_keys = ON');
  migrate(drizzle(sqlite), { migrationsFolder: old });
  sqlite.exec(`
    INSERT INTO channels (id, name, discord_channel_id) VALUES (1, 'ops', '100000000000000001');
    INSERT INTO webhooks (id, channel_id, discord_webhook_id, token) VALUES (1, 1, '200000000000000001', 'tok');
    INSERT INTO alerts (id, service, severity, title, received_at) VALUES (1, 'checkout', 'P1', 'down', 1000);
    INSERT INTO deliveries (id, alert_id, channel_id, priority, sort_key, state, available_at, created_at, webhook_id, discord_message_id)
      VALUES (1, 1, 1, 1, 1000, 'sent', 1000, 1000, 1, '300000000000000001');
    INSERT INTO attempts (delivery_id, webhook_id, at, status, latency_ms, outcome) VALUES (1, 1, 1001, 200, 5, 'ok');
    INSERT INTO dead_letters (delivery_id, reason, created_at) VALUES (1, 'exhausted', 1002);
    INSERT INTO message_ops (channel_id, webhook_id, discord_message_id, delivery_id, purpose, available_at, created_at)
      VALUES (1, 1, '300000000000000001', 1, 'ack', 1003, 1003);
  `);
  sqlite.close();

  const db = openDb(path);
  const count = (table: string) => (db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  expect([count('deliveries'), count('attempts'), count('dead_letters'), count('message_ops')]).toEqual([1, 1, 1, 1]);
  expect(db.$client.prepare('SELECT alert_id, mention, message FROM deliveries').get()).toEqual({ alert_id: 1, mention: null, message: null });
  expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
  db.$client.close();
});
