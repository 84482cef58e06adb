import type { RouteStore } from '../store/routes.js';
import type { Stage } from './types.js';

/** What routing reads: the routes in order and the default channel (the routes store keeps both in memory). */
export type RouteTable = Pick<RouteStore, 'routes' | 'fallback'>;

/** Decides each alert's channels: every matching route, else the default channel, else unrouted (kept, never dropped). */
export function routeStage(table: RouteTable): Stage {
  return (alerts) =>
    alerts.map((a) => {
      const routeIds: number[] = [];
      const matched: number[] = [];
      for (const r of table.routes) {
        if (!r.matches(a.input)) continue;
        routeIds.push(r.id);
        if (!matched.includes(r.channelId)) matched.push(r.channelId);
      }
      if (matched.length) return { ...a, channels: matched, routeIds, unrouted: false };
      const fallback = table.fallback;
      return fallback === null ? { ...a, channels: [], routeIds, unrouted: true } : { ...a, channels: [fallback], routeIds, unrouted: false };
    });
}
