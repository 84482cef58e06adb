import { desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { alertActions, alerts } from '../db/schema.js';
import type { AlertInput } from '../domain/alert.js';
import type { OpPurpose } from '../delivery/message-ops.js';
import { renderColumns } from '../store/delivery-rows.js';
import { renderAlertCard } from '../cards/alert-card.js';
import type { WebhookMessage } from '../discord/message.js';
import type { Herald } from '../herald.js';
import type { OutboundTargets } from '../outbound/targets.js';
import { type AlertDetail, getAlert } from './alerts.js';
import { ServiceError, conflict, notFound } from './errors.js';

/** Who acts on an alert: a person in Discord (with their user id), an admin over the API, or Herald itself. */
export interface Actor {
  kind: 'discord' | 'admin' | 'system';
  userId?: string;
  name: string;
}

export const retractInput = z.strictObject({
  mode: z.enum(['delete', 'strike']).describe('delete: remove its messages; strike: keep them, struck through, with the reason'),
  reason: z.string().trim().min(1).max(500).optional().describe('Why it is retracted (shown on struck messages)'),
});
export type RetractInput = z.output<typeof retractInput>;

type Deps = Pick<Herald, 'db' | 'ops' | 'outbox' | 'scheduler' | 'outboundTargets'>;
/** What a change inside a transaction needs: the follow-ups beyond Discord are optional (an Acceptor without outbound targets). */
type TxDeps = Pick<Herald, 'db' | 'ops'> & { outboundTargets?: Pick<OutboundTargets, 'enqueueFollowUp'> | undefined };

/**
 * The alert's card as it is now, e.g. for the bot's answer to a button press (interaction type 7, which
 * updates the pressed message itself: pass its id as `skipMessageId` to the action). `buttons`: the
 * message may carry buttons (posted by an application-owned webhook, one alert): default true.
 */
export function alertCard(h: Pick<Herald, 'db' | 'config'>, alertId: number, opts: { buttons?: boolean } = {}): WebhookMessage {
  const a = h.db.select(renderColumns).from(alerts).where(eq(alerts.id, alertId)).get();
  if (!a) throw notFound('alert', alertId);
  return renderAlertCard(a, { username: h.config.delivery.username, buttons: opts.buttons ?? true });
}
type AlertRow = typeof alerts.$inferSelect;

/**
 * "12" or "#12" → alert 12; anything else is a dedup key → the newest alert with it.
 * 404 when there is none (so the bot can answer "no alert …" as it is).
 */
export function findAlert(h: Pick<Herald, 'db'>, ref: string): number {
  const r = ref.trim();
  const asId = /^#?(\d{1,15})$/.exec(r);
  if (asId) {
    const id = Number(asId[1]);
    if (h.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.id, id)).get()) return id;
    // A numeric dedup key is possible too.
  }
  const byKey = r ? h.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.dedupKey, r)).orderBy(desc(alerts.id)).limit(1).get() : undefined;
  if (byKey) return byKey.id;
  throw new ServiceError(404, 'not_found', asId ? `no alert #${asId[1]}` : `no alert with id or dedup key "${r.slice(0, 100)}"`);
}

/**
 * Marks the alert acknowledged and queues an edit of every message of it, in every channel, through the
 * webhook that posted each (`skipMessageId`: the message a button press already updated itself).
 * 409 once resolved or retracted; acknowledging twice changes nothing and returns the alert.
 */
export function acknowledgeAlert(h: Deps, alertId: number, by: Actor, opts: { skipMessageId?: string } = {}): AlertDetail {
  change(h, alertId, 'ack', by, opts.skipMessageId, undefined, acknowledging(alertId, by));
  return getAlert(h, alertId);
}

/**
 * A sender's acknowledge (PagerDuty `acknowledge`; pipeline/accept.ts, inside the ingest transaction, so
 * it is committed with the request or not at all): like the Acknowledge button, by the sender. Throws
 * the same 409 ServiceError for a retracted or resolved alert, before writing anything. Returns the
 * channels whose message edits were queued (to wake after commit).
 */
export function acknowledgeFromSender(h: TxDeps, alertId: number, by: Actor, now: number): Set<number> {
  return changeInTx(h, alertId, 'ack', by, now, acknowledging(alertId, by)).channels;
}

const acknowledging =
  (alertId: number, by: Actor) =>
  (a: AlertRow, now: number): Partial<AlertRow> | null => {
    if (a.retractedAt !== null) throw conflict(`alert #${alertId} was retracted; it cannot be acknowledged`);
    if (a.resolvedAt !== null || a.status === 'resolved') throw conflict(`alert #${alertId} is already resolved`);
    if (a.acknowledgedAt !== null) return null;
    return { acknowledgedBy: by.name, acknowledgedByUser: by.userId ?? null, acknowledgedAt: now };
  };

/**
 * Marks the alert resolved (a person, the admin API; a sender's `status: resolved` goes through
 * `resolveFromSender`, the same change inside the ingest transaction) and queues an edit of every message of it. 409 once retracted; resolving twice changes nothing.
 */
export function resolveAlert(h: Deps, alertId: number, by: Actor, opts: { skipMessageId?: string } = {}): AlertDetail {
  change(h, alertId, 'resolve', by, opts.skipMessageId, undefined, (a, now) => {
    if (a.retractedAt !== null) throw conflict(`alert #${alertId} was retracted; it cannot be resolved`);
    if (a.resolvedAt !== null) return null;
    return { status: 'resolved' as const, resolvedBy: by.name, resolvedByUser: by.userId ?? null, resolvedAt: now };
  });
  return getAlert(h, alertId);
}

/**
 * Takes an alert back (sent by mistake, or wrong): its queued deliveries are cancelled and every message
 * of it is deleted (`delete`; in a packed message only its embed goes) or struck through with the reason
 * (`strike`). 409 when already retracted.
 */
export function retractAlert(h: Deps, alertId: number, opts: { mode: 'delete' | 'strike'; reason?: string; by: Actor }): { alert_id: number; messages: number; cancelled: number } {
  let cancelled = 0;
  const messages = change(h, alertId, 'retract', opts.by, undefined, opts.reason, (a, now) => {
    if (a.retractedAt !== null) throw conflict(`alert #${alertId} is already retracted`);
    cancelled = h.outbox.cancelForAlert(alertId);
    return { retractedAt: now, retractMode: opts.mode, retractReason: opts.reason ?? null };
  });
  return { alert_id: alertId, messages, cancelled };
}

/**
 * One lifecycle change in one transaction: the alert's new state, the action's record, an edit
 * queued for each of its messages and, for an acknowledgement or a resolution, a follow-up to the
 * outbound targets that had its firing message. `decide` returns the columns to set, or null for a no-op
 * (then nothing is recorded, edited or sent).
 * Returns the number of messages the alert has.
 */
function change(
  h: Deps,
  alertId: number,
  kind: OpPurpose & ('ack' | 'resolve' | 'retract'),
  by: Actor,
  skipMessageId: string | undefined,
  reason: string | undefined,
  decide: (a: AlertRow, now: number) => Partial<AlertRow> | null,
): number {
  const now = Date.now();
  const result = h.db.transaction(() => changeInTx(h, alertId, kind, by, now, decide, { skipMessageId, reason }));
  for (const channelId of result.channels) h.scheduler.wakeOps(channelId);
  return result.messages;
}

/** `change` without its own transaction nor wake-up: for callers already in one (the ingest transaction). */
function changeInTx(
  h: TxDeps,
  alertId: number,
  kind: OpPurpose & ('ack' | 'resolve' | 'retract'),
  by: Actor,
  now: number,
  decide: (a: AlertRow, now: number) => Partial<AlertRow> | null,
  opts: { skipMessageId?: string | undefined; reason?: string | undefined } = {},
): { channels: Set<number>; messages: number } {
  const a = h.db.select().from(alerts).where(eq(alerts.id, alertId)).get();
  if (!a) throw notFound('alert', alertId);
  const set = decide(a, now);
  if (set === null) return { channels: new Set<number>(), messages: 0 };
  h.db.update(alerts).set({ ...set, changedAt: now }).where(eq(alerts.id, alertId)).run();
  recordAction(h, alertId, kind, by, opts.reason ?? null, now);
  if (kind !== 'retract') h.outboundTargets?.enqueueFollowUp(alertId, kind === 'ack' ? 'alert.acknowledged' : 'alert.resolved', now);
  return h.ops.enqueueForAlert(alertId, kind, now, opts.skipMessageId);
}

/**
 * A sender's `status: resolved` (pipeline/accept.ts, inside the ingest transaction): resolves the alert
 * like the Resolve button, by the sender (`by`: kind 'system', the source's name). A retracted or already
 * resolved alert is left as it is. The outbound follow-up ('alert.resolved') is queued here, like for a
 * person's resolve (the acceptor does not send one of its own). Returns the channels whose message edits
 * were queued (to wake after commit).
 */
export function resolveFromSender(h: TxDeps, alertId: number, by: Actor, now: number): Set<number> {
  return changeInTx(h, alertId, 'resolve', by, now, (a) =>
    a.retractedAt !== null || a.resolvedAt !== null ? null : { status: 'resolved' as const, resolvedBy: by.name, resolvedByUser: by.userId ?? null, resolvedAt: now },
  ).channels;
}

/**
 * A repeat folded into an alert already stored (pipeline/accept.ts, inside the ingest transaction): one
 * more occurrence, last seen now, the repeat's content (title, description, environment, labels, fields,
 * links: the sender's latest word; the severity only goes up while it is one problem), and an edit of
 * every message of it so the card shows all that. `reopen`: it had resolved within the reopen window: it
 * is firing again, its acknowledgement and resolution are cleared (recorded as a 'reopen' action by
 * `by`), and its card turns back to firing. Returns the channels whose message edits were queued.
 */
export function foldRepeat(h: Pick<Herald, 'db' | 'ops'>, alertId: number, input: AlertInput, opts: { at: number; reopen: boolean; by: Actor }): Set<number> {
  const { at, reopen, by } = opts;
  const q = foldQueries(h.db);
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  (reopen ? q.reopen : q.bump).run({
    id: alertId,
    at,
    severity: input.severity,
    title: input.title,
    description: input.description ?? null,
    environment: input.environment ?? null,
    labels: json(input.labels),
    fields: json(input.fields),
    links: json(input.links),
  });
  if (reopen) recordAction(h, alertId, 'reopen', by, null, at);
  return h.ops.enqueueForAlert(alertId, reopen ? 'reopen' : 'repeat', at).channels;
}

const ph = sql.placeholder;
const foldCache = new WeakMap<Herald['db'], ReturnType<typeof prepareFold>>();
/** Prepared once per database: repeats are on the ingest path (an Alertmanager storm re-sends a lot). */
const foldQueries = (db: Herald['db']) => {
  let q = foldCache.get(db);
  if (!q) foldCache.set(db, (q = prepareFold(db)));
  return q;
};
function prepareFold(db: Herald['db']) {
  const v = (name: string) => sql`${ph(name)}`;
  const at = v('at');
  const bump = {
    occurrences: sql`${alerts.occurrences} + 1`,
    lastSeenAt: at,
    changedAt: at,
    // 'P0' < 'P1' < … as text: min() keeps the higher severity.
    severity: sql`min(${alerts.severity}, ${ph('severity')})`,
    title: v('title'),
    description: v('description'),
    environment: v('environment'),
    labels: v('labels'),
    fields: v('fields'),
    links: v('links'),
  };
  return {
    bump: db.update(alerts).set(bump).where(eq(alerts.id, ph('id'))).prepare(),
    reopen: db
      .update(alerts)
      .set({
        ...bump,
        status: 'firing',
        reopenedAt: at,
        resolvedAt: null,
        resolvedBy: null,
        resolvedByUser: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        acknowledgedByUser: null,
      })
      .where(eq(alerts.id, ph('id')))
      .prepare(),
  };
}

/** Appends to the alert's history (alert_actions). Call inside the transaction that made the change. */
export function recordAction(h: Pick<Herald, 'db'>, alertId: number, kind: 'ack' | 'resolve' | 'retract' | 'mute' | 'unmute' | 'reopen', by: Actor, reason: string | null, now: number): void {
  h.db.insert(alertActions).values({ alertId, kind, actorKind: by.kind, actorUserId: by.userId ?? null, actorName: by.name, reason, at: now }).run();
}
