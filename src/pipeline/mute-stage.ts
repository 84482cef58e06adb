import { and, isNull, sql } from 'drizzle-orm';
import picomatch from 'picomatch';
import type { Db } from '../db/open.js';
import { mutes } from '../db/schema.js';
import type { RouteTable } from './route-stage.js';
import type { PlannedAlert, Stage } from './types.js';

/** A mute compiled for the ingest path: one matcher, and when it stops. */
export interface CompiledMute {
  id: number;
  expiresAt: number;
  routeId: number | null;
  /** For service / service+title / dedup key mutes; null for route mutes. */
  matches: ((a: PlannedAlert) => boolean) | null;
}

/**
 * Mutes not ended nor expired, in memory; the mute services call `reload` after a change. Expiry is
 * checked against each alert's own receipt time, so an expired mute stops matching without a reload.
 */
export class MuteTable {
  private compiled: CompiledMute[] = [];

  constructor(private readonly db: Db) {
    this.reload();
  }

  reload(now = Date.now()): void {
    this.compiled = this.db
      .select()
      .from(mutes)
      .where(and(isNull(mutes.endedAt), sql`${mutes.expiresAt} > ${now}`))
      .orderBy(mutes.id)
      .all()
      .map((m) => ({ id: m.id, expiresAt: m.expiresAt, routeId: m.routeId, matches: matcherOf(m) }));
  }

  active(now: number): CompiledMute[] {
    return this.compiled.filter((m) => m.expiresAt > now);
  }
}

function matcherOf(m: typeof mutes.$inferSelect): CompiledMute['matches'] {
  if (m.dedupKey !== null) {
    const key = m.dedupKey;
    // Scoped to the source it was made for (a "Mute 1h"), or any source's (an admin mute without source_id).
    const sourceId = m.sourceId;
    return sourceId === null ? (a) => a.input.dedup_key === key : (a) => a.sourceId === sourceId && a.input.dedup_key === key;
  }
  if (m.service !== null && m.title !== null) {
    // "Mute 1h" on an alert without a dedup key: the same service and title, exactly.
    const service = m.service.toLowerCase();
    const title = m.title;
    return (a) => a.input.service.toLowerCase() === service && a.input.title === title;
  }
  if (m.service !== null) {
    const glob = picomatch(m.service, { nocase: true, dot: true });
    return (a) => glob(a.input.service);
  }
  return null;
}

/**
 * After routing: an alert a mute matches is kept (stored with the mute's id, visible in the admin
 * API) but goes to no channel. A route mute silences that route only: the alert still goes where other
 * matching routes send it, and is muted when none is left.
 */
export function muteStage(table: MuteTable, routes: RouteTable): Stage {
  return (alerts) => {
    const now = Date.now();
    const active = table.active(now);
    if (active.length === 0) return alerts;
    return alerts.map((a) => {
      const live = active.filter((m) => m.expiresAt > a.receivedAt);
      const whole = live.find((m) => m.matches?.(a));
      if (whole) return { ...a, channels: [], mutedBy: whole.id };
      const routeMutes = live.filter((m) => m.routeId !== null && a.routeIds.includes(m.routeId));
      if (routeMutes.length === 0) return a;
      const silenced = new Set(routeMutes.map((m) => m.routeId));
      const remaining = a.routeIds.filter((id) => !silenced.has(id));
      if (remaining.length === 0) return { ...a, channels: [], routeIds: [], mutedBy: routeMutes[0]!.id };
      const channels: number[] = [];
      for (const r of routes.routes) if (remaining.includes(r.id) && !channels.includes(r.channelId)) channels.push(r.channelId);
      return { ...a, channels, routeIds: remaining };
    });
  };
}
