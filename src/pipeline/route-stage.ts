import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { channels, routes } from '../db/schema.js';
import { compileRoute, matchChannels, type CompiledRoute } from '../domain/routing.js';
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
      const matched = matchChannels(table.routes, a.input);
      if (matched.length) return { ...a, channels: matched, unrouted: false };
      const fallback = table.fallback;
      return fallback === null ? { ...a, channels: [], unrouted: true } : { ...a, channels: [fallback], unrouted: false };
    });
}
