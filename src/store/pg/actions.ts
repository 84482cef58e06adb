import { asc, eq } from 'drizzle-orm';
import type { ActionKind, ActionRow, Actor, AlertActionStore } from '../actions.js';
import type { PgExecutor } from './open.js';
import { alertActions } from './schema.js';

/**
 * `../actions.ts` on PostgreSQL: the same insert and read (`id`, `alert_id` and `at` are bigint columns read as
 * numbers). Without `recordSync`, the twin SQLite's sibling modules call inside their synchronous better-sqlite3
 * transactions: their PostgreSQL versions await `record` inside drizzle's transaction instead.
 */
export class PgAlertActionStore implements Pick<AlertActionStore, Exclude<keyof AlertActionStore, 'recordSync'>> {
  constructor(private readonly db: PgExecutor) {}

  /** Appends to the alert's history. Call inside the transaction that made the change. */
  async record(alertId: number, kind: ActionKind, by: Actor, reason: string | null, now: number): Promise<void> {
    await this.db.insert(alertActions).values({ alertId, kind, actorKind: by.kind, actorUserId: by.userId ?? null, actorName: by.name, reason, at: now });
  }

  /** The alert's history, oldest first (the console's alert page). */
  async forAlert(alertId: number): Promise<ActionRow[]> {
    return this.db
      .select({ id: alertActions.id, kind: alertActions.kind, actorKind: alertActions.actorKind, actorName: alertActions.actorName, reason: alertActions.reason, at: alertActions.at })
      .from(alertActions)
      .where(eq(alertActions.alertId, alertId))
      .orderBy(asc(alertActions.id));
  }
}
