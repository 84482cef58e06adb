import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { type Severity, severityRank } from '../domain/alert.js';
import { alerts } from '../db/schema.js';
import type { Grouping, PlannedAlert, Stage } from './types.js';

const p = sql.placeholder;
const sameSource = sql`${alerts.sourceId} IS ${p('sourceId')}`;
/** At most this many open alerts are resolved by one `resolved` (more would be a sender's bug; the rest stay open). */
const MAX_RESOLVE = 100;

interface LatestRow {
  id: number;
  status: 'firing' | 'resolved';
  severity: Severity;
  resolvedAt: number | null;
  mutedBy: number | null;
  occurrences: number;
}

/**
 * The alerts already stored that an incoming one may belong to. Scope: the same source (a dedup key
 * is the sender's name for a problem, like PagerDuty's per-integration dedup_key; two senders may use
 * the same key for different things) and the same dedup key. Retracted alerts are out of it.
 * Runs inside the ingest transaction, so alerts stored earlier in the same request are seen.
 */
export class AlertLookup {
  private readonly newest;
  private readonly openByKey;
  private readonly openByTitle;

  constructor(db: Db) {
    // Every keyed alert asks this on the ingest path: a plain better-sqlite3 statement (about 2 µs) rather
    // than drizzle's prepared query (about 10 µs of parameter and row mapping); same columns as schema.ts.
    this.newest = db.$client.prepare<{ key: string; sourceId: number | null }, LatestRow>(
      `select id, status, severity, resolved_at as resolvedAt, muted_by_mute_id as mutedBy, occurrences from alerts
       where dedup_key = @key and source_id is @sourceId and retracted_at is null order by id desc limit 1`,
    );
    this.openByKey = db
      .select({ id: alerts.id })
      .from(alerts)
      .where(and(eq(alerts.dedupKey, p('key')), sameSource, eq(alerts.status, 'firing'), isNull(alerts.retractedAt)))
      .orderBy(desc(alerts.id))
      .limit(MAX_RESOLVE)
      .prepare();
    this.openByTitle = db
      .select({ id: alerts.id })
      .from(alerts)
      .where(
        and(eq(alerts.service, p('service')), eq(alerts.title, p('title')), isNull(alerts.dedupKey), sameSource, eq(alerts.status, 'firing'), isNull(alerts.retractedAt)),
      )
      .orderBy(desc(alerts.id))
      .limit(MAX_RESOLVE)
      .prepare();
  }

  /** The newest alert with this key (firing or resolved). */
  latest(sourceId: number | null, key: string): LatestRow | undefined {
    return this.newest.get({ sourceId, key });
  }

  /**
   * The newest firing alert of this source with this dedup key: what a sender's acknowledge, or its
   * success/resolve that means something only while an alert is open, names (http/hook.ts). Never
   * another source's alert, whatever key it carries.
   */
  openWithKey(sourceId: number | null, key: string): number | undefined {
    return this.openByKey.get({ sourceId, key })?.id;
  }

  /** Firing alerts a `resolved` names: by dedup key, or (without one) by the same service and title. */
  open(sourceId: number | null, a: { dedup_key?: string | undefined; service: string; title: string }): number[] {
    const rows = a.dedup_key !== undefined ? this.openByKey.all({ sourceId, key: a.dedup_key }) : this.openByTitle.all({ sourceId, service: a.service, title: a.title });
    return rows.map((r) => r.id);
  }
}

/**
 * Last stage: does the alert start something new, or belong to what is already stored?
 * - firing, with a dedup key whose newest alert is firing: a repeat (Alertmanager's periodic re-sends
 *   land here): folded in, nothing new posted (unless its severity is higher: then posted again).
 *   Resolved within `reopenWindowMs`: folded in and reopened.
 *   Only when both are muted or both are not: a muted repeat of a posted alert is stored as a muted alert
 *   (recorded and counted as muted; later muted repeats fold into it), and a repeat once the mute ended is
 *   posted as a new alert (it must be seen).
 * - firing without a dedup key: always new (nothing says two alerts are the same problem).
 * - resolved: resolves every firing alert with its key (without a key: same service and title); if the
 *   newest with its key is already resolved, nothing changes; with nothing to resolve, it is recorded
 *   as a resolved alert that fired 0 times, visible in the admin API and never posted (`orphan`).
 */
export function dedupStage(lookup: AlertLookup, reopenWindowMs: number): Stage {
  const decide = (a: PlannedAlert): Grouping => {
    const i = a.input;
    if (i.status === 'resolved') {
      const open = lookup.open(a.sourceId, i);
      if (open.length) return { kind: 'resolve', alertIds: open };
      if (i.dedup_key !== undefined) {
        const n = lookup.latest(a.sourceId, i.dedup_key);
        if (n && n.status === 'resolved') return { kind: 'resolved-again', alertId: n.id };
      }
      return { kind: 'orphan' };
    }
    if (i.dedup_key === undefined) return { kind: 'new' };
    const n = lookup.latest(a.sourceId, i.dedup_key);
    if (!n || n.occurrences === 0) return { kind: 'new' };
    if ((n.mutedBy === null) !== (a.mutedBy === null)) return { kind: 'new' };
    const raised = severityRank(i.severity) < severityRank(n.severity);
    if (n.status === 'firing') return { kind: 'repeat', alertId: n.id, reopen: false, raised };
    if (n.resolvedAt !== null && a.receivedAt - n.resolvedAt <= reopenWindowMs) return { kind: 'repeat', alertId: n.id, reopen: true, raised };
    return { kind: 'new' };
  };
  return (alerts) => alerts.map((a) => ({ ...a, grouping: decide(a) }));
}
