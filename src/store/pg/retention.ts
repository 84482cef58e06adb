import { sql, type SQL } from 'drizzle-orm';
import type { RetentionBatch, RetentionCounts, RetentionStore } from '../retention.js';
import type { PgExecutor } from './open.js';

/**
 * `../retention.ts` on PostgreSQL: the same rules and batches, in plain SQL as SQLite's (column names of
 * pg/schema.ts). What differs:
 * - A batch's ids go in as one `bigint[]` parameter (`unnest`), where SQLite's go in as a JSON array (`json_each`).
 * - SQLite's scalar `max(a, b, …)` is `greatest(…)`; `min`/`max` of a bigint come back as strings, mapped to numbers.
 * - The idempotency keys' bounded delete picks rows by `ctid` (PostgreSQL's physical row address) where SQLite's
 *   picks by `rowid`: the table's key is (source_id, key), neither has one of its own.
 * - Transactions run side by side here: the alerts a batch deletes are locked as they are chosen
 *   (`for update of a skip locked`), so an ingest that folds a repeat into one of them (its UPDATE) waits for the
 *   batch, and one whose transaction already holds it is skipped this run (it is busy, not quiet).
 * - SQLite's `secure_delete = FAST` (set at open: deleted content overwritten in the pages it sits in) has no
 *   PostgreSQL counterpart: a deleted row stays in its page until VACUUM (autovacuum) reclaims the space, and
 *   VACUUM does not zero it either; nothing is done about that here.
 */

/** The moment an alert last changed in any way: nothing about it happened after this. */
const lastActivity = (a: string) =>
  `greatest(${a}.received_at, coalesce(${a}.last_seen_at, 0), coalesce(${a}.changed_at, 0), coalesce(${a}.resolved_at, 0), coalesce(${a}.retracted_at, 0))`;

/** Over for good (resolved or retracted) and quiet since before the cutoff. */
const finishedBefore = (a: string, cutoff: number): SQL => sql`(${sql.raw(`${a}.status = 'resolved' OR ${a}.retracted_at IS NOT NULL`)}) AND ${sql.raw(lastActivity(a))} < ${cutoff}`;

/** `(SELECT unnest(…))`: the ids of a batch, one array parameter. */
const IDS = (ids: readonly number[]): SQL => sql`(SELECT unnest(${`{${ids.join(',')}}`}::bigint[]))`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class PgRetentionStore implements Pick<RetentionStore, keyof RetentionStore> {
  constructor(private readonly db: PgExecutor) {}

  async deleteAlertBatch(after: number, limit: number, cutoff: number, now: number): Promise<RetentionBatch> {
    return this.db.transaction(async (tx): Promise<RetentionBatch> => {
      const pageRows = await tx.execute<{ last: string | null; oldest: string | null }>(
        sql`SELECT max(id) AS last, min(received_at) AS oldest FROM (SELECT id, received_at FROM alerts WHERE id > ${after} ORDER BY id LIMIT ${limit}) p`,
      );
      const last = num(pageRows.rows[0]?.last);
      const oldest = num(pageRows.rows[0]?.oldest);
      if (last === null || oldest === null || oldest >= cutoff) return { next: null, counts: {} };
      const deletable = await tx.execute<{ id: string }>(sql`
        SELECT a.id FROM alerts a
        WHERE a.id > ${after} AND a.id <= ${last}
          AND ${finishedBefore('a', cutoff)}
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state IN ('pending', 'leased'))
          AND NOT EXISTS (SELECT 1 FROM outbound_deliveries o WHERE o.alert_id = a.id AND o.state IN ('pending', 'leased'))
          AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.alert_id = a.id AND e.state <> 'done')
          AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.alert_id = a.id AND m.ended_at IS NULL AND m.expires_at > ${now})
          AND NOT EXISTS (
            SELECT 1 FROM deliveries d JOIN message_ops op ON op.discord_message_id = d.discord_message_id
            WHERE d.alert_id = a.id AND op.state IN ('pending', 'leased'))
          AND NOT EXISTS (
            SELECT 1 FROM deliveries d
              JOIN deliveries other ON other.discord_message_id = d.discord_message_id AND other.alert_id <> a.id
              JOIN alerts b ON b.id = other.alert_id
            WHERE d.alert_id = a.id AND NOT (${finishedBefore('b', cutoff)}))
        ORDER BY a.id
        FOR UPDATE OF a SKIP LOCKED`);
      const ids = deletable.rows.map((r) => Number(r.id));
      if (ids.length === 0) return { next: last, counts: {} };
      const ofAlerts = await tx.execute<{ id: string }>(sql`SELECT id FROM deliveries WHERE alert_id IN ${IDS(ids)}`);
      const counts = await this.deleteDeliveries(tx, ofAlerts.rows.map((r) => Number(r.id)));
      const alertRows: { table: keyof RetentionCounts | null; stmt: SQL }[] = [
        { table: 'outboundDeliveries', stmt: sql`DELETE FROM outbound_deliveries WHERE alert_id IN ${IDS(ids)}` },
        { table: 'escalationRuns', stmt: sql`DELETE FROM escalation_runs WHERE escalation_id IN (SELECT id FROM escalations WHERE alert_id IN ${IDS(ids)})` },
        { table: 'escalations', stmt: sql`DELETE FROM escalations WHERE alert_id IN ${IDS(ids)}` },
        { table: 'alertActions', stmt: sql`DELETE FROM alert_actions WHERE alert_id IN ${IDS(ids)}` },
        // A mute made from the alert's card outlives it (it may still silence its service): it just stops naming it.
        { table: null, stmt: sql`UPDATE mutes SET alert_id = NULL WHERE alert_id IN ${IDS(ids)}` },
        // An incident goes with its last members (not counted: it is their group, not a row about them).
        {
          table: null,
          stmt: sql`DELETE FROM incidents WHERE id IN (SELECT incident_id FROM alerts WHERE id IN ${IDS(ids)} AND incident_id IS NOT NULL)
                      AND NOT EXISTS (SELECT 1 FROM alerts o WHERE o.incident_id = incidents.id AND o.id NOT IN ${IDS(ids)})`,
        },
        { table: 'alerts', stmt: sql`DELETE FROM alerts WHERE id IN ${IDS(ids)}` },
      ];
      for (const { table, stmt } of alertRows) {
        const n = (await tx.execute(stmt)).rowCount ?? 0;
        if (table) counts[table] = (counts[table] ?? 0) + n;
      }
      return { next: last, counts };
    });
  }

  async deleteDeliveriesWithoutAlertBatch(after: number, limit: number, cutoff: number): Promise<RetentionBatch> {
    return this.db.transaction(async (tx): Promise<RetentionBatch> => {
      // Messages about no alert (daily digests), finished and older than the cutoff, with no edit still to make.
      const found = await tx.execute<{ id: string }>(sql`
        SELECT d.id FROM deliveries d
        WHERE d.alert_id IS NULL AND d.id > ${after} AND d.state NOT IN ('pending', 'leased')
          AND coalesce(d.sent_at, d.created_at) < ${cutoff}
          AND NOT EXISTS (SELECT 1 FROM message_ops op WHERE op.discord_message_id = d.discord_message_id AND op.state IN ('pending', 'leased'))
        ORDER BY d.id LIMIT ${limit}`);
      const ids = found.rows.map((r) => Number(r.id));
      if (ids.length === 0) return { next: null, counts: {} };
      return { next: ids.length < limit ? null : ids[ids.length - 1]!, counts: await this.deleteDeliveries(tx, ids) };
    });
  }

  async deleteIdempotencyKeys(cutoff: number, limit: number): Promise<number> {
    const r = await this.db.execute(
      sql`DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys WHERE created_at < ${cutoff} LIMIT ${limit}))`,
    );
    return r.rowCount ?? 0;
  }

  async deleteEvents(cutoff: number, limit: number): Promise<number> {
    const r = await this.db.execute(sql`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ${cutoff} ORDER BY id LIMIT ${limit})`);
    return r.rowCount ?? 0;
  }

  /** Deliveries with their attempts, dead letters and message operations, child before parent. Inside a transaction. */
  private async deleteDeliveries(tx: PgExecutor, ids: readonly number[]): Promise<Partial<RetentionCounts>> {
    const counts: Partial<RetentionCounts> = {};
    const rows: { table: keyof RetentionCounts; stmt: SQL }[] = [
      { table: 'attempts', stmt: sql`DELETE FROM attempts WHERE delivery_id IN ${IDS(ids)}` },
      { table: 'deadLetters', stmt: sql`DELETE FROM dead_letters WHERE delivery_id IN ${IDS(ids)}` },
      { table: 'messageOps', stmt: sql`DELETE FROM message_ops WHERE delivery_id IN ${IDS(ids)}` },
      { table: 'deliveries', stmt: sql`DELETE FROM deliveries WHERE id IN ${IDS(ids)}` },
    ];
    for (const { table, stmt } of rows) counts[table] = (counts[table] ?? 0) + ((await tx.execute(stmt)).rowCount ?? 0);
    return counts;
  }
}
