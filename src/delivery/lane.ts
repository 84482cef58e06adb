import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BotRestError, type BotRest } from '../discord/bot-rest.js';
import { DISCORD_ERROR } from '../discord/limits.js';
import { severityRank } from '../domain/alert.js';
import { scrubSecrets } from '../log.js';
import type { Metrics } from '../metrics.js';
import { CircuitBreaker } from './breaker.js';
import { ChannelBudget, WebhookBucket } from './budget.js';
import type { MessageOps, ReadyOp } from './message-ops.js';
import type { AttemptRecord, ClaimedDelivery, Outbox } from './outbox.js';
import { type PoolMember, WebhookPool } from './pool.js';
import { cardButtons, packMessage, renderAlertCard, renderMessage, type StatefulAlert, type WebhookMessage } from './render.js';
import { discordErrorCode, type DiscordTransport, type TransportResult } from './transport.js';
import type { WebhookStore } from './webhook-store.js';

export interface LaneDeps {
  outbox: Outbox;
  ops: MessageOps;
  /** The bot's REST client, when a bot token is configured: the fallback for messages whose webhook is gone. */
  bot?: BotRest | undefined;
  store: WebhookStore;
  transport: DiscordTransport;
  config: Config['delivery'];
  metrics: Metrics;
  log: Logger;
}

/** Render caution levels (deliveries.render_level). */
const PACKABLE = 0;
const SOLO = 1;
const DEGRADED = 2;

const MAX_PACK = 10;
const MAX_BACKOFF_MS = 5 * 60_000;
/** How many ready message operations one pass looks at to find one whose webhook may send now. */
const OP_SCAN = 20;

/** What an edit needs of a webhook: its own bucket and the one-request-at-a-time flag (pool members have both). */
interface WebhookSlot {
  bucket: WebhookBucket;
  busy: boolean;
}

/**
 * One channel's delivery lane: its webhook pool, its share of Discord's budget and its part of the
 * queue. `pump` sends while budgets allow and sets one timer for the moment they will allow again.
 * Every outcome of a request is decided here, in `settle`.
 */
export class Lane {
  readonly pool = new WebhookPool();
  readonly budget: ChannelBudget;
  /** Approximate backlog (pending + in flight), to decide when to pack several alerts per message. */
  backlog = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private pumping = false;
  private stopped = false;
  private readonly inFlight = new Map<Promise<void>, number[]>();
  /** Edits and deletes in flight (operation ids): at shutdown they stay leased and run again at restart. */
  private readonly opsInFlight = new Map<Promise<void>, number>();
  /** Buckets of webhooks out of the pool (retired, quarantined) that still edit their own messages. */
  private readonly outOfPool = new Map<number, WebhookSlot>();
  private botBusy = false;
  /**
   * When to look at message_ops again: 0 now, Infinity when none is pending (a new one comes with
   * `opsChanged`). Saves the delivery hot path a query per send on channels nobody acts on.
   */
  private opsCheckAt = 0;
  private warnedEmpty = false;

  constructor(
    readonly channelId: number,
    private readonly deps: LaneDeps,
  ) {
    const c = deps.config;
    this.budget = new ChannelBudget(c.channelCap, c.channelWindowMs, c.priorityReserve);
    this.budget.seed(deps.outbox.recentMessageTimes(channelId, Date.now() - c.channelWindowMs));
    this.reloadPool();
  }

  reloadPool(): void {
    const { store, config } = this.deps;
    this.pool.reset(
      store.activeFor(this.channelId).map((w) => ({
        id: w.id,
        discordWebhookId: w.discordWebhookId,
        token: w.token,
        owner: w.owner,
        breaker: new CircuitBreaker(config.breakerThreshold, config.breakerCooldownMs, w.breaker, (snap) => store.saveBreaker(w.id, snap)),
      })),
    );
    if (this.pool.size > 0) this.warnedEmpty = false;
  }

  /** Run `pump` soon (coalesced), or at `at` if that is earlier than the timer already set. */
  schedule(at = Date.now()): void {
    if (this.stopped || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }

  pump(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    try {
      // Edits first: they are cheap (no channel-cap slot) and a person is waiting to see their action.
      while (this.sendOp() || this.sendOne());
    } catch (err) {
      // A database error here must not kill the process or lose rows: they stay pending/leased; try again shortly.
      this.deps.log.error({ err, channelId: this.channelId }, 'delivery lane failed; retrying in 1 s');
      this.schedule(Date.now() + 1000);
    } finally {
      this.pumping = false;
    }
  }

  /** Starts one send if budgets and the queue allow; false when the lane must wait (a timer is set). */
  private sendOne(): boolean {
    const now = Date.now();
    const { outbox, config } = this.deps;
    if (this.budget.freeSlots(now, 0) === 0) {
      this.schedule(this.budget.nextSlotAt(now));
      return false;
    }
    // Low severities may not use the channel's reserved slots nor a webhook's last request: those are for P0/P1.
    let member = this.budget.freeSlots(now, 3) > 0 ? this.pool.pick(now, true) : undefined;
    const lowAllowed = member !== undefined;
    member ??= this.pool.pick(now);
    if (!member) {
      const at = this.pool.nextReadyAt(now);
      if (at !== null) this.schedule(at);
      // Every member busy: the first to finish pumps again. Only a pool with no member at all needs a person.
      else if (this.pool.size === 0) this.noteEmptyPool(now);
      return false;
    }
    const packLimit = this.backlog > this.budget.freeSlots(now, 3) ? MAX_PACK : 1;
    const leaseMs = config.requestTimeoutMs + 30_000;
    const claimed = outbox.claim(this.channelId, now, packLimit, lowAllowed ? 3 : 1, leaseMs);
    if (claimed.length === 0) {
      const nextReady = outbox.nextAvailableAt(this.channelId);
      if (nextReady === null) return false; // nothing queued: the next enqueue wakes the lane
      // Something waits: for its backoff to end, or (P2/P3) for the budget or a webhook bucket to refill.
      const budgetAt = this.budget.nextSlotAt(now, 3);
      const lowReadyAt = lowAllowed ? now : Math.max(budgetAt, this.pool.nextReadyAt(now, true) ?? now);
      this.schedule(Math.max(nextReady, lowReadyAt, now + 1));
      return false;
    }
    const { batch, message } = this.render(claimed, member.owner);
    const leftover = claimed.slice(batch.length).map((d) => d.id);
    outbox.release(leftover, { availableAt: now, countAttempt: false });

    member.busy = true;
    member.bucket.begin();
    member.breaker.begin();
    this.budget.begin(now, batch.some((d) => d.priority > 1));
    const ids = batch.map((d) => d.id);
    const done = this.deps.transport
      .executeWebhook(member, message)
      .then((result) => this.settle(member, batch, result))
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId }, 'settling a send failed; its leases are recovered at restart'))
      .finally(() => {
        member.busy = false;
        this.inFlight.delete(done);
        this.pump();
      });
    this.inFlight.set(done, ids);
    return true;
  }

  /** Packs what it can; a message holding one alert, sent by an application-owned webhook, gets the card's buttons. */
  private render(claimed: ClaimedDelivery[], owner: 'app' | 'external') {
    const first = claimed[0]!;
    const username = this.deps.config.username;
    const withButtons = (batch: ClaimedDelivery[], message: WebhookMessage) => {
      if (owner === 'app' && batch.length === 1) message.components = cardButtons(batch[0]!.alert);
      return { batch, message };
    };
    if (first.renderLevel !== PACKABLE) {
      const { message } = packMessage([first.alert], { username, degraded: first.renderLevel === DEGRADED });
      return withButtons([first], message);
    }
    const packable: ClaimedDelivery[] = [];
    for (const d of claimed) {
      if (d.renderLevel !== PACKABLE) break;
      packable.push(d);
    }
    const { taken, message } = packMessage(packable.map((d) => d.alert), { username });
    return withButtons(packable.slice(0, taken), message);
  }

  /** Decides what an answer from Discord means for the deliveries, the webhook and the budgets. */
  private settle(member: PoolMember, batch: ClaimedDelivery[], result: TransportResult): void {
    const now = Date.now();
    const { outbox, store, metrics, log } = this.deps;
    const ids = batch.map((d) => d.id);
    const attempt = {
      deliveryIds: ids,
      webhookId: member.id,
      at: now,
      status: result.kind === 'network' ? null : result.status,
      latencyMs: result.latencyMs,
      outcome: 'ok',
      error: null as string | null,
      rateLimitScope: null as string | null,
    };
    const wlog = log.child({ channelId: this.channelId, webhookId: member.id });

    if (result.kind === 'ok') {
      this.budget.end(now, true);
      member.bucket.end(now, result.rate);
      member.breaker.success();
      outbox.markSent(ids, member.id, result.messageId, now, attempt);
      // An action on an alert while its message was on the way: the message shows the old state, so edit it.
      if (this.deps.ops.syncIfChanged(batch.map((d) => ({ id: d.alertId, changedAt: d.alert.changedAt })), this.channelId, member.id, result.messageId, ids[0]!, now)) {
        this.opsChanged();
        this.schedule(now);
      }
      this.backlog = Math.max(0, this.backlog - ids.length);
      metrics.messages.inc();
      metrics.delivered.inc(ids.length);
      for (const d of batch) metrics.endToEnd.observe((now - d.alert.receivedAt) / 1000);
      return;
    }

    if (result.kind === 'network') {
      // No answer: Discord may or may not have posted it, so it counts against the channel's cap.
      this.budget.end(now, true);
      member.bucket.end(now, {});
      member.breaker.failure(now);
      metrics.failed.inc({ reason: result.timedOut ? 'timeout' : 'network' });
      wlog.warn({ latencyMs: result.latencyMs, error: result.error }, 'Discord did not answer; will retry');
      this.retryOrDeadLetter(batch, now, { ...attempt, outcome: result.timedOut ? 'timeout' : 'network', error: result.error }, result.error);
      return;
    }

    const status = result.status;
    const discordError = scrubSecrets(result.body);
    member.bucket.end(now, result.rate);

    if (status === 429) {
      const scope = result.rate.scope ?? 'user';
      const waitMs = result.rate.retryAfterMs ?? 1000;
      this.budget.end(now, false);
      member.breaker.neutral();
      if (scope === 'shared' || scope === 'global') this.budget.sharedLimitHit(now, waitMs);
      metrics.rateLimited.inc({ scope });
      wlog.warn({ scope, retryAfterMs: waitMs }, 'Discord rate limit hit; waiting as told');
      // Not a failure of the delivery: it goes back unchanged and waits for the budget.
      outbox.release(ids, { availableAt: now, countAttempt: false, attempt: { ...attempt, outcome: 'rate_limited', rateLimitScope: scope } });
      return;
    }

    this.budget.end(now, status >= 500);
    if (status === 401 || status === 403 || status === 404) {
      member.breaker.neutral();
      const reason = `Discord answered ${status}: ${discordError.slice(0, 200)}`;
      store.quarantine(member.id, this.channelId, reason, now, status !== 403);
      this.pool.remove(member.id);
      metrics.failed.inc({ reason: 'webhook_gone' });
      wlog.error({ status }, 'webhook rejected by Discord; quarantined and taken out of the pool');
      outbox.release(ids, { availableAt: now, countAttempt: false, attempt: { ...attempt, outcome: 'webhook_gone', error: discordError } });
      return;
    }

    if (status === 400 || status === 413) {
      member.breaker.neutral();
      metrics.failed.inc({ reason: 'rejected' });
      const att = { ...attempt, outcome: 'rejected', error: discordError };
      if (batch.length > 1) {
        // Which alert Discord disliked is unknown: send each alone from now on.
        outbox.release(ids, { availableAt: now, countAttempt: true, renderLevel: SOLO, error: discordError, attempt: att });
      } else if (batch[0]!.renderLevel < DEGRADED) {
        outbox.release(ids, { availableAt: now, countAttempt: true, renderLevel: DEGRADED, error: discordError, attempt: att });
      } else {
        this.deadLetter(ids, 'rejected', `Discord rejected the message (${status}) even in degraded form`, discordError, now, att);
      }
      wlog.warn({ status, discordError: discordError.slice(0, 500) }, 'Discord rejected the message');
      return;
    }

    if (status >= 500) {
      member.breaker.failure(now);
      metrics.failed.inc({ reason: 'server_error' });
      this.retryOrDeadLetter(batch, now, { ...attempt, outcome: 'server_error', error: discordError }, `Discord answered ${status}`);
      return;
    }

    // Any other answer (e.g. 405, 415) will not change by retrying.
    member.breaker.neutral();
    metrics.failed.inc({ reason: 'unexpected' });
    this.deadLetter(ids, 'unexpected', `unexpected answer ${status} from Discord`, discordError, now, { ...attempt, outcome: 'unexpected', error: discordError });
  }

  private retryOrDeadLetter(batch: ClaimedDelivery[], now: number, attempt: Parameters<Outbox['release']>[1]['attempt'] & {}, error: string): void {
    const { maxAttempts, maxAgeMs, retryBaseMs } = this.deps.config;
    let recorded = false;
    for (const d of batch) {
      const att = recorded ? undefined : attempt;
      recorded = true;
      if (d.attempts + 1 >= maxAttempts || now - d.createdAt >= maxAgeMs) {
        this.deadLetter([d.id], 'exhausted', `gave up after ${d.attempts + 1} attempts: ${error}`, null, now, att);
        continue;
      }
      // Exponential backoff with full jitter around the nominal delay, so a recovering Discord is not stampeded.
      const nominal = Math.min(retryBaseMs * 2 ** d.attempts, MAX_BACKOFF_MS);
      const delay = Math.round(nominal * (0.5 + Math.random()));
      this.deps.outbox.release([d.id], { availableAt: now + delay, countAttempt: true, error, attempt: att });
      this.schedule(now + delay);
    }
  }

  /** `kind` labels the metric (rejected, exhausted, unexpected); `reason` is the sentence a person reads. */
  private deadLetter(ids: number[], kind: string, reason: string, discordError: string | null, now: number, attempt?: Parameters<Outbox['deadLetter']>[4]): void {
    this.deps.outbox.deadLetter(ids, reason, discordError, now, attempt);
    this.backlog = Math.max(0, this.backlog - ids.length);
    this.deps.metrics.deadLetters.inc({ reason: kind }, ids.length);
    this.deps.log.error({ channelId: this.channelId, deliveries: ids, reason }, 'deliveries dead-lettered');
  }

  // -------------------------------------------------------------------------------------------
  // Edits and deletes of messages already sent (message_ops)

  /**
   * Starts one edit or delete if one is ready and its webhook may send now; false when none can go
   * (a timer is set for the earliest moment one could). Edits go through the webhook that posted the
   * message, within that webhook's own bucket; they take no slot of the channel's create cap.
   */
  private sendOp(): boolean {
    const now = Date.now();
    if (now < this.opsCheckAt) {
      // A timer can fire a millisecond before Date.now() reaches its time: keep one set, or the lane stalls.
      if (this.opsCheckAt !== Infinity) this.schedule(this.opsCheckAt);
      return false;
    }
    const { ops } = this.deps;
    const ready = ops.ready(this.channelId, now, OP_SCAN);
    if (ready.length === 0) {
      const next = ops.nextAvailableAt(this.channelId);
      // Leased ones are not counted: their settling calls `opsChanged`.
      this.opsCheckAt = next ?? Infinity;
      if (next !== null) this.schedule(next);
      return false;
    }
    let wakeAt = Infinity;
    for (const op of ready) {
      if (op.via === 'bot') {
        if (this.botBusy) continue;
        this.startBotOp(op, now);
        return true;
      }
      if (!op.webhook || op.webhook.gone) {
        // Known dead: no request to a deleted webhook (Discord restricts clients that hammer them).
        this.fallback(op, now, `webhook ${op.webhook?.id ?? '(deleted from Herald)'} that posted message ${op.discordMessageId} no longer exists`);
        return true;
      }
      const slot = this.slotFor(op.webhook.id);
      if (slot.busy) continue; // its request in flight wakes the lane when done
      // Like a P2/P3 send, an edit leaves the bucket's last request of the window to a page.
      if (!slot.bucket.canSend(now, true)) {
        wakeAt = Math.min(wakeAt, slot.bucket.nextSendAt(now, true));
        continue;
      }
      this.startWebhookOp(op, op.webhook, slot, now);
      return true;
    }
    if (wakeAt < Infinity) this.schedule(Math.max(wakeAt, now + 1));
    return false;
  }

  /** A message operation was queued or changed state: look at the queue again on the next pump. */
  opsChanged(): void {
    this.opsCheckAt = 0;
  }

  private slotFor(webhookId: number): WebhookSlot {
    const member = this.pool.get(webhookId);
    if (member) return member;
    let slot = this.outOfPool.get(webhookId);
    if (!slot) {
      slot = { bucket: new WebhookBucket(), busy: false };
      this.outOfPool.set(webhookId, slot);
    }
    return slot;
  }

  /** The message as it should look now: its alerts' current state; undefined when it should be deleted. */
  private renderEdit(alerts: StatefulAlert[], owner: 'app' | 'external'): Record<string, unknown> | undefined {
    const visible = alerts.filter((a) => !(a.retractedAt && a.retractMode === 'delete'));
    if (visible.length === 0) return undefined;
    const username = this.deps.config.username;
    // Only a message that held one alert had (and may have) buttons.
    const message = alerts.length === 1 ? renderAlertCard(visible[0]!, { username, buttons: owner === 'app' }) : renderMessage(visible.slice(0, 10), { username });
    const { embeds, allowed_mentions, components } = message;
    return { embeds, allowed_mentions, ...(components ? { components } : {}) };
  }

  private startWebhookOp(op: ReadyOp, webhook: NonNullable<ReadyOp['webhook']>, slot: WebhookSlot, now: number): void {
    const { ops, transport, config } = this.deps;
    const body = this.renderEdit(ops.alertsOf(op.discordMessageId), webhook.owner);
    ops.lease(op.id, now + config.requestTimeoutMs + 30_000);
    slot.busy = true;
    slot.bucket.begin();
    const request = body === undefined ? transport.deleteMessage(webhook, op.discordMessageId) : transport.editMessage(webhook, op.discordMessageId, body);
    const done = request
      .then((result) => this.settleOp(op, webhook.id, slot, result, body === undefined ? 'deleted' : 'edited'))
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId, op: op.id }, 'settling a message edit failed; its lease is recovered at restart'))
      .finally(() => {
        slot.busy = false;
        this.opsInFlight.delete(done);
        this.opsChanged();
        this.pump();
      });
    this.opsInFlight.set(done, op.id);
  }

  /** Decides what Discord's answer to an edit or delete means for the operation and the webhook. */
  private settleOp(op: ReadyOp, webhookId: number, slot: WebhookSlot, result: TransportResult, done: 'edited' | 'deleted'): void {
    const now = Date.now();
    const { ops, store, log } = this.deps;
    const attempt: AttemptRecord = {
      deliveryIds: [op.deliveryId],
      webhookId,
      at: now,
      status: result.kind === 'network' ? null : result.status,
      latencyMs: result.latencyMs,
      outcome: done,
    };
    if (result.kind === 'ok') {
      slot.bucket.end(now, result.rate);
      ops.done(op.id, done, now, attempt);
      return;
    }
    if (result.kind === 'network') {
      slot.bucket.end(now, {});
      this.retryOp(op, now, { ...attempt, outcome: result.timedOut ? 'timeout' : 'network', error: result.error }, result.error);
      return;
    }
    slot.bucket.end(now, result.rate);
    const status = result.status;
    const discordError = scrubSecrets(result.body);
    if (status === 429) {
      const scope = result.rate.scope ?? 'user';
      const waitMs = result.rate.retryAfterMs ?? 1000;
      this.deps.metrics.rateLimited.inc({ scope });
      // The bucket now waits as told; the operation itself is not at fault.
      ops.retry(op.id, { availableAt: now + waitMs, countAttempt: false, attempt: { ...attempt, outcome: 'rate_limited', rateLimitScope: scope } });
      this.schedule(now + waitMs);
      return;
    }
    const code = discordErrorCode(result.body);
    if (status === 404 && code === DISCORD_ERROR.unknownMessage) {
      // Someone deleted the message already: nothing left to edit.
      ops.done(op.id, 'unknown_message', now, { ...attempt, outcome: 'unknown_message', error: discordError });
      return;
    }
    if (status === 404 || status === 401 || status === 403) {
      const reason = `Discord answered ${status} for webhook ${webhookId}: ${discordError.slice(0, 200)}`;
      store.quarantine(webhookId, this.channelId, reason, now, status !== 403);
      this.pool.remove(webhookId);
      log.error({ channelId: this.channelId, webhookId, status }, 'webhook gone while editing a message; falling back to the bot');
      this.fallback(op, now, reason, { ...attempt, outcome: 'webhook_gone', error: discordError });
      return;
    }
    if (status >= 500) {
      this.retryOp(op, now, { ...attempt, outcome: 'server_error', error: discordError }, `Discord answered ${status}`);
      return;
    }
    this.deadOp(op, `Discord refused to ${done === 'deleted' ? 'delete' : 'edit'} message ${op.discordMessageId} (${status})`, discordError, now, {
      ...attempt,
      outcome: 'rejected',
      error: discordError,
    });
  }

  /**
   * The webhook that posted the message is gone, so nothing can edit it: the bot deletes it (and the
   * card is posted again, as a new delivery, unless its alerts were retracted). Without a bot, a dead letter.
   */
  private fallback(op: ReadyOp, now: number, reason: string, attempt?: AttemptRecord): void {
    if (this.deps.bot) {
      this.deps.ops.toBot(op.id, now, reason, attempt);
      return;
    }
    this.deadOp(op, `${reason}; no bot is configured (DISCORD_TOKEN), so Herald cannot delete or repost the message`, null, now, attempt);
  }

  private startBotOp(op: ReadyOp, now: number): void {
    const { ops, bot, config } = this.deps;
    if (!bot) {
      // Queued while a bot was configured, and there is none now.
      this.deadOp(op, `webhook of message ${op.discordMessageId} is gone and no bot is configured (DISCORD_TOKEN) to delete or repost it`, null, now);
      return;
    }
    ops.lease(op.id, now + config.requestTimeoutMs + 30_000);
    this.botBusy = true;
    const started = performance.now();
    const attempt = (outcome: string, status: number | null, error?: string): AttemptRecord => ({
      deliveryIds: [op.deliveryId],
      webhookId: null,
      at: Date.now(),
      status,
      latencyMs: Math.round(performance.now() - started),
      outcome,
      error: error ?? null,
    });
    const done = bot
      .deleteChannelMessage(op.discordChannelId, op.discordMessageId)
      .then(
        () => this.afterBotDelete(op, attempt('deleted_by_bot', 204)),
        (err: unknown) => {
          const e = err instanceof BotRestError ? err : new BotRestError(502, String(err), null, null, null);
          const t = Date.now();
          if (e.discordCode === DISCORD_ERROR.unknownMessage || e.discordStatus === 404) {
            ops.done(op.id, 'unknown_message', t, attempt('unknown_message', 404, e.message));
          } else if (e.rateLimited) {
            ops.retry(op.id, { availableAt: t + e.retryAfterMs!, countAttempt: false, attempt: attempt('rate_limited', 429) });
            this.schedule(t + e.retryAfterMs!);
          } else {
            this.retryOp(op, t, attempt('bot_failed', e.discordStatus, e.message), e.message);
          }
        },
      )
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId, op: op.id }, 'settling a bot delete failed; its lease is recovered at restart'))
      .finally(() => {
        this.botBusy = false;
        this.opsInFlight.delete(done);
        this.opsChanged();
        this.pump();
      });
    this.opsInFlight.set(done, op.id);
  }

  /** The bot deleted the message: its alerts that are still shown get posted again through the current pool. */
  private afterBotDelete(op: ReadyOp, attempt: AttemptRecord): void {
    const now = Date.now();
    const { ops, outbox } = this.deps;
    const again = ops.alertsOf(op.discordMessageId).filter((a) => !a.retractedAt);
    ops.done(op.id, again.length ? 'reposted' : 'deleted_by_bot', now, attempt, () => {
      for (const a of again) outbox.enqueue(a.id, this.channelId, severityRank(a.severity), now);
    });
    if (again.length) {
      this.backlog += again.length;
      this.schedule(now);
    }
  }

  private retryOp(op: ReadyOp, now: number, attempt: AttemptRecord, error: string): void {
    const { maxAttempts, maxAgeMs, retryBaseMs } = this.deps.config;
    if (op.attempts + 1 >= maxAttempts || now - op.createdAt >= maxAgeMs) {
      this.deadOp(op, `gave up on ${op.via === 'bot' ? 'deleting' : 'editing'} message ${op.discordMessageId} after ${op.attempts + 1} attempts: ${error}`, null, now, attempt);
      return;
    }
    const nominal = Math.min(retryBaseMs * 2 ** op.attempts, MAX_BACKOFF_MS);
    const delay = Math.round(nominal * (0.5 + Math.random()));
    this.deps.ops.retry(op.id, { availableAt: now + delay, countAttempt: true, error, attempt });
    this.schedule(now + delay);
  }

  private deadOp(op: ReadyOp, reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): void {
    this.deps.ops.dead(op.id, op.deliveryId, reason, discordError, now, attempt);
    this.deps.metrics.deadLetters.inc({ reason: 'message_op' });
    this.deps.log.error({ channelId: this.channelId, op: op.id, reason }, 'message edit dead-lettered');
  }

  private noteEmptyPool(now: number): void {
    if (this.warnedEmpty) return;
    this.warnedEmpty = true;
    const msg = `channel ${this.channelId} has alerts waiting but no healthy webhook; add one to its pool`;
    this.deps.store.recordEvent('channel_without_webhook', msg, now, { channelId: this.channelId });
    this.deps.log.error({ channelId: this.channelId }, msg);
  }

  /** Stops sending; waits (bounded) for requests in flight, whose outcome is then recorded as usual. */
  async stop(deadline: number): Promise<number[]> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const pending = [...this.inFlight.keys(), ...this.opsInFlight.keys()];
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())).unref());
    await Promise.race([Promise.allSettled(pending), timeout]);
    return [...this.inFlight.values()].flat();
  }
}
