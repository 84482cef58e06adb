import { asc, eq } from 'drizzle-orm';
import type { Db } from '../store/sqlite/open.js';
import { channels, routes } from '../store/sqlite/schema.js';
import { compileRoute, type CompiledRoute } from '../domain/routing.js';
import type { Stage } from './types.js';

/** Routes and the default channel, compiled in memory; the admin services call `reload` after a change. */
export class RouteTable {
  private compiled: CompiledRoute[] = [];
  private defaultChannel: number | null = null;

  constructor(private readonly db: Db) {
    this.reload();
  }

  reload(): void {
    this.compiled = this.db.select().from(routes).orderBy(asc(routes.id)).all().map(compileRoute);
    this.defaultChannel = this.db.select({ id: channels.id }).from(channels).where(eq(channels.isDefault, true)).get()?.id ?? null;
  }

  get routes(): readonly CompiledRoute[] {
    return this.compiled;
  }

  get fallback(): number | null {
    return this.defaultChannel;
  }
}

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
