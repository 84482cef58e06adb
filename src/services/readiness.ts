import type { Config } from '../config.js';
import type { Store } from '../store/index.js';
import type { WriteHealth } from '../store/sqlite/health.js';

/**
 * What /readyz says about storage and delivery, one plain sentence per problem (none: ready):
 * - the database takes writes: a probe takes the write lock (and gives it back, writing nothing), and no
 *   write failed within the last seconds (a full disk fails inserts while the probe still gets the lock);
 * - each channel has a healthy webhook (active, breaker not open) and its oldest due delivery has not
 *   waited longer than HERALD_READY_MAX_WAIT_MS.
 */
export async function storageAndDeliveryProblems(
  h: { store: Pick<Store, 'health'>; writeHealth: Pick<WriteHealth, 'problem'>; config: Pick<Config, 'readyMaxWaitMs'> },
  now = Date.now(),
): Promise<string[]> {
  const probe = await h.store.health.probe();
  if (probe.unreachable) return probe.problems;
  const problems = [...probe.problems];
  const failed = h.writeHealth.problem(now);
  if (failed) problems.push(failed);

  const maxWaitMs = h.config.readyMaxWaitMs;
  for (const c of await h.store.health.channels()) {
    const label = `channel ${c.id} (${c.name})`;
    if (c.healthy === 0) problems.push(`${label} has no healthy webhook: add one, or restore a quarantined one`);
    if (c.oldestDue !== null && now - c.oldestDue > maxWaitMs) {
      problems.push(`${label}: its oldest due delivery has waited ${Math.round((now - c.oldestDue) / 1000)} s (over ${Math.round(maxWaitMs / 1000)} s)`);
    }
  }
  return problems;
}


/** One more line of /readyz: ok, or the problems that keep Herald from being ready. */
export type ReadinessCheck = () => { ok: boolean; problems: string[] };

/**
 * The checks /readyz asks beyond storage and delivery (today: the bot's gateway connection). Created by
 * the composition root and handed to the HTTP server, which asks it at each request, and to whatever
 * starts later (the bot starts after HTTP listens), which adds its check there.
 */
export class ReadinessChecks {
  private readonly checks: ReadinessCheck[] = [];

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  problems(): string[] {
    return this.checks.flatMap((check) => check().problems);
  }
}
