import { BotRestError } from '../discord/bot-rest.js';
import { DISCORD_ERROR } from '../discord/limits.js';
import { classifyResponse } from '../discord/responses.js';
import { severityRank } from '../domain/alert.js';
import type { AttemptRecord } from '../store/delivery-rows.js';
import { WebhookBucket } from './budget.js';
import { retryOrGiveUp, settleEdit, type OpAction } from './edit-outcome.js';
import type { LaneDeps, LaneHooks } from './lane-deps.js';
import type { ReadyOp } from '../store/message-ops.js';
import { renderAlertCard } from '../cards/alert-card.js';
import { renderMessage } from '../cards/pack.js';
import { renderCompactEdit } from '../cards/storm.js';
import { renderIncidentCard, renderIncidentPage } from '../cards/incident-card.js';
import { withMention } from '../discord/mention.js';
import { pageReason } from './post-message.js';

/** The allowed_mentions a page was posted with (exactly its role or user). */
const mentionsOf = (mention: string) => withMention({ allowed_mentions: { parse: [] } }, mention).allowed_mentions;
import { incidentThreadName, threadName } from '../cards/thread-note.js';
import type { StatefulAlert } from '../domain/alert-state.js';
import type { TransportResult } from './transport.js';

/** How many ready message operations one pass looks at to find one whose webhook may send now. */
const OP_SCAN = 20;

/** What an edit needs of a webhook: its own bucket and the one-request-at-a-time flag (pool members have both). */
interface WebhookSlot {
  bucket: WebhookBucket;
  busy: boolean;
}

/**
 * The half of a channel's lane that edits and deletes messages already posted (message_ops rows): acks,
 * resolves and retractions. Edits go through the webhook that posted the message (only it may edit),
 * within that webhook's own bucket; when the webhook is gone, the bot deletes the message and the card
 * is posted again. The lane calls `sendOne` before each new post: a person is waiting to see their action.
 */
export class MessageOpRunner {
  /** Edits and deletes in flight (operation ids): at shutdown they stay leased and run again at restart. */
  private readonly inFlight = new Map<Promise<void>, number>();
  /** Buckets of webhooks out of the pool (retired, quarantined) that still edit their own messages. */
  private readonly outOfPool = new Map<number, WebhookSlot>();
  private botBusy = false;
  /**
   * When to look at message_ops again: 0 now, Infinity when none is pending (a new one comes with
   * `changed`). Saves the delivery hot path a query per send on channels nobody acts on.
   */
  private checkAt = 0;

  constructor(
    private readonly channelId: number,
    private readonly deps: LaneDeps,
    private readonly lane: LaneHooks,
  ) {}

  /** Requests in flight, for a bounded wait at shutdown. */
  pending(): Promise<void>[] {
    return [...this.inFlight.keys()];
  }

  /** Operations with a request in flight (their leases are live). */
  inFlightIds(): number[] {
    return [...this.inFlight.values()];
  }

  /**
   * Starts one edit or delete if one is ready and its webhook may send now; false when none can go
   * (a timer is set for the earliest moment one could). Edits go through the webhook that posted the
   * message, within that webhook's own bucket; they take no slot of the channel's create cap. Answers at once
   * (a boolean) when it need not look at the queue; a promise when it reads it.
   */
  sendOne(): boolean | Promise<boolean> {
    const now = Date.now();
    // Outcomes wait to be recorded (the database cannot write): nothing new until they are. This also
    // keeps an operation that needs no request (a dead webhook's, handed to the bot) from being taken twice.
    if (this.deps.recorder.pending > 0) {
      this.lane.schedule(now + 250);
      return false;
    }
    if (now < this.checkAt) {
      // A timer can fire a millisecond before Date.now() reaches its time: keep one set, or the lane stalls.
      if (this.checkAt !== Infinity) this.lane.schedule(this.checkAt);
      return false;
    }
    return this.scan(now);
  }

  /**
   * `sendOne`'s look at the queue. The lane runs one pump at a time, so nothing else starts a request meanwhile;
   * requests settling during its awaits only free webhooks (and a webhook out of the pool keeps its slot here).
   */
  private async scan(now: number): Promise<boolean> {
    const { ops } = this.deps;
    const ready = await ops.ready(this.channelId, now, OP_SCAN);
    if (ready.length === 0) {
      const next = await ops.nextAvailableAt(this.channelId);
      // Leased ones are not counted: their settling calls `changed`.
      this.checkAt = next ?? Infinity;
      if (next !== null) this.lane.schedule(next);
      return false;
    }
    let wakeAt = Infinity;
    for (const op of ready) {
      if (op.via === 'bot') {
        if (this.botBusy) continue;
        await this.startBotOp(op, now);
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
      await this.startWebhookOp(op, op.webhook, slot, now);
      return true;
    }
    if (wakeAt < Infinity) this.lane.schedule(Math.max(wakeAt, now + 1));
    return false;
  }

  /** A message operation was queued or changed state: look at the queue again on the next pump. */
  changed(): void {
    this.checkAt = 0;
  }

  private slotFor(webhookId: number): WebhookSlot {
    const member = this.lane.pool.get(webhookId);
    if (member) return member;
    let slot = this.outOfPool.get(webhookId);
    if (!slot) {
      slot = { bucket: new WebhookBucket(), busy: false };
      this.outOfPool.set(webhookId, slot);
    }
    return slot;
  }

  /** The message as it should look now: its alerts' current state; undefined when it should be deleted. */
  private async renderEdit(alerts: (StatefulAlert & { mention?: string | null })[], owner: 'app' | 'external', compact: boolean, forum: boolean, messageId: string): Promise<Record<string, unknown> | undefined> {
    if (compact) {
      // A storm message: its lines again, each as its alert is now (no buttons: it never had any).
      const lines = renderCompactEdit(alerts, this.deps.config.username);
      return lines && { embeds: lines.embeds, allowed_mentions: lines.allowed_mentions };
    }
    const visible = alerts.filter((a) => !(a.retractedAt && a.retractMode === 'delete'));
    if (visible.length === 0) return undefined;
    const username = this.deps.config.username;
    const incidentId = alerts[0]!.incidentId;
    const page = alerts.length === 1 ? alerts[0]!.mention : null;
    const incidents = this.deps.incidents;
    if (page && incidentId != null && incidents?.renderMembers) {
      // An incident's page (an escalation step's, a risen member's): rendered again as the page, the incident as it is now.
      const title = (await incidents.titles([incidentId])).get(incidentId) ?? `incident #${incidentId}`;
      const card = await this.deps.outbox.incidentCard(incidentId, this.channelId);
      const members = await incidents.renderMembers(incidentId);
      const mutedUntil = (incidents.mutedUntil && (await incidents.mutedUntil(incidentId, Date.now()))) ?? null;
      const { embeds, allowed_mentions, components } = renderIncidentPage({ id: incidentId, title }, members, {
        username,
        buttons: owner === 'app',
        thread: forum,
        mutedUntil,
        cardHere: card !== undefined && card.messageId !== messageId,
        reason: pageReason(page, alerts[0]!),
      });
      // The mention stays the one the page was posted with: an edit names nobody new.
      return { embeds, allowed_mentions: { ...allowed_mentions, ...mentionsOf(page) }, components: components ?? [] };
    }
    if (alerts.length > 1 && incidentId != null && this.deps.incidents && alerts.every((a) => a.incidentId === incidentId)) {
      // An incident's card (its members joined the message): rendered as the incident, with its buttons.
      const title = (await this.deps.incidents.titles([incidentId])).get(incidentId) ?? `incident #${incidentId}`;
      const mutedUntil = (this.deps.incidents.mutedUntil && (await this.deps.incidents.mutedUntil(incidentId, Date.now()))) ?? null;
      const { embeds, allowed_mentions, components } = renderIncidentCard({ id: incidentId, title }, alerts, { username, buttons: owner === 'app', thread: forum, mutedUntil });
      return { embeds, allowed_mentions, ...(components ? { components } : {}) };
    }
    // Only a message that held one alert had (and may have) buttons.
    const message = alerts.length === 1 ? renderAlertCard(visible[0]!, { username, buttons: owner === 'app' }) : renderMessage(visible.slice(0, 10), { username });
    const { embeds, allowed_mentions, components } = message;
    return { embeds, allowed_mentions, ...(components ? { components } : {}) };
  }

  private async startWebhookOp(op: ReadyOp, webhook: NonNullable<ReadyOp['webhook']>, slot: WebhookSlot, now: number): Promise<void> {
    const { ops, transport, config } = this.deps;
    const alerts = await ops.alertsOf(op.discordMessageId);
    const compact = await ops.isCompact(op.discordMessageId);
    const body = await this.renderEdit(alerts, webhook.owner, compact, op.channelKind === 'forum', op.discordMessageId);
    await ops.lease(op.id, now + config.requestTimeoutMs + 30_000);
    slot.busy = true;
    slot.bucket.begin();
    // A forum's card is the first message of its post: it is named with that thread (whose id is the message's).
    const thread = op.channelKind === 'forum' ? op.discordMessageId : undefined;
    const request = body === undefined ? transport.deleteMessage(webhook, op.discordMessageId, thread) : transport.editMessage(webhook, op.discordMessageId, body, thread);
    const done = request
      .then((result) => this.settleOp(op, webhook.id, slot, result, body === undefined ? 'deleted' : 'edited'))
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId, op: op.id }, 'settling a message edit failed; its lease is reclaimed when it expires'))
      .finally(() => {
        slot.busy = false;
        this.inFlight.delete(done);
        this.changed();
        this.lane.pump();
      });
    this.inFlight.set(done, op.id);
  }

  /** Acts on Discord's answer to an edit or delete: what it means is decided by `classifyResponse` and `settleEdit`. */
  private settleOp(op: ReadyOp, webhookId: number, slot: WebhookSlot, result: TransportResult, done: 'edited' | 'deleted'): void {
    const now = Date.now();
    const verdict = classifyResponse(result, done === 'deleted' ? 'delete' : 'edit');
    slot.bucket.end(now, verdict.rate);
    const { action, attempt: outcome } = settleEdit(verdict, op, webhookId, done, now, this.deps.config);
    const attempt: AttemptRecord = { deliveryIds: [op.deliveryId], webhookId, at: now, status: verdict.status, latencyMs: result.latencyMs, ...outcome };
    if (verdict.kind === 'retry-after') this.deps.metrics.rateLimited.inc({ scope: verdict.scope });
    if (action.do === 'webhook-gone') {
      this.deps.recorder.record({ what: `quarantining webhook ${webhookId}`, write: (tx) => tx.webhooks.quarantine(webhookId, this.channelId, action.reason, now, action.gone) });
      this.lane.pool.remove(webhookId);
      this.deps.log.error({ channelId: this.channelId, webhookId, status: verdict.status }, 'webhook gone while editing a message; falling back to the bot');
      this.fallback(op, now, action.reason, attempt);
      return;
    }
    this.apply(op, action, now, attempt);
  }

  /** Records a decided outcome of an operation: finished, queued again, or given up. */
  private apply(op: ReadyOp, action: Exclude<OpAction, { do: 'webhook-gone' }>, now: number, attempt: AttemptRecord): void {
    if (action.do === 'finish') this.finish(op, action.outcome, now, attempt);
    else if (action.do === 'retry') this.retryLater(op, { availableAt: action.availableAt, countAttempt: action.countAttempt, ...(action.error !== undefined ? { error: action.error } : {}), attempt });
    else this.deadOp(op, action.reason, action.discordError, now, attempt);
  }

  /**
   * The webhook that posted the message is gone, so nothing can edit it: the bot deletes it (and the
   * card is posted again, as a new delivery, unless its alerts were retracted). Without a bot, a dead letter.
   */
  private fallback(op: ReadyOp, now: number, reason: string, attempt?: AttemptRecord): void {
    if (this.deps.bot) {
      this.deps.recorder.record({ what: `handing message operation ${op.id} to the bot`, opIds: [op.id], write: (tx) => tx.messageOps.toBot(op.id, now, reason, attempt), then: () => this.changed() });
      return;
    }
    this.deadOp(op, `${reason}; no bot is configured (DISCORD_TOKEN), so Herald cannot delete or repost the message`, null, now, attempt);
  }

  private async startBotOp(op: ReadyOp, now: number): Promise<void> {
    const { bot } = this.deps;
    if (op.purpose === 'thread') return this.startThread(op, now);
    if (!bot) {
      // Queued while a bot was configured, and there is none now.
      this.deadOp(op, `webhook of message ${op.discordMessageId} is gone and no bot is configured (DISCORD_TOKEN) to delete or repost it`, null, now);
      return;
    }
    await this.runBotCall(op, now, 'settling a bot delete failed; its lease is reclaimed when it expires', (attempt) =>
      bot.deleteChannelMessage(op.channelKind === 'forum' ? op.discordMessageId : op.discordChannelId, op.discordMessageId).then(
        () => this.afterBotDelete(op, attempt('deleted_by_bot', 204)),
        (err: unknown) => {
          const e = asBotRestError(err);
          const t = Date.now();
          if (e.discordCode === DISCORD_ERROR.unknownMessage || e.discordStatus === 404) {
            this.finish(op, 'unknown_message', t, attempt('unknown_message', 404, e.message));
          } else if (e.rateLimited) {
            this.retryLater(op, { availableAt: t + e.retryAfterMs!, countAttempt: false, attempt: attempt('rate_limited', 429) });
          } else {
            this.retryOp(op, t, attempt('bot_failed', e.discordStatus, e.message), e.message);
          }
        },
      ),
    );
  }

  /**
   * One bot call for an operation: leased for the request's time, the bot marked busy, `call` given a maker
   * of this request's attempt records (latency counted from here), and afterwards the lane pumped again.
   */
  private async runBotCall(op: ReadyOp, now: number, settleFailed: string, call: (attempt: (outcome: string, status: number | null, error?: string) => AttemptRecord) => Promise<unknown>): Promise<void> {
    await this.deps.ops.lease(op.id, now + this.deps.config.requestTimeoutMs + 30_000);
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
    const done: Promise<void> = call(attempt)
      .then(() => undefined, (err: unknown) => this.deps.log.error({ err, channelId: this.channelId, op: op.id }, settleFailed))
      .finally(() => {
        this.botBusy = false;
        this.inFlight.delete(done);
        this.changed();
        this.lane.pump();
      });
    this.inFlight.set(done, op.id);
  }

  /**
   * The bot starts the card's thread (a threads route in a text channel). Discord's "already has a thread"
   * (160004, a retry after a lost answer) is success: that thread is the card's. Without a bot (the token was
   * removed since), the card simply has no thread: its follow-ups stay card edits, logged once here.
   */
  private async startThread(op: ReadyOp, now: number): Promise<void> {
    const { ops, bot } = this.deps;
    if (!bot) {
      this.deps.log.warn({ channelId: this.channelId, messageId: op.discordMessageId }, 'a threads route needs the bot (DISCORD_TOKEN) to start threads; this card gets none');
      this.finish(op, 'no_bot', now, { deliveryIds: [op.deliveryId], webhookId: null, at: now, status: null, latencyMs: 0, outcome: 'no_bot' });
      return;
    }
    const shown = await ops.alertsOf(op.discordMessageId);
    const alert = shown[0];
    // An incident's card (its members share the message): its thread is named as the incident is.
    const incidentId = alert?.incidentId;
    const incidents = this.deps.incidents;
    const incidentTitle = shown.length > 1 && incidentId != null && incidents && shown.every((a) => a.incidentId === incidentId) ? (await incidents.titles([incidentId])).get(incidentId) : undefined;
    if (!alert) return this.finish(op, 'no_card', now, { deliveryIds: [op.deliveryId], webhookId: null, at: now, status: null, latencyMs: 0, outcome: 'no_card' });
    await this.runBotCall(op, now, 'settling a thread start failed; its lease is reclaimed when it expires', (attempt) => {
      const started = (threadId: string, a: AttemptRecord) =>
        this.deps.recorder.record({
          what: `recording thread ${threadId} of message ${op.discordMessageId}`,
          opIds: [op.id],
          // One transaction: the operation done, then the card's thread (what `done`'s `also` did).
          write: async (tx) => {
            await tx.messageOps.done(op.id, 'thread_started', Date.now(), a);
            await tx.deliveries.setThread(op.discordMessageId, threadId);
          },
        });
      const name = incidentTitle !== undefined ? incidentThreadName(incidentTitle, incidentId!) : threadName(alert);
      return bot.startThreadFromMessage(op.discordChannelId, op.discordMessageId, name).then(
        (threadId) => started(threadId, attempt('thread_started', 201)),
        (err: unknown) => {
          const e = asBotRestError(err);
          const t = Date.now();
          if (e.discordCode === DISCORD_ERROR.threadAlreadyCreated) started(op.discordMessageId, attempt('thread_started', e.discordStatus, e.message));
          else if (e.rateLimited) this.retryLater(op, { availableAt: t + e.retryAfterMs!, countAttempt: false, attempt: attempt('rate_limited', 429) });
          else if (e.discordStatus !== null && e.discordStatus >= 400 && e.discordStatus < 500) {
            // Refused for good (no permission, not a text channel, the message deleted): the card keeps no thread.
            this.deps.log.warn({ channelId: this.channelId, messageId: op.discordMessageId, discordCode: e.discordCode }, 'Discord refused to start a thread from a card; its follow-ups stay card edits');
            this.finish(op, 'thread_refused', t, attempt('thread_refused', e.discordStatus, e.message));
          } else this.retryOp(op, t, attempt('bot_failed', e.discordStatus, e.message), e.message);
        },
      );
    });
  }

  /** The bot deleted the message: its alerts that are still shown get posted again through the current pool. */
  private afterBotDelete(op: ReadyOp, attempt: AttemptRecord): void {
    const now = Date.now();
    this.deps.recorder.record({
      what: `recording the bot's delete of message ${op.discordMessageId}`,
      opIds: [op.id],
      // Read in the transaction that records the delete, so a retried record reposts what is shown then.
      write: async (tx) => {
        const again = (await tx.messageOps.alertsOf(op.discordMessageId)).filter((a) => !a.retractedAt);
        // One transaction: the operation done, then the repost's new deliveries (what `done`'s `also` did).
        await tx.messageOps.done(op.id, again.length ? 'reposted' : 'deleted_by_bot', now, attempt);
        for (const a of again) await tx.deliveries.enqueue(a.id, this.channelId, severityRank(a.severity), now);
        return again.length;
      },
      then: (reposted) => {
        this.changed();
        if (reposted) this.lane.enqueued(reposted);
      },
    });
  }

  /** The operation is finished: recorded even if the database is busy now (the edit is never made twice). */
  private finish(op: ReadyOp, outcome: string, now: number, attempt: AttemptRecord): void {
    this.deps.recorder.record({ what: `recording the ${outcome} of message ${op.discordMessageId}`, opIds: [op.id], write: (tx) => tx.messageOps.done(op.id, outcome, now, attempt) });
  }

  /** Back to the queue for another try at `availableAt`. */
  private retryLater(op: ReadyOp, opts: Parameters<LaneDeps['ops']['retry']>[1]): void {
    this.deps.recorder.record({
      what: `queueing message operation ${op.id} again`,
      opIds: [op.id],
      write: (tx) => tx.messageOps.retry(op.id, opts),
      then: () => {
        this.changed();
        this.lane.schedule(opts.availableAt);
      },
    });
  }

  private retryOp(op: ReadyOp, now: number, attempt: AttemptRecord, error: string): void {
    this.apply(op, retryOrGiveUp(op, now, error, this.deps.config), now, attempt);
  }

  private deadOp(op: ReadyOp, reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): void {
    this.deps.recorder.record({ what: `dead-lettering message operation ${op.id}`, opIds: [op.id], write: (tx) => tx.messageOps.dead(op.id, op.deliveryId, reason, discordError, now, attempt) });
    this.deps.metrics.deadLetters.inc({ reason: 'message_op' });
    this.deps.log.error({ channelId: this.channelId, op: op.id, reason }, 'message edit dead-lettered');
  }
}

/** What the bot REST client threw, as its error (anything else is a bad gateway). */
const asBotRestError = (err: unknown): BotRestError => (err instanceof BotRestError ? err : new BotRestError(502, String(err), null, null, null));
