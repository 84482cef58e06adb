import { asc, eq } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { alertActions } from './sqlite/schema.js';

/** Who acts on an alert: a person in Discord (with their user id), an admin over the API, or Herald itself. */
export interface Actor {
  kind: 'discord' | 'admin' | 'system';
  userId?: string;
  name: string;
}

export type ActionKind = 'ack' | 'resolve' | 'retract' | 'mute' | 'unmute' | 'reopen';

/** An alert's history (alert_actions): appended to by the stores that change an alert or mute from it. */
export class AlertActionStore {
  constructor(private readonly db: Db) {}

  /** Appends to the alert's history. Call inside the transaction that made the change. */
  async record(alertId: number, kind: ActionKind, by: Actor, reason: string | null, now: number): Promise<void> {
    this.recordSync(alertId, kind, by, reason, now);
  }

  /** `record` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  recordSync(alertId: number, kind: ActionKind, by: Actor, reason: string | null, now: number): void {
    this.db.insert(alertActions).values({ alertId, kind, actorKind: by.kind, actorUserId: by.userId ?? null, actorName: by.name, reason, at: now }).run();
  }

  /** The alert's history, oldest first (the console's alert page). */
  async forAlert(alertId: number): Promise<ActionRow[]> {
    return this.db
      .select({ id: alertActions.id, kind: alertActions.kind, actorKind: alertActions.actorKind, actorName: alertActions.actorName, reason: alertActions.reason, at: alertActions.at })
      .from(alertActions)
      .where(eq(alertActions.alertId, alertId))
      .orderBy(asc(alertActions.id))
      .all();
  }
}

/** One entry of an alert's history. */
export interface ActionRow {
  id: number;
  kind: ActionKind;
  actorKind: Actor['kind'];
  actorName: string;
  reason: string | null;
  at: number;
}
