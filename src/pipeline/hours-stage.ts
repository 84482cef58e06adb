import { decideHours, type HoursDecision } from '../domain/hours.js';
import type { CompiledRoute } from '../domain/routing.js';
import type { RouteTable } from './route-stage.js';
import type { Stage } from './types.js';

/**
 * After muting: business hours per route (domain/hours.ts). P0/P1 always go now. Outside a route's
 * hours a P2/P3 waits for the window to open (its delivery becomes available then: durable, it
 * survives a restart) or, on routes set to "digest", is only counted in the daily digest.
 * Several routes to one channel: the most permissive wins (any open → now; else the earliest opening;
 * digest only when every route says so). The default channel has no hours.
 *
 * `clock` is the wall clock the windows are read against (tests shift it); the wait it computes is
 * added to the alert's own receipt time, so `availableAt` is always on the process clock.
 */
export function hoursStage(table: RouteTable, clock: () => number = Date.now): Stage {
  // One decision per route and second: a storm does not read the time zone database per alert.
  const cache = new WeakMap<CompiledRoute, { second: number; decision: HoursDecision }>();
  const decide = (r: CompiledRoute, wall: number): HoursDecision => {
    const second = Math.floor(wall / 1000);
    const hit = cache.get(r);
    if (hit && hit.second === second) return hit.decision;
    const decision = decideHours(r.businessHours ?? null, 'P3', wall);
    cache.set(r, { second, decision });
    return decision;
  };
  return (alerts) => {
    const timed = table.routes.filter((r) => r.businessHours);
    if (timed.length === 0) return alerts;
    const wall = clock();
    return alerts.map((a) => {
      const sev = a.input.severity;
      if (sev === 'P0' || sev === 'P1' || a.channels.length === 0 || a.input.status === 'resolved') return a;
      const routes = table.routes.filter((r) => a.routeIds.includes(r.id));
      if (!routes.some((r) => r.businessHours)) return a;
      let held: Map<number, number | 'digest'> | undefined;
      for (const channelId of a.channels) {
        const mine = routes.filter((r) => r.channelId === channelId);
        let best: number | 'digest' | 'now' = mine.length ? 'digest' : 'now';
        for (const r of mine) {
          const d = decide(r, wall);
          if (d.send === 'now') {
            best = 'now';
            break;
          }
          if (d.send === 'later') best = typeof best === 'number' ? Math.min(best, d.at) : d.at;
        }
        if (best === 'now') continue;
        held ??= new Map();
        held.set(channelId, best === 'digest' ? 'digest' : a.receivedAt + Math.max(0, best - wall));
      }
      return held ? { ...a, held } : a;
    });
  };
}
