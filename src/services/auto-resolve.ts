import { staleResolverName } from '../domain/auto-resolve.js';
import type { Store } from '../store/index.js';
import { resolveIfStale } from './lifecycle.js';

/** What the sweep needs: the lifecycle's resolve path, the alerts' stale candidates, routes (cached) and sources. */
export type AutoResolveDeps = Parameters<typeof resolveIfStale>[0] & { store: Pick<Store, 'alerts' | 'routes' | 'sources'> };

/**
 * Auto-resolve, for senders that never send a resolve: a firing alert with no repeat for its
 * `auto_resolve_after` resolves through the lifecycle's resolve path (its cards edited, outbound
 * targets told, escalation stopped) by "stale (no update for 4 h)", which its actions and card show
 * instead of a resolver. The setting that applies: the shortest of its source's and those of the
 * routes it matches now. Returns how many it resolved (at most one batch of candidates per sweep).
 *
 * Each resolve is its own transaction, which reads the alert again: a repeat folded in after the candidates' read
 * (the Acceptor commits between the sweep's awaits) leaves it firing, so an alert that just fired again is never
 * resolved as stale; nor is one resolved or retracted meanwhile.
 */
export async function resolveStaleAlerts(h: AutoResolveDeps, now: number = Date.now()): Promise<number> {
  const routes = h.store.routes.routes.filter((r) => r.autoResolveAfterMs != null);
  const minRouteMs = h.store.routes.minAutoResolveAfterMs;
  if (minRouteMs === null && !(await h.store.sources.anyAutoResolve())) return 0;
  let resolved = 0;
  for (const c of await h.store.alerts.staleCandidates(now, minRouteMs)) {
    let afterMs = c.sourceAfterMs;
    for (const r of routes) if (r.matches(c) && (afterMs === null || r.autoResolveAfterMs! < afterMs)) afterMs = r.autoResolveAfterMs!;
    if (afterMs === null || c.lastUpdateAt + afterMs > now) continue;
    if (await resolveIfStale(h, c.id, { kind: 'system', name: staleResolverName(afterMs) }, now - afterMs)) resolved++;
  }
  return resolved;
}
