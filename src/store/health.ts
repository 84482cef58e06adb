import { isNull, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { sqliteCode } from './sqlite/health.js';
import { channels } from './sqlite/schema.js';

export interface ChannelHealth {
  id: number;
  name: string;
  /** Active webhooks whose breaker is not open. */
  healthy: number;
  /** When the oldest delivery ready to go (its backoff over) and not sent became ready; null: none. */
  oldestDue: number | null;
}

/** What /readyz asks the database: can it take writes now, and how each channel's delivery stands. */
export class HealthStore {
  constructor(private readonly db: Db) {}

  /**
   * Problems with the database itself, one plain sentence each (none: it reads and takes writes).
   * `unreachable`: it cannot even be read (nothing else is worth asking then).
   */
  async probe(): Promise<{ unreachable: boolean; problems: string[] }> {
    const sqlite = this.db.$client;
    try {
      sqlite.prepare('select 1').get();
    } catch {
      return { unreachable: true, problems: ['database unavailable'] };
    }
    try {
      // Takes the write lock and gives it back, writing nothing; waits at most busy_timeout (tens of ms).
      sqlite.exec('BEGIN IMMEDIATE');
      sqlite.exec('ROLLBACK');
    } catch (err) {
      return { unreachable: false, problems: [`database: cannot take the write lock (${sqliteCode(err) ?? 'error'}: ${(err as Error).message}); alerts cannot be stored now`] };
    }
    return { unreachable: false, problems: [] };
  }

  async channels(): Promise<ChannelHealth[]> {
    // Written out with aliases: drizzle renders a column in a select's fields without its table, so `${webhooks.channelId}
    // = ${channels.id}` there became `"channel_id" = "id"`, both the subquery's own table (every count wrong).
    const healthy = sql<number>`(select count(*) from webhooks w where w.channel_id = channels.id and w.state = 'active' and w.breaker_state != 'open')`;
    // `min(available_at)` walks the (channel, state, available_at) index, one seek per channel.
    const oldestDue = sql<number | null>`(select min(d.available_at) from deliveries d where d.channel_id = channels.id and d.state = 'pending')`;
    return this.db.select({ id: channels.id, name: channels.name, healthy, oldestDue }).from(channels).where(isNull(channels.removedAt)).all();
  }
}
