import { z } from 'zod';
import type { AlertInput } from '../domain/alert.js';
import { renderAlertCard } from '../cards/alert-card.js';
import type { WebhookMessage } from '../discord/message.js';
import type { Config } from '../config.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { OutboundTargets } from '../outbound/targets.js';
import type { Actor } from '../store/actions.js';
import type { AlertRow } from '../store/alerts.js';
import type { Store } from '../store/index.js';
import type { OpPurpose } from '../store/message-ops.js';
import { type AlertDetail, getAlert } from './alerts.js';
import { ServiceError, conflict } from './errors.js';

export type { Actor };

export const retractInput = z.strictObject({
  mode: z.enum(['delete', 'strike']).describe('delete: remove its messages; strike: keep them, struck through, with the reason'),
  reason: z.string().trim().min(1).max(500).optional().describe('Why it is retracted (shown on struck messages)'),
});
export type RetractInput = z.output<typeof retractInput>;

/** The modules a lifecycle change writes: inside a transaction, the transaction's (`tx`). */
type TxStore = Pick<Store, 'alerts' | 'actions' | 'messageOps' | 'deliveries' | 'outbound'>;
type Deps = {
  store: TxStore & Pick<Store, 'transaction'>;
  signals: Pick<CommitSignals, 'editsQueued'>;
  outboundTargets: Pick<OutboundTargets, 'enqueueFollowUp'>;
};
/**
 * What a change inside a transaction needs: its store is the transaction's (`tx`); the follow-ups beyond Discord
 * are optional (an Acceptor without outbound targets).
 */
type TxDeps = { store: TxStore; outboundTargets?: Pick<OutboundTargets, 'enqueueFollowUp'> | undefined };

/**
 * The alert's card as it is now, e.g. for the bot's answer to a button press (interaction type 7, which
 * updates the pressed message itself: pass its id as `skipMessageId` to the action). `buttons`: the
 * message may carry buttons (posted by an application-owned webhook, one alert): default true.
 */
export async function alertCard(h: { store: Pick<Store, 'alerts'>; config: Pick<Config, 'delivery'> }, alertId: number, opts: { buttons?: boolean } = {}): Promise<WebhookMessage> {
  return renderAlertCard(await h.store.alerts.renderable(alertId), { username: h.config.delivery.username, buttons: opts.buttons ?? true });
}

/**
 * "12" or "#12" → alert 12; anything else is a dedup key → the newest alert with it.
 * 404 when there is none (so the bot can answer "no alert …" as it is).
 */
export async function findAlert(h: { store: Pick<Store, 'alerts'> }, ref: string): Promise<number> {
  const r = ref.trim();
  const asId = /^#?(\d{1,15})$/.exec(r);
  if (asId) {
    const id = Number(asId[1]);
    if (await h.store.alerts.exists(id)) return id;
    // A numeric dedup key is possible too.
  }
  const byKey = r ? await h.store.alerts.newestWithKey(r) : undefined;
  if (byKey !== undefined) return byKey;
  throw new ServiceError(404, 'not_found', asId ? `no alert #${asId[1]}` : `no alert with id or dedup key "${r.slice(0, 100)}"`);
}

/**
 * Marks the alert acknowledged and queues an edit of every message of it, in every channel, through the
 * webhook that posted each (`skipMessageId`: the message a button press already updated itself).
 * 409 once resolved or retracted; acknowledging twice changes nothing and returns the alert.
 */
export async function acknowledgeAlert(h: Deps, alertId: number, by: Actor, opts: { skipMessageId?: string } = {}): Promise<AlertDetail> {
  return (await acknowledgeAlertOnce(h, alertId, by, opts)).alert;
}

/**
 * What a person's acknowledge or resolve did: `changed` false when the alert already was in that state
 * (nothing recorded, edited or sent), with who did it first and when (`earlier`), so the bot can say
 * "already resolved by …" to that person alone instead of announcing it again.
 */
export interface LifecycleOutcome {
  alert: AlertDetail;
  changed: boolean;
  earlier?: { name: string | null; userId: string | null; at: number | null };
}

/** `acknowledgeAlert`, telling whether it changed anything (the bot's /ack and Acknowledge button). */
export async function acknowledgeAlertOnce(h: Deps, alertId: number, by: Actor, opts: { skipMessageId?: string } = {}): Promise<LifecycleOutcome> {
  const r = await change(h, alertId, 'ack', by, opts.skipMessageId, undefined, acknowledging(alertId, by));
  const alert = await getAlert(h, alertId);
  return r.changed ? { alert, changed: true } : { alert, changed: false, earlier: { name: r.before.acknowledgedBy, userId: r.before.acknowledgedByUser, at: r.before.acknowledgedAt } };
}

/**
 * A sender's acknowledge (PagerDuty `acknowledge`; pipeline/accept.ts, inside the ingest transaction, so
 * it is committed with the request or not at all): like the Acknowledge button, by the sender. Throws
 * the same 409 ServiceError for a retracted or resolved alert, before writing anything. Returns the
 * channels whose message edits were queued (to wake after commit).
 */
export async function acknowledgeFromSender(h: TxDeps, alertId: number, by: Actor, now: number): Promise<Set<number>> {
  return (await changeInTx(h, alertId, 'ack', by, now, acknowledging(alertId, by))).channels;
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
export async function resolveAlert(h: Deps, alertId: number, by: Actor, opts: { skipMessageId?: string } = {}): Promise<AlertDetail> {
  return (await resolveAlertOnce(h, alertId, by, opts)).alert;
}

/** `resolveAlert`, telling whether it changed anything (the bot's /resolve and Resolve button). */
export async function resolveAlertOnce(h: Deps, alertId: number, by: Actor, opts: { skipMessageId?: string } = {}): Promise<LifecycleOutcome> {
  const r = await change(h, alertId, 'resolve', by, opts.skipMessageId, undefined, (a, now) => {
    if (a.retractedAt !== null) throw conflict(`alert #${alertId} was retracted; it cannot be resolved`);
    if (a.resolvedAt !== null) return null;
    return { status: 'resolved' as const, resolvedBy: by.name, resolvedByUser: by.userId ?? null, resolvedAt: now };
  });
  const alert = await getAlert(h, alertId);
  return r.changed ? { alert, changed: true } : { alert, changed: false, earlier: { name: r.before.resolvedBy, userId: r.before.resolvedByUser, at: r.before.resolvedAt } };
}

/**
 * The auto-resolve sweep's resolve (services/auto-resolve.ts): like the Resolve button, by `by` (the stale
 * resolver's name), but only if its transaction still finds the alert firing, not retracted, with no update after
 * `lastUpdateBy` (epoch ms): a repeat folded in since the sweep read its candidates keeps it firing. Nothing is
 * recorded, edited or sent otherwise. Returns whether it resolved the alert.
 */
export async function resolveIfStale(h: Deps, alertId: number, by: Actor, lastUpdateBy: number): Promise<boolean> {
  const r = await change(h, alertId, 'resolve', by, undefined, undefined, (a, now) => {
    if (a.retractedAt !== null || a.resolvedAt !== null || a.status !== 'firing' || (a.lastSeenAt ?? a.receivedAt) > lastUpdateBy) return null;
    return { status: 'resolved' as const, resolvedBy: by.name, resolvedByUser: by.userId ?? null, resolvedAt: now };
  });
  return r.changed;
}

/**
 * Takes an alert back (sent by mistake, or wrong): its queued deliveries are cancelled and every message
 * of it is deleted (`delete`; in a packed message only its embed goes) or struck through with the reason
 * (`strike`). 409 when already retracted.
 */
export async function retractAlert(h: Deps, alertId: number, opts: { mode: 'delete' | 'strike'; reason?: string; by: Actor }): Promise<{ alert_id: number; messages: number; cancelled: number }> {
  let cancelled = 0;
  const { messages } = await change(
    h,
    alertId,
    'retract',
    opts.by,
    undefined,
    opts.reason,
    (a, now) => {
      if (a.retractedAt !== null) throw conflict(`alert #${alertId} is already retracted`);
      return { retractedAt: now, retractMode: opts.mode, retractReason: opts.reason ?? null };
    },
    // Its queued deliveries are cancelled in the same transaction, once the check above let it through.
    async (tx) => {
      cancelled = await tx.deliveries.cancelForAlert(alertId);
    },
  );
  return { alert_id: alertId, messages, cancelled };
}

/**
 * One lifecycle change in one transaction: the alert's new state, the action's record, an edit
 * queued for each of its messages and, for an acknowledgement or a resolution, a follow-up to the
 * outbound targets that had its firing message. `decide` returns the columns to set, or null for a no-op
 * (then nothing is recorded, edited or sent); `also`, when it did not, writes what else goes with the change,
 * in the same transaction, before it (a retract's cancelled deliveries).
 * Returns the number of messages the alert has, whether anything changed, and the row as it was before.
 */
async function change(
  h: Deps,
  alertId: number,
  kind: OpPurpose & ('ack' | 'resolve' | 'retract'),
  by: Actor,
  skipMessageId: string | undefined,
  reason: string | undefined,
  decide: (a: AlertRow, now: number) => Partial<AlertRow> | null,
  also?: (tx: TxStore) => Promise<void>,
): Promise<{ messages: number; changed: boolean; before: AlertRow }> {
  const now = Date.now();
  const result = await h.store.transaction((tx) => changeInTx({ ...h, store: tx }, alertId, kind, by, now, decide, { skipMessageId, reason, also }));
  for (const channelId of result.channels) h.signals.editsQueued(channelId);
  return result;
}

/**
 * `change` without its own transaction nor wake-up: for callers already in one (the ingest transaction).
 * `h.store` is that transaction's (`tx`): every write goes through it.
 */
async function changeInTx(
  h: TxDeps,
  alertId: number,
  kind: OpPurpose & ('ack' | 'resolve' | 'retract'),
  by: Actor,
  now: number,
  decide: (a: AlertRow, now: number) => Partial<AlertRow> | null,
  opts: { skipMessageId?: string | undefined; reason?: string | undefined; also?: ((tx: TxStore) => Promise<void>) | undefined } = {},
): Promise<{ channels: Set<number>; messages: number; changed: boolean; before: AlertRow }> {
  const a = await h.store.alerts.row(alertId);
  const set = decide(a, now);
  if (set === null) return { channels: new Set<number>(), messages: 0, changed: false, before: a };
  if (opts.also) await opts.also(h.store);
  await h.store.alerts.update(alertId, { ...set, changedAt: now });
  await h.store.actions.record(alertId, kind, by, opts.reason ?? null, now);
  if (kind !== 'retract' && h.outboundTargets) await h.outboundTargets.enqueueFollowUp(h.store, alertId, kind === 'ack' ? 'alert.acknowledged' : 'alert.resolved', now);
  const edits = await h.store.messageOps.enqueueForAlert(alertId, kind, now, opts.skipMessageId);
  // Cards with a thread (threads routes, forum posts) also say it there, as a line of their timeline.
  if (kind !== 'retract') for (const c of await h.store.deliveries.enqueueThreadNotes(alertId, kind, now)) edits.channels.add(c);
  return { ...edits, changed: true, before: a };
}

/**
 * An incident's Acknowledge or Resolve (its card's buttons, the admin API): every member still firing (and,
 * for Acknowledge, not yet acknowledged) gets the change, in one transaction, each as if its own button was
 * pressed (recorded on it, its messages edited, its follow-ups queued); members already in that state, or
 * retracted, are left as they are. Returns the members it changed (none: nothing to do).
 */
export async function changeMembers(h: Deps, alertIds: readonly number[], kind: 'ack' | 'resolve', by: Actor, opts: { skipMessageId?: string } = {}): Promise<number[]> {
  const now = Date.now();
  const changed: number[] = [];
  const channels = new Set<number>();
  await h.store.transaction(async (tx) => {
    const inTx = { ...h, store: tx };
    for (const id of alertIds) {
      const r = await changeInTx(
        inTx,
        id,
        kind,
        by,
        now,
        (a) => {
          if (a.retractedAt !== null || a.resolvedAt !== null || a.status === 'resolved') return null;
          if (kind === 'ack') return a.acknowledgedAt !== null ? null : { acknowledgedBy: by.name, acknowledgedByUser: by.userId ?? null, acknowledgedAt: now };
          return { status: 'resolved' as const, resolvedBy: by.name, resolvedByUser: by.userId ?? null, resolvedAt: now };
        },
        { skipMessageId: opts.skipMessageId },
      );
      if (!r.changed) continue;
      changed.push(id);
      for (const c of r.channels) channels.add(c);
    }
  });
  for (const c of channels) h.signals.editsQueued(c);
  return changed;
}

/**
 * A sender's `status: resolved` (pipeline/accept.ts, inside the ingest transaction): resolves the alert
 * like the Resolve button, by the sender (`by`: kind 'system', the source's name). A retracted or already
 * resolved alert is left as it is. The outbound follow-up ('alert.resolved') is queued here, like for a
 * person's resolve (the acceptor does not send one of its own). Returns the channels whose message edits
 * were queued (to wake after commit).
 */
export async function resolveFromSender(h: TxDeps, alertId: number, by: Actor, now: number): Promise<Set<number>> {
  const r = await changeInTx(h, alertId, 'resolve', by, now, (a) =>
    a.retractedAt !== null || a.resolvedAt !== null ? null : { status: 'resolved' as const, resolvedBy: by.name, resolvedByUser: by.userId ?? null, resolvedAt: now },
  );
  return r.channels;
}

/**
 * A repeat folded into an alert already stored (pipeline/accept.ts, inside the ingest transaction): one
 * more occurrence (none for a re-send of the same firing, `input.firing_started_at` equal to the stored
 * start: a notification; the store's fold compares), last seen now, its firing start, the repeat's content (title, description, environment, labels, fields,
 * links: the sender's latest word; the severity only goes up while it is one problem), and an edit of
 * every message of it so the card shows all that. `reopen`: it had resolved within the reopen window: it
 * is firing again, its acknowledgement and resolution are cleared (recorded as a 'reopen' action by
 * `by`), and its card turns back to firing. Returns the channels whose message edits were queued.
 * `h.store`: the ingest transaction's (`tx`).
 */
export async function foldRepeat(h: { store: Pick<Store, 'alerts' | 'actions' | 'messageOps' | 'deliveries'> }, alertId: number, input: AlertInput, opts: { at: number; reopen: boolean; by: Actor }): Promise<Set<number>> {
  const { at, reopen, by } = opts;
  await h.store.alerts.fold(alertId, input, at, reopen);
  if (reopen) await h.store.actions.record(alertId, 'reopen', by, null, at);
  const channels = (await h.store.messageOps.enqueueForAlert(alertId, reopen ? 'reopen' : 'repeat', at)).channels;
  // "Fired again, N times" in the card's thread; one waiting note covers the repeats that follow it.
  for (const c of await h.store.deliveries.enqueueThreadNotes(alertId, reopen ? 'reopen' : 'repeat', at)) channels.add(c);
  return channels;
}
