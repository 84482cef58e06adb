import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BotRest } from '../discord/bot-rest.js';
import { scrubSecrets } from '../log.js';
import type { Metrics } from '../metrics.js';
import { CircuitBreaker } from './breaker.js';
import { ChannelBudget } from './budget.js';
import { MessageOpRunner } from './message-op-runner.js';
import type { MessageOps } from './message-ops.js';
import type { ClaimedDelivery, Outbox } from './outbox.js';
import { type PoolMember, WebhookPool } from './pool.js';
import { cardButtons, packMessage, type WebhookMessage } from './render.js';
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

  constructor(
    readonly channelId: number,
    private readonly deps: LaneDeps,
  ) {
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
        breaker: new CircuitBreaker(config.breakerThreshold, config.breakerCooldownMs, w.breaker, (snap) => store.saveBreaker(w.id, snap)),
      })),
    );
    if (this.pool.size > 0) this.warnedEmpty = false;
  }

  /** Run `pump` soon (coalesced), or at `at` if that is earlier than the timer already set. */
  schedule(at = Date.now()): void {
    if (!this.stopped) this.timer.schedule(at);
  }

  pump(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    try {
      // Edits first: they are cheap (no channel-cap slot) and a person is waiting to see their action.
      while (this.ops.sendOne() || this.sendOne());
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
      outbox.markSent(ids, member.id, result.messageId, now, attempt);
      // An action on an alert while its message was on the way: the message shows the old state, so edit it.
      const shown = batch.flatMap((d) => (d.alert ? [{ id: d.alert.id, changedAt: d.alert.changedAt }] : []));
      if (shown.length > 0 && this.deps.ops.syncIfChanged(shown, this.channelId, member.id, result.messageId, ids[0]!, now)) {
        this.opsChanged();
        this.schedule(now);
      }
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
      const delay = retryDelayMs(d.attempts, retryBaseMs);
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
    this.timer.clear();
    const pending = [...this.inFlight.keys(), ...this.ops.pending()];
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now())).unref());
    await Promise.race([Promise.allSettled(pending), timeout]);
    return [...this.inFlight.values()].flat();
  }
}
