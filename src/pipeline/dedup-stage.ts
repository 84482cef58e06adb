import { severityRank } from '../domain/alert.js';
import type { AlertLookup, Grouping, PlannedAlert, Stage } from './types.js';

export type { AlertLookup } from './types.js';

/**
 * A re-send of the firing already stored: both carry a firing start (Alertmanager's startsAt) and it is
 * the same. Such a re-send is a notification (Alertmanager repeats every `repeat_interval`), not a new
 * firing: it is not counted as one (the store's fold compares the same way) and never undoes a person's
 * resolve. Senders without a firing start never re-send "the same firing": every repeat counts.
 */
export function sameFiring(stored: number | null, incoming: number | undefined): boolean {
  return incoming !== undefined && stored !== null && stored === incoming;
}

/**
 * Last stage: does the alert start something new, or belong to what is already stored?
 * - firing, with a dedup key whose newest alert is firing: a repeat (Alertmanager's periodic re-sends
 *   land here): folded in, nothing new posted (unless its severity is higher: then posted again).
 *   Resolved within `reopenWindowMs`: folded in and reopened.
 *   Only when both are muted or both are not: a muted repeat of a posted alert is stored as a muted alert
 *   (recorded and counted as muted; later muted repeats fold into it), and a repeat once the mute ended is
 *   posted as a new alert (it must be seen).
 * - a re-send of the same firing (`sameFiring`) of an alert a person resolved: folded in as a
 *   notification (last seen moves, the card says so) and it stays resolved, whatever the window: the
 *   person's Resolve stands until the sender reports a new firing (a new start), which reopens as above.
 *   Resolved by its sender or by the stale sweep, the same firing reopens as before: the sender says it
 *   still fires.
 * - firing without a dedup key: always new (nothing says two alerts are the same problem).
 * - resolved: resolves every firing alert with its key (without a key: same service and title); if the
 *   newest with its key is already resolved, nothing changes; with nothing to resolve, it is recorded
 *   as a resolved alert that fired 0 times, visible in the admin API and never posted (`orphan`).
 */
export function dedupStage(reopenWindowMs: number): Stage {
  const decide = async (lookup: AlertLookup, a: PlannedAlert): Promise<Grouping> => {
    const i = a.input;
    if (i.status === 'resolved') {
      const open = await lookup.open(a.sourceId, i);
      if (open.length) return { kind: 'resolve', alertIds: open };
      if (i.dedup_key !== undefined) {
        const n = await lookup.latest(a.sourceId, i.dedup_key);
        if (n && n.status === 'resolved') return { kind: 'resolved-again', alertId: n.id };
      }
      return { kind: 'orphan' };
    }
    if (i.dedup_key === undefined) return { kind: 'new' };
    const n = await lookup.latest(a.sourceId, i.dedup_key);
    if (!n || n.occurrences === 0) return { kind: 'new' };
    if ((n.mutedBy === null) !== (a.mutedBy === null)) return { kind: 'new' };
    if (n.status === 'resolved' && n.resolvedByPerson && sameFiring(n.firingStartedAt, i.firing_started_at)) {
      // Not raised either: a notification of what a person resolved posts nothing new.
      return { kind: 'repeat', alertId: n.id, reopen: false, raised: false };
    }
    const raised = severityRank(i.severity) < severityRank(n.severity);
    const member = raised && n.incidentId != null ? { incidentId: n.incidentId } : {};
    if (n.status === 'firing') return { kind: 'repeat', alertId: n.id, reopen: false, raised, ...member };
    if (n.resolvedAt !== null && a.receivedAt - n.resolvedAt <= reopenWindowMs) return { kind: 'repeat', alertId: n.id, reopen: true, raised, ...member };
    return { kind: 'new' };
  };
  // The transaction's alerts (`tx`): what was stored earlier in the same batch is seen. One alert after another.
  return async (alerts, tx) => {
    const out: PlannedAlert[] = [];
    for (const a of alerts) out.push({ ...a, grouping: await decide(tx.alerts, a) });
    return out;
  };
}
