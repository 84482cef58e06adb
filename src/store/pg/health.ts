import { isNull, sql } from 'drizzle-orm';
import type { ChannelHealth, HealthStore } from '../health.js';
import type { PgExecutor } from './open.js';
import { channels } from './schema.js';

/** PostgreSQL's SQLSTATE of a failure: on the `cause` of drizzle's error, or on the driver's own. */
function pgCode(err: unknown): string | undefined {
  const code = (e: unknown) => (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : undefined);
  return code(err) ?? (typeof err === 'object' && err !== null && 'cause' in err ? code((err as { cause: unknown }).cause) : undefined);
}

/** The message of a failure: the driver's (drizzle's own names the whole query). */
function pgMessage(err: unknown): string {
  const cause = typeof err === 'object' && err !== null && 'cause' in err ? (err as { cause: unknown }).cause : undefined;
  return cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
}

/**
 * `../health.ts` on PostgreSQL. SQLite's write probe takes the one write lock (`BEGIN IMMEDIATE`) and gives it
 * back; PostgreSQL has no such lock. Whether it takes writes is asked instead in one short transaction, writing
 * nothing: `pg_is_in_recovery()` (a standby, or a primary still recovering, refuses every write) and
 * `transaction_read_only` (`default_transaction_read_only`, set on the database, the role or the server, or a
 * caller's read-only transaction). A transaction that cannot even begin is reported with its SQLSTATE, as SQLite's
 * with its code.
 */
export class PgHealthStore implements Pick<HealthStore, keyof HealthStore> {
  constructor(private readonly db: PgExecutor) {}

  async probe(): Promise<{ unreachable: boolean; problems: string[] }> {
    try {
      await this.db.execute(sql`select 1`);
    } catch {
      return { unreachable: true, problems: ['database unavailable'] };
    }
    let state: { recovery: boolean; readOnly: string } | undefined;
    try {
      state = await this.db.transaction(async (tx) => {
        const r = await tx.execute<{ recovery: boolean; read_only: string }>(sql`select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as read_only`);
        const row = r.rows[0]!;
        return { recovery: row.recovery, readOnly: row.read_only };
      });
    } catch (err) {
      return { unreachable: false, problems: [`database: cannot take writes (${pgCode(err) ?? 'error'}: ${pgMessage(err)}); alerts cannot be stored now`] };
    }
    if (state.recovery) return { unreachable: false, problems: ['database: cannot take writes (in recovery: a standby, or a primary not yet recovered); alerts cannot be stored now'] };
    if (state.readOnly === 'on') return { unreachable: false, problems: ['database: cannot take writes (transactions are read-only: default_transaction_read_only); alerts cannot be stored now'] };
    return { unreachable: false, problems: [] };
  }

  /** As SQLite's; counts and `min` of a bigint come back as strings, mapped to numbers; by id (SQLite's scan order). */
  async channels(): Promise<ChannelHealth[]> {
    // With aliases, as SQLite's (drizzle renders a column in a select's fields without its table name).
    const healthy = sql<number>`(select count(*) from webhooks w where w.channel_id = channels.id and w.state = 'active' and w.breaker_state != 'open')`.mapWith(Number);
    const oldestDue = sql<number | null>`(select min(d.available_at) from deliveries d where d.channel_id = channels.id and d.state = 'pending')`.mapWith(Number);
    return this.db.select({ id: channels.id, name: channels.name, healthy, oldestDue }).from(channels).where(isNull(channels.removedAt)).orderBy(channels.id);
  }
}
