import type { MuteStore } from '../store/mutes.js';
import type { RouteTable } from './route-stage.js';
import type { Stage } from './types.js';

export type { CompiledMute } from '../store/mutes.js';
/** What the mute stage reads: the mutes in force (the mutes store keeps them in memory). */
export type MuteTable = Pick<MuteStore, 'active'>;

/**
 * After routing: an alert a mute matches is kept (stored with the mute's id, visible in the admin
 * API) but goes to no channel. A route mute silences that route only: the alert still goes where other
 * matching routes send it, and is muted when none is left. A maintenance window (the configuration file's)
 * silences only while it is open.
 */
export function muteStage(table: MuteTable, routes: RouteTable, clock: () => number = Date.now): Stage {
  return (alerts) => {
    // Expiry is judged by each alert's receipt time; a maintenance window's opening by the wall clock (tests move it).
    const active = table.active(Date.now(), clock());
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
