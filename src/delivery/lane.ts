import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BotRest } from '../discord/bot-rest.js';
import { scrubSecrets } from '../log.js';
import type { Guard } from '../guard.js';
import type { Metrics } from '../metrics.js';
import { CircuitBreaker } from './breaker.js';
import { ChannelBudget } from './budget.js';
import { MessageOpRunner } from './message-op-runner.js';
import type { MessageOps } from './message-ops.js';
import type { Outcome, OutcomeRecorder } from './outcome-recorder.js';
import type { ClaimedDelivery, Outbox } from './outbox.js';
import { type PoolMember, WebhookPool } from './pool.js';
import { cardButtons } from '../cards/buttons.js';
import { packMessage } from '../cards/pack.js';
import type { WebhookMessage } from '../discord/message.js';
import { retryDelayMs } from './retry.js';
import { WakeTimer } from './wake-timer.js';
import { withMention } from '../escalation/mention.js';
import type { DiscordTransport, TransportResult } from './transport.js';
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
  /** Guards the lane's timer work: a database error is logged and retried with backoff, never thrown to the process. */
  guard: Guard;
  /** Every write that records the outcome of a request already made goes through it (retried until recorded). */
  recorder: OutcomeRecorder;
}

/** Render caution levels (deliveries.render_level). */
const PACKABLE = 0;
const SOLO = 1;
const DEGRADED = 2;

const MAX_PACK = 10;

/**
 * One channel's delivery lane: its webhook pool, its share of Discord's budget and its part of the
 * queue. `pump` sends while budgets allow and sets one timer for the moment they will allow again.
 * Every outcome of a post is decided here, in `settle`; edits and deletes of posted messages are its
 * MessageOpRunner's, which shares the pool's buckets and this timer.
 */
export class Lane {
  readonly pool = new WebhookPool();
  readonly budget: ChannelBudget;
  /** Approximate backlog (pending + in flight), to decide when to pack several alerts per message. */
  backlog = 0;
  private readonly timer = new WakeTimer(() => this.pump());
  private pumping = false;
  private stopped = false;
  private readonly inFlight = new Map<Promise<void>, number[]>();
  /** Edits and deletes of messages already posted: the lane's other half, sharing its pool and timer. */
  private readonly ops: MessageOpRunner;
  private warnedEmpty = false;
  private readonly pumpGuarded: () => void;

  constructor(
    readonly channelId: number,
    private readonly deps: LaneDeps,
  ) {
    this.pumpGuarded = deps.guard.wrap(`delivery lane of channel ${channelId}`, () => this.pumpOnce(), { retry: (ms) => this.schedule(Date.now() + ms) });
    const c = deps.config;
    this.budget = new ChannelBudget(c.channelCap, c.channelWindowMs, c.priorityReserve);
    this.budget.seed(deps.outbox.recentMessageTimes(channelId, Date.now() - c.channelWindowMs));
    this.reloadPool();
    this.ops = new MessageOpRunner(channelId, deps, {
      pool: this.pool,
      schedule: (at) => this.schedule(at),
      pump: () => this.pump(),
      enqueued: (count) => {
        this.backlog += count;
        this.schedule();
      },
    });
  }

  /** A message operation (edit, delete) was queued or changed state for this channel. */
  opsChanged(): void {
    this.ops.changed();
  }

  reloadPool(): void {
    const { store, config } = this.deps;
    this.pool.reset(
      store.activeFor(this.channelId).map((w) => ({
        id: w.id,
        discordWebhookId: w.discordWebhookId,
        token: w.token,
        owner: w.owner,
        breaker: new CircuitBreaker(config.breakerThreshold, config.breakerCooldownMs, w.breaker, (snap) =>
          this.record({ what: `saving the breaker of webhook ${w.id}`, key: `breaker:${w.id}`, write: () => store.saveBreaker(w.id, snap) }),
        ),
      })),
    );
    if (this.pool.size > 0) this.warnedEmpty = false;
  }

  /** Run `pump` soon (coalesced), or at `at` if that is earlier than the timer already set. */
  schedule(at = Date.now()): void {
    if (!this.stopped) this.timer.schedule(at);
  }

  /** Sends what budgets allow now. Never throws: a database error is logged and the lane tries again with backoff. */
  pump(): void {
    this.pumpGuarded();
  }

  /** Deliveries and message operations this lane has requests in flight for (their leases are live). */
  held(): { deliveries: number[]; ops: number[] } {
    return { deliveries: [...this.inFlight.values()].flat(), ops: this.ops.inFlightIds() };
  }

  private pumpOnce(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    try {
      // Edits first: they are cheap (no channel-cap slot) and a person is waiting to see their action.
      while (this.ops.sendOne() || this.sendOne());
    } finally {
      this.pumping = false;
    }
  }

  private record<T>(outcome: Outcome<T>): void {
    this.deps.recorder.record(outcome);
  }

  /** Starts one send if budgets and the queue allow; false when the lane must wait (a timer is set). */
  private sendOne(): boolean {
    const now = Date.now();
    const { outbox, config } = this.deps;
    // Outcomes of earlier sends still wait to be recorded (the database cannot write): no new post until
    // they are, or every send made meanwhile would be posted again after a restart.
    if (this.deps.recorder.pending > 0) {
      this.schedule(now + 250);
      return false;
    }
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
    if (leftover.length) this.release(leftover, { availableAt: now, countAttempt: false });

    member.busy = true;
    member.bucket.begin();
    member.breaker.begin();
    this.budget.begin(now, batch.some((d) => d.priority > 1));
    const ids = batch.map((d) => d.id);
    const done = this.deps.transport
      .executeWebhook(member, message)
      .then((result) => this.settle(member, batch, result))
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId }, 'settling a send failed; its leases are reclaimed when they expire'))
      .finally(() => {
        member.busy = false;
        this.inFlight.delete(done);
        this.pump();
      });
    this.inFlight.set(done, ids);
    return true;
  }

  /**
   * Packs what it can; a message holding one alert, sent by an application-owned webhook, gets the card's
   * buttons. A message rendered in advance (a digest) and an escalation step's mention go alone.
   */
  private render(claimed: ClaimedDelivery[], owner: 'app' | 'external'): { batch: ClaimedDelivery[]; message: WebhookMessage } {
    const first = claimed[0]!;
    const username = this.deps.config.username;
    if (first.message || !first.alert) return { batch: [first], message: first.message ?? { embeds: [], allowed_mentions: { parse: [] } } };
    const withButtons = (batch: ClaimedDelivery[], message: WebhookMessage) => {
      if (owner === 'app' && batch.length === 1) message.components = cardButtons(batch[0]!.alert!);
      if (batch.length === 1 && batch[0]!.mention) withMention(message, batch[0]!.mention);
      return { batch, message };
    };
    if (first.renderLevel !== PACKABLE || first.mention) {
      const { message } = packMessage([first.alert], { username, degraded: first.renderLevel === DEGRADED });
      return withButtons([first], message);
    }
    const packable: (ClaimedDelivery & { alert: NonNullable<ClaimedDelivery['alert']> })[] = [];
    for (const d of claimed) {
      if (d.renderLevel !== PACKABLE || d.mention || !d.alert) break;
      packable.push(d as (typeof packable)[number]);
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
      const messageId = result.messageId;
      // An action on an alert while its message was on the way: the message shows the old state, so edit it.
      // Checked in the transaction that records the send: an ack made while the record waited is seen too.
      const shown = batch.flatMap((d) => (d.alert ? [{ id: d.alert.id, changedAt: d.alert.changedAt }] : []));
      this.record({
        what: `recording message ${messageId} of deliveries ${ids.join(', ')}`,
        deliveryIds: ids,
        write: () => {
          outbox.markSent(ids, member.id, messageId, now, attempt);
          return shown.length > 0 && this.deps.ops.syncIfChanged(shown, this.channelId, member.id, messageId, ids[0]!, Date.now());
        },
        then: (editQueued) => {
          if (!editQueued) return;
          this.opsChanged();
          this.schedule();
        },
      });
      this.backlog = Math.max(0, this.backlog - ids.length);
      metrics.messages.inc();
      metrics.delivered.inc(ids.length);
      for (const d of batch) if (d.alert) metrics.endToEnd.observe((now - d.alert.receivedAt) / 1000);
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
      this.release(ids, { availableAt: now, countAttempt: false, attempt: { ...attempt, outcome: 'rate_limited', rateLimitScope: scope } });
      return;
    }

    this.budget.end(now, status >= 500);
    if (status === 401 || status === 403 || status === 404) {
      member.breaker.neutral();
      const reason = `Discord answered ${status}: ${discordError.slice(0, 200)}`;
      this.record({ what: `quarantining webhook ${member.id}`, write: () => store.quarantine(member.id, this.channelId, reason, now, status !== 403) });
      this.pool.remove(member.id);
      metrics.failed.inc({ reason: 'webhook_gone' });
      wlog.error({ status }, 'webhook rejected by Discord; quarantined and taken out of the pool');
      this.release(ids, { availableAt: now, countAttempt: false, attempt: { ...attempt, outcome: 'webhook_gone', error: discordError } });
      return;
    }

    if (status === 400 || status === 413) {
      member.breaker.neutral();
      metrics.failed.inc({ reason: 'rejected' });
      const att = { ...attempt, outcome: 'rejected', error: discordError };
      if (batch.length > 1) {
        // Which alert Discord disliked is unknown: send each alone from now on.
        this.release(ids, { availableAt: now, countAttempt: true, renderLevel: SOLO, error: discordError, attempt: att });
      } else if (batch[0]!.renderLevel < DEGRADED) {
        this.release(ids, { availableAt: now, countAttempt: true, renderLevel: DEGRADED, error: discordError, attempt: att });
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
      const delay = retryDelayMs(d.attempts, retryBaseMs);
      this.release([d.id], { availableAt: now + delay, countAttempt: true, error, attempt: att });
      this.schedule(now + delay);
    }
  }

  /** Puts deliveries back in the queue, recorded even if the database is busy now. */
  private release(ids: number[], opts: Parameters<Outbox['release']>[1]): void {
    this.record({ what: `releasing deliveries ${ids.join(', ')}`, deliveryIds: ids, write: () => this.deps.outbox.release(ids, opts) });
  }

  /** `kind` labels the metric (rejected, exhausted, unexpected); `reason` is the sentence a person reads. */
  private deadLetter(ids: number[], kind: string, reason: string, discordError: string | null, now: number, attempt?: Parameters<Outbox['deadLetter']>[4]): void {
    this.record({ what: `dead-lettering deliveries ${ids.join(', ')}`, deliveryIds: ids, write: () => this.deps.outbox.deadLetter(ids, reason, discordError, now, attempt) });
    this.backlog = Math.max(0, this.backlog - ids.length);
    this.deps.metrics.deadLetters.inc({ reason: kind }, ids.length);
    this.deps.log.error({ channelId: this.channelId, deliveries: ids, reason }, 'deliveries dead-lettered');
  }

  private noteEmptyPool(now: number): void {
    if (this.warnedEmpty) return;
    const msg = `channel ${this.channelId} has alerts waiting but no healthy webhook; add one to its pool`;
    this.deps.store.recordEvent('channel_without_webhook', msg, now, { channelId: this.channelId });
    this.warnedEmpty = true;
    this.deps.log.error({ channelId: this.channelId }, msg);
  }

  /** Stops sending; waits (bounded) for requests in flight, whose outcome is then recorded as usual. */
  async stop(deadline: number): Promise<number[]> {
    this.stopped = true;
    this.timer.clear();
    const pending = [...this.inFlight.keys(), ...this.ops.pending()];
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())).unref());
    await Promise.race([Promise.allSettled(pending), timeout]);
    return [...this.inFlight.values()].flat();
  }
}
