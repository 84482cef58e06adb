import { staleResolverName } from '../domain/auto-resolve.js';
import type { Store } from '../store/index.js';
import { ServiceError } from './errors.js';
import { resolveAlert } from './lifecycle.js';

/** What the sweep needs: the lifecycle's resolve path, the alerts' stale candidates, routes (cached) and sources. */
export type AutoResolveDeps = Parameters<typeof resolveAlert>[0] & { store: Pick<Store, 'alerts' | 'routes' | 'sources'> };

/**
 * Auto-resolve, for senders that never send a resolve: a firing alert with no repeat for its
 * `auto_resolve_after` resolves through the lifecycle's resolve path (its cards edited, outbound
 * targets told, escalation stopped) by "stale (no update for 4 h)", which its actions and card show
 * instead of a resolver. The setting that applies: the shortest of its source's and those of the
 * routes it matches now. Returns how many it resolved (at most one batch of candidates per sweep).
 *
 * Synchronous from the candidates' read to the last resolve: no repeat can be folded in between (the
 * Acceptor commits on a later turn of the event loop), so an alert that just fired again is never
 * resolved as stale. With an asynchronous store the resolve must re-check the last update in its transaction.
 */
export function resolveStaleAlerts(h: AutoResolveDeps, now: number = Date.now()): number {
  const routes = h.store.routes.routes.filter((r) => r.autoResolveAfterMs != null);
  const minRouteMs = h.store.routes.minAutoResolveAfterMs;
  if (minRouteMs === null && !h.store.sources.anyAutoResolve()) return 0;
  let resolved = 0;
  for (const c of h.store.alerts.staleCandidates(now, minRouteMs)) {
    let afterMs = c.sourceAfterMs;
    for (const r of routes) if (r.matches(c) && (afterMs === null || r.autoResolveAfterMs! < afterMs)) afterMs = r.autoResolveAfterMs!;
    if (afterMs === null || c.lastUpdateAt + afterMs > now) continue;
    try {
      resolveAlert(h, c.id, { kind: 'system', name: staleResolverName(afterMs) });
      resolved++;
    } catch (err) {
      // Retracted since the candidates were read: nothing to resolve.
      if (!(err instanceof ServiceError)) throw err;
    }
  }
  return resolved;
}
