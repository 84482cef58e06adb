import { sql } from 'drizzle-orm';
import { sqliteCode } from '../store/sqlite/health.js';
import { channels, deliveries, webhooks } from '../store/sqlite/schema.js';
import type { Herald } from '../herald.js';

/**
 * What /readyz says about storage and delivery, one plain sentence per problem (none: ready):
 * - the database takes writes: a probe takes the write lock (and gives it back, writing nothing), and no
 *   write failed within the last seconds (a full disk fails inserts while the probe still gets the lock);
 * - each channel has a healthy webhook (active, breaker not open) and its oldest due delivery has not
 *   waited longer than HERALD_READY_MAX_WAIT_MS.
 */
export function storageAndDeliveryProblems(h: Pick<Herald, 'db' | 'writeHealth' | 'config'>, now = Date.now()): string[] {
  const problems: string[] = [];
  const sqlite = h.db.$client;
  try {
    sqlite.prepare('select 1').get();
  } catch {
    return ['database unavailable'];
  }
  try {
    // Waits at most busy_timeout (tens of ms) for another process's lock.
    sqlite.exec('BEGIN IMMEDIATE');
    sqlite.exec('ROLLBACK');
  } catch (err) {
    problems.push(`database: cannot take the write lock (${sqliteCode(err) ?? 'error'}: ${(err as Error).message}); alerts cannot be stored now`);
  }
  const failed = h.writeHealth.problem(now);
  if (failed) problems.push(failed);

  const healthy = sql<number>`(select count(*) from ${webhooks} where ${webhooks.channelId} = ${channels.id} and ${webhooks.state} = 'active' and ${webhooks.breakerState} != 'open')`;
  // The oldest delivery ready to go (its backoff over) and not sent: `min(available_at)` walks the
  // (channel, state, available_at) index, one seek per channel.
  const oldestDue = sql<number | null>`(select min(${deliveries.availableAt}) from ${deliveries} where ${deliveries.channelId} = ${channels.id} and ${deliveries.state} = 'pending')`;
  const rows = h.db.select({ id: channels.id, name: channels.name, healthy, oldestDue }).from(channels).all();
  const maxWaitMs = h.config.readyMaxWaitMs;
  for (const c of rows) {
    const label = `channel ${c.id} (${c.name})`;
    if (c.healthy === 0) problems.push(`${label} has no healthy webhook: add one, or restore a quarantined one`);
    if (c.oldestDue !== null && now - c.oldestDue > maxWaitMs) {
      problems.push(`${label}: its oldest due delivery has waited ${Math.round((now - c.oldestDue) / 1000)} s (over ${Math.round(maxWaitMs / 1000)} s)`);
    }
  }
  return problems;
}

