import { DEFAULT_GROUP_WAIT_MS, incidentOf } from '../domain/incidents.js';
import type { RouteStore } from '../store/routes.js';
import type { PlannedIncident, Stage } from './types.js';

/**
 * After routing: which incident (issue 10 §1) an alert belongs to, if any: the sender's own group (an
 * Alertmanager groupKey), a native alert's `group`, or the first matching route with a `group_by`
 * (domain/incidents.ts `incidentOf`), and how long its first card waits in each channel (the smallest
 * `group_wait` of the routes that sent it there; the default channel: the default). Pure: the acceptor
 * finds or creates the incident in the ingest transaction. An alert without any of these is left as it
 * is: no lookup, no statement, the same path as before incidents.
 */
export function incidentStage(table: Pick<RouteStore, 'routes' | 'anyGroupBy'>): Stage {
  return (alerts) =>
    alerts.map((a) => {
      const i = a.input;
      // The common case first: nothing to group by, and no route that groups. Costs a property read or two.
      if (i.sender_group === undefined && i.group === undefined && !table.anyGroupBy) return a;
      const matched = table.routes.filter((r) => a.routeIds.includes(r.id));
      const ref = incidentOf(i, matched);
      if (!ref) return a;
      const waitMs = new Map<number, number>();
      for (const r of matched) {
        const wait = r.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS;
        waitMs.set(r.channelId, Math.min(waitMs.get(r.channelId) ?? Infinity, wait));
      }
      const incident: PlannedIncident = { ...ref, waitMs };
      return { ...a, incident };
    });
}
