import type BetterSqlite3 from 'better-sqlite3';
import type { Db } from './sqlite/open.js';

/**
 * The SQL of retention (jobs/retention.ts decides when and how much): which rows are old enough to go,
 * and deleting them with everything that refers to them, one bounded batch per call, so that each
 * transaction stays short and ingest is not held up.
 *
 * Plain SQL rather than drizzle: the rules are NOT EXISTS conditions across five tables, clearer
 * written out; column names are those of sqlite/schema.ts. Ids go in as a JSON array (`json_each`), so one
 * prepared statement serves any batch size.
 *
 * Every table that refers to an alert or a delivery is emptied explicitly, child before parent, which
 * gives the counts for the log line; the schema's ON DELETE CASCADE stays the backstop for a table added
 * later and forgotten here. Deleting a parent makes SQLite look for its children in every referring
 * table: each of those lookups has an index (deliveries_alert, attempts_delivery, message_ops_delivery,
 * dead_letters_delivery, alert_actions_alert, outbound_deliveries_alert, escalations_alert_chain,
 * escalation_runs_once).
 */

/** What one batch (or a whole run) removed, per table. */
export interface RetentionCounts {
  alerts: number;
  alertActions: number;
  deliveries: number;
  attempts: number;
  messageOps: number;
  deadLetters: number;
  outboundDeliveries: number;
  escalations: number;
  escalationRuns: number;
  idempotencyKeys: number;
  events: number;
}

/** One batch's result: where the next batch starts (null: no next one), and what this one removed. */
export interface RetentionBatch {
  next: number | null;
  counts: Partial<RetentionCounts>;
}

export const noCounts = (): RetentionCounts => ({
  alerts: 0,
  alertActions: 0,
  deliveries: 0,
  attempts: 0,
  messageOps: 0,
  deadLetters: 0,
  outboundDeliveries: 0,
  escalations: 0,
  escalationRuns: 0,
  idempotencyKeys: 0,
  events: 0,
});

export function addCounts(into: RetentionCounts, more: Partial<RetentionCounts>): void {
  for (const [k, v] of Object.entries(more) as [keyof RetentionCounts, number][]) into[k] += v;
}

/** The moment an alert last changed in any way: nothing about it happened after this. */
const lastActivity = (a: string) =>
  `max(${a}.received_at, coalesce(${a}.last_seen_at, 0), coalesce(${a}.changed_at, 0), coalesce(${a}.resolved_at, 0), coalesce(${a}.retracted_at, 0))`;

/** Over for good (resolved or retracted) and quiet since before the cutoff: the part of the rule about the alert itself. */
const finishedBefore = (a: string) => `(${a}.status = 'resolved' OR ${a}.retracted_at IS NOT NULL) AND ${lastActivity(a)} < @cutoff`;

/**
 * An alert may go when it is finished and quiet, and nothing is still to be done about it:
 * - no delivery pending or leased (a send still to be made or in flight: it would post a card of an alert that is gone),
 *   nor an outbound delivery pending or leased;
 * - no escalation still armed (active or acked: the runner has not seen the resolve yet);
 * - no mute made from its card still in force (unmuting records an action on the alert);
 * - no edit or delete of one of its messages pending or leased (it renders the alert as it is then);
 * - no message shared (packed) with an alert that stays: an edit of that message renders every alert in it,
 *   so deleting this one would take its embed off a message someone may still act on.
 * A resolved alert could also reopen: config.ts makes the retention cover the reopen window.
 */
const DELETABLE_IN_PAGE = `
  SELECT a.id FROM alerts a
  WHERE a.id > @after AND a.id <= @last
    AND ${finishedBefore('a')}
    AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state IN ('pending', 'leased'))
    AND NOT EXISTS (SELECT 1 FROM outbound_deliveries o WHERE o.alert_id = a.id AND o.state IN ('pending', 'leased'))
    AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.alert_id = a.id AND e.state <> 'done')
    AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.alert_id = a.id AND m.ended_at IS NULL AND m.expires_at > @now)
    AND NOT EXISTS (
      SELECT 1 FROM deliveries d JOIN message_ops op ON op.discord_message_id = d.discord_message_id
      WHERE d.alert_id = a.id AND op.state IN ('pending', 'leased'))
    AND NOT EXISTS (
      SELECT 1 FROM deliveries d
        JOIN deliveries other ON other.discord_message_id = d.discord_message_id AND other.alert_id <> a.id
        JOIN alerts b ON b.id = other.alert_id
      WHERE d.alert_id = a.id AND NOT (${finishedBefore('b')}))
  ORDER BY a.id`;

/** `(SELECT value FROM json_each(@ids))`: the ids of a batch. */
const IDS = `(SELECT value FROM json_each(@ids))`;

export class RetentionStore {
  private readonly sqlite: BetterSqlite3.Database;
  private readonly alertPage: BetterSqlite3.Statement<{ after: number; limit: number }, { last: number | null; oldest: number | null }>;
  private readonly deletableInPage: BetterSqlite3.Statement<{ after: number; last: number; cutoff: number; now: number }, { id: number }>;
  private readonly deliveriesOfAlerts: BetterSqlite3.Statement<{ ids: string }, { id: number }>;
  private readonly finishedWithoutAlert: BetterSqlite3.Statement<{ after: number; cutoff: number; limit: number }, { id: number }>;
  private readonly deleteDeliveryRows: { table: keyof RetentionCounts; stmt: BetterSqlite3.Statement<{ ids: string }> }[];
  private readonly deleteAlertRows: { table: keyof RetentionCounts | null; stmt: BetterSqlite3.Statement<{ ids: string }> }[];
  private readonly oldIdempotencyKeys: BetterSqlite3.Statement<{ cutoff: number; limit: number }>;
  private readonly oldEvents: BetterSqlite3.Statement<{ cutoff: number; limit: number }>;

  constructor(db: Db) {
    const s = (this.sqlite = db.$client);
    this.alertPage = s.prepare(
      `SELECT max(id) AS last, min(received_at) AS oldest FROM (SELECT id, received_at FROM alerts WHERE id > @after ORDER BY id LIMIT @limit)`,
    );
    this.deletableInPage = s.prepare(DELETABLE_IN_PAGE);
    this.deliveriesOfAlerts = s.prepare(`SELECT id FROM deliveries WHERE alert_id IN ${IDS}`);
    // Messages about no alert (daily digests), finished and older than the cutoff, with no edit still to make.
    this.finishedWithoutAlert = s.prepare(
      `SELECT d.id FROM deliveries d
       WHERE d.alert_id IS NULL AND d.id > @after AND d.state NOT IN ('pending', 'leased')
         AND coalesce(d.sent_at, d.created_at) < @cutoff
         AND NOT EXISTS (SELECT 1 FROM message_ops op WHERE op.discord_message_id = d.discord_message_id AND op.state IN ('pending', 'leased'))
       ORDER BY d.id LIMIT @limit`,
    );
    this.deleteDeliveryRows = [
      { table: 'attempts', stmt: s.prepare(`DELETE FROM attempts WHERE delivery_id IN ${IDS}`) },
      { table: 'deadLetters', stmt: s.prepare(`DELETE FROM dead_letters WHERE delivery_id IN ${IDS}`) },
      { table: 'messageOps', stmt: s.prepare(`DELETE FROM message_ops WHERE delivery_id IN ${IDS}`) },
      { table: 'deliveries', stmt: s.prepare(`DELETE FROM deliveries WHERE id IN ${IDS}`) },
    ];
    this.deleteAlertRows = [
      { table: 'outboundDeliveries', stmt: s.prepare(`DELETE FROM outbound_deliveries WHERE alert_id IN ${IDS}`) },
      { table: 'escalationRuns', stmt: s.prepare(`DELETE FROM escalation_runs WHERE escalation_id IN (SELECT id FROM escalations WHERE alert_id IN ${IDS})`) },
      { table: 'escalations', stmt: s.prepare(`DELETE FROM escalations WHERE alert_id IN ${IDS}`) },
      { table: 'alertActions', stmt: s.prepare(`DELETE FROM alert_actions WHERE alert_id IN ${IDS}`) },
      // A mute made from the alert's card outlives it (it may still silence its service): it just stops naming it.
      { table: null, stmt: s.prepare(`UPDATE mutes SET alert_id = NULL WHERE alert_id IN ${IDS}`) },
      // An incident goes with its last members (not counted: it is their group, not a row about them).
      {
        table: null,
        stmt: s.prepare(
          `DELETE FROM incidents WHERE id IN (SELECT incident_id FROM alerts WHERE id IN ${IDS} AND incident_id IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM alerts o WHERE o.incident_id = incidents.id AND o.id NOT IN ${IDS})`,
        ),
      },
      { table: 'alerts', stmt: s.prepare(`DELETE FROM alerts WHERE id IN ${IDS}`) },
    ];
    // Oldest first in rowid order (a table scan's order), so each batch finds its rows near the start.
    this.oldIdempotencyKeys = s.prepare(
      `DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < @cutoff LIMIT @limit)`,
    );
    this.oldEvents = s.prepare(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < @cutoff ORDER BY id LIMIT @limit)`);
  }

  /**
   * One batch of alerts: the next `limit` alerts by id after `after` are looked at, and those that may go
   * (see DELETABLE_IN_PAGE) are deleted with every row about them, in one transaction. `next`: where the
   * following batch starts, or null when there is nothing more to look at: the end of the table, or a
   * whole page received after the cutoff (ids grow with time, so later pages are newer still).
   */
  async deleteAlertBatch(after: number, limit: number, cutoff: number, now: number): Promise<RetentionBatch> {
    return this.sqlite.transaction((): RetentionBatch => {
      const page = this.alertPage.get({ after, limit })!;
      if (page.last === null || page.oldest === null || page.oldest >= cutoff) return { next: null, counts: {} };
      const ids = this.deletableInPage.all({ after, last: page.last, cutoff, now }).map((r) => r.id);
      if (ids.length === 0) return { next: page.last, counts: {} };
      const idsJson = JSON.stringify(ids);
      const counts = this.deleteDeliveries(JSON.stringify(this.deliveriesOfAlerts.all({ ids: idsJson }).map((r) => r.id)));
      for (const { table, stmt } of this.deleteAlertRows) {
        const n = stmt.run({ ids: idsJson }).changes;
        if (table) counts[table] = (counts[table] ?? 0) + n;
      }
      return { next: page.last, counts };
    })();
  }

  /** One batch of finished deliveries about no alert (digest messages) older than the cutoff; `next` as above. */
  async deleteDeliveriesWithoutAlertBatch(after: number, limit: number, cutoff: number): Promise<RetentionBatch> {
    return this.sqlite.transaction((): RetentionBatch => {
      const ids = this.finishedWithoutAlert.all({ after, cutoff, limit }).map((r) => r.id);
      if (ids.length === 0) return { next: null, counts: {} };
      return { next: ids.length < limit ? null : ids[ids.length - 1]!, counts: this.deleteDeliveries(JSON.stringify(ids)) };
    })();
  }

  /** Up to `limit` idempotency keys stored before the cutoff; returns how many went. */
  async deleteIdempotencyKeys(cutoff: number, limit: number): Promise<number> {
    return this.oldIdempotencyKeys.run({ cutoff, limit }).changes;
  }

  /** Up to `limit` admin events from before the cutoff; returns how many went. */
  async deleteEvents(cutoff: number, limit: number): Promise<number> {
    return this.oldEvents.run({ cutoff, limit }).changes;
  }

  /** Deliveries (JSON array of ids) with their attempts, dead letters and message operations. Inside a transaction. */
  private deleteDeliveries(idsJson: string): Partial<RetentionCounts> {
    const counts: Partial<RetentionCounts> = {};
    for (const { table, stmt } of this.deleteDeliveryRows) counts[table] = (counts[table] ?? 0) + stmt.run({ ids: idsJson }).changes;
    return counts;
  }
}
