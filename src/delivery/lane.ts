import { classifyResponse, type DiscordVerdict } from '../discord/responses.js';
import type { AttemptRecord } from '../store/delivery-rows.js';
import { CircuitBreaker } from './breaker.js';
import { ChannelBudget } from './budget.js';
import type { LaneDeps } from './lane-deps.js';
import { MessageOpRunner } from './message-op-runner.js';
import type { Outcome } from './outcome-recorder.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import type { ActiveWebhook } from '../store/webhooks.js';
import type { StormRow } from '../store/storms.js';
import { type PoolMember, WebhookPool } from './pool.js';
import { composeIncidentPage, composeIncidentPost, composePost, composeStormPost, isIncidentMember, isIncidentPage, RENDER_LEVEL, STORM_CLAIM, type Post } from './post-message.js';
import { DISCORD_ERROR } from '../discord/limits.js';
import { discordErrorCode } from '../discord/responses.js';
import { settlePost, type PostSettlement, type QueueAction } from './post-outcome.js';
import { lowReadyAt, planPost, wakeAfterEmptyClaim } from './post-plan.js';
import type { TransportResult } from './transport.js';
import { StormKeeper } from './storm-keeper.js';
import { WakeTimer } from './wake-timer.js';

/** A member whose incident's card is on its way waits this long, then joins the card (posted by then, or failed). */
const INCIDENT_CARD_WAIT_MS = 250;

/**
 * One channel's delivery lane: its webhook pool, its share of Discord's budget and its part of the
 * queue. `pump` sends while budgets allow and sets one timer for the moment they will allow again.
 * What to post next is decided by `planPost`, the message by `composePost`, what Discord's answer
 * means by `classifyResponse` and `settlePost`; the lane claims, sends and records. Edits and deletes
 * of posted messages are its MessageOpRunner's, which shares the pool's buckets and this timer.
 */
export class Lane {
  readonly pool = new WebhookPool();
  readonly budget: ChannelBudget;
  /** Approximate backlog (pending + in flight), to decide when to pack several alerts per message. */
  backlog = 0;
  private readonly timer = new WakeTimer(() => this.pump());
  private pumping = false;
  /** `pump` was called while a run was under way: the run goes round once more before it ends. */
  private again = false;
  private stopped = false;
  private readonly inFlight = new Map<Promise<void>, number[]>();
  /** Edits and deletes of messages already posted: the lane's other half, sharing its pool and timer. */
  private readonly ops: MessageOpRunner;
  /** Storm mode: whether P2/P3 go out as compact lines, and the storm's summary card. */
  private readonly storm: StormKeeper;
  /** A compact message waits for more lines until then (HERALD_STORM_GATHER_MS); null: not gathering. */
  private gatherUntil: number | null = null;
  /**
   * A flood starting outside a storm (more P2/P3 wait than the budget lets out now) waits this long, once, before
   * its first packed card (HERALD_STORM_GATHER_MS): if it is a storm, the lane sees it and posts compact lines
   * instead of spending the window's burst on cards of ten. Those slots stay in Discord's window for a minute,
   * which pages then lack. Null: none since the queue was last empty.
   */
  private floodGatherUntil: number | null = null;
  private warnedEmpty = false;
  /**
   * Until then no P2/P3 post can go (the channel's cap, the webhooks' buckets, a compact message gathering
   * lines), as the last pump found: new P2/P3 deliveries need no pump before it (a timer is set for it).
   * Under a flood every group commit signals new P3 deliveries; without this each one cost a claim query.
   */
  private lowBlockedUntil = 0;
  private readonly pumpGuarded: () => void;
  /**
   * With HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL=false: each thread's own window (a follow-up then takes no
   * slot of the channel's). Dropped when empty, so they do not pile up.
   */
  private readonly threadBudgets = new Map<string, ChannelBudget>();
  /**
   * Incident members went through this lane. Their deliveries are counted once per incident when queued
   * (accept.ts: a later member joins a card, no post of its own) but leave one by one (joined, on a card, as
   * storm lines), so the running backlog can fall short: once it reaches zero it is read again (`drained`).
   */
  private sawMembers = false;

  /** Builds a channel's lane from what the database says of it: its recent messages (the budget), its webhooks, its storm. */
  static async open(channelId: number, deps: LaneDeps): Promise<Lane> {
    const recent = await deps.outbox.recentMessageTimes(channelId, Date.now() - deps.config.channelWindowMs);
    const webhooks = await deps.store.activeFor(channelId);
    const storm = await deps.storms.current(channelId);
    return new Lane(channelId, deps, { recent, webhooks, storm });
  }

  private constructor(
    readonly channelId: number,
    private readonly deps: LaneDeps,
    initial: { recent: number[]; webhooks: ActiveWebhook[]; storm: StormRow | null },
  ) {
    this.pumpGuarded = deps.guard.wrap(`delivery lane of channel ${channelId}`, () => this.pumpOnce(), { retry: (ms) => this.schedule(Date.now() + ms) });
    const c = deps.config;
    this.budget = new ChannelBudget(c.channelCap, c.channelWindowMs, c.priorityReserve);
    this.budget.seed(initial.recent);
    this.resetPool(initial.webhooks);
    this.ops = new MessageOpRunner(channelId, deps, {
      pool: this.pool,
      schedule: (at) => this.schedule(at),
      pump: () => this.pump(),
      enqueued: (count) => {
        this.backlog += count;
        this.schedule();
      },
    });
    this.storm = new StormKeeper(channelId, deps, this, initial.storm);
  }

  /**
   * `added` deliveries were queued for this channel. `onlyLow`: all of them P2/P3, so while no P2/P3
   * post can go the lane need not look now (P0/P1, and any caller that cannot tell, pump at once).
   */
  wake(added: number, onlyLow = false): void {
    this.backlog += added;
    if (onlyLow && Date.now() < this.lowBlockedUntil) return;
    this.schedule();
  }

  /** A message operation (edit, delete) was queued or changed state for this channel. */
  opsChanged(): void {
    this.ops.changed();
  }

  async reloadPool(): Promise<void> {
    this.resetPool(await this.deps.store.activeFor(this.channelId));
  }

  private resetPool(webhooks: ActiveWebhook[]): void {
    const { store, config } = this.deps;
    this.pool.reset(
      webhooks.map((w) => ({
        id: w.id,
        discordWebhookId: w.discordWebhookId,
        token: w.token,
        owner: w.owner,
        breaker: new CircuitBreaker(config.breakerThreshold, config.breakerCooldownMs, w.breaker, (snap) =>
          this.record({ what: `saving the breaker of webhook ${w.id}`, key: `breaker:${w.id}`, write: (tx) => tx.webhooks.saveBreaker(w.id, snap) }),
        ),
      })),
    );
    if (this.pool.size > 0) this.warnedEmpty = false;
  }

  /** Run `pump` soon (coalesced), or at `at` if that is earlier than the timer already set. */
  schedule(at = Date.now()): void {
    if (!this.stopped) this.timer.schedule(at);
  }

  /**
   * Sends what budgets allow now. Never throws nor rejects (call it from anywhere, without awaiting): a database
   * error is logged and the lane tries again with backoff. One run at a time: a call during a run makes it go
   * round once more.
   */
  pump(): void {
    if (this.pumping) this.again = true;
    else this.pumpGuarded();
  }

  /** Deliveries and message operations this lane has requests in flight for (their leases are live). */
  held(): { deliveries: number[]; ops: number[] } {
    return { deliveries: [...this.inFlight.values()].flat(), ops: this.ops.inFlightIds() };
  }

  /** Only through `pump`, which holds a second run back while one is under way. */
  private async pumpOnce(): Promise<void> {
    if (this.stopped) return;
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.storm.update(Date.now());
        // Edits first: they are cheap (no channel-cap slot) and a person is waiting to see their action.
        // Each step answers at once (no promise) when it need not ask the database.
        // A stop during an await ends the run: nothing new starts once `stop` has listed what is in flight.
        while (!this.stopped) {
          let started = this.ops.sendOne();
          if (typeof started !== 'boolean') started = await started;
          if (started) continue;
          started = this.storm.editOne(Date.now());
          if (typeof started !== 'boolean') started = await started;
          if (started) continue;
          if (!(await this.sendOne())) break;
        }
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private record<T>(outcome: Outcome<T>): void {
    this.deps.recorder.record(outcome);
  }

  /**
   * Starts one send if budgets and the queue allow; false when the lane must wait (a timer is set). The plan is
   * made before the claim's await: meanwhile only settling requests change the budgets and the pool (they free
   * room; a shared 429, a webhook quarantined or a pool reloaded are checked again in `send`).
   */
  private async sendOne(): Promise<boolean> {
    const now = Date.now();
    const { outbox, config } = this.deps;
    this.lowBlockedUntil = 0;
    // Outcomes of earlier sends still wait to be recorded (the database cannot write): no new post until
    // they are, or every send made meanwhile would be posted again after a restart.
    if (this.deps.recorder.pending > 0) {
      this.schedule(now + 250);
      return false;
    }
    const plan = planPost(now, this.budget, this.pool, this.backlog);
    if (plan.kind !== 'claim') {
      if (plan.kind === 'wait') {
        this.lowBlockedUntil = plan.until;
        this.schedule(plan.until);
      }
      // Every member busy: the first to finish pumps again. Only a pool with no member at all needs a person.
      if (plan.kind === 'no-webhook') await this.noteEmptyPool(now);
      return false;
    }
    const { member } = plan;
    const stormId = this.storm.stormId;
    if (stormId !== null && plan.maxPriority !== 1 && this.storm.wantsSummaryPost) {
      this.postSummary(member, now);
      return true;
    }
    const leaseMs = config.requestTimeoutMs + 30_000;
    // In a storm a claim takes enough P2/P3 for the longest compact message; P0/P1 still come first.
    // While a compact message gathers lines, only P0/P1 are claimed (a page never waits for the gather).
    // Once per flood: due again once the queue has been empty (null) or a window after the last wait, whichever
    // comes first, so a flood that goes on as cards is not held at every turn.
    const floodGatherDue = this.floodGatherUntil === null || now >= this.floodGatherUntil + config.channelWindowMs;
    if (stormId === null && plan.maxPriority !== 1 && plan.packLimit > 1 && floodGatherDue && config.stormGatherMs > 0) {
      this.floodGatherUntil = now + config.stormGatherMs;
    }
    const gatherEnds = stormId !== null ? this.gatherUntil : this.floodGatherUntil;
    const gathering = gatherEnds !== null && now < gatherEnds;
    const maxPriority = gathering ? 1 : plan.maxPriority;
    const limit = stormId !== null && maxPriority !== 1 ? STORM_CLAIM : plan.packLimit;
    const claimed = await outbox.claim(this.channelId, now, limit, maxPriority, leaseMs);
    if (claimed.length === 0 && gathering) {
      this.lowBlockedUntil = gatherEnds!;
      this.schedule(gatherEnds!);
      return false;
    }
    if (claimed.length === 0) {
      const nextReady = await outbox.nextAvailableAt(this.channelId);
      // Nothing queued: the next enqueue, of any severity, wakes the lane (no timer is set to do it instead),
      // and the next flood is a new one.
      if (nextReady === null) {
        this.floodGatherUntil = null;
        return false;
      }
      // Only P0/P1 could be claimed, and none is ready: P2/P3 wait for room in the budget and a bucket anyway,
      // and the timer set here is no earlier than that.
      if (maxPriority === 1) this.lowBlockedUntil = lowReadyAt(now, this.budget, this.pool);
      this.schedule(wakeAfterEmptyClaim(now, nextReady, plan, this.budget, this.pool));
      return false;
    }
    const threads = this.deps.threads;
    const modeOf = threads ? (d: ClaimedDelivery) => threads.modeOf({ ...d, alert: d.alert }) : undefined;
    // Members of incidents whose card is already here join it (an edit, no post); those whose card is on its way wait for it.
    const rest = await this.joinIncidentCards(claimed, now);
    if (rest.length === 0) return true;
    const incidentPost = (await this.incidentPage(rest, member.owner, modeOf)) ?? (await this.incidentPost(rest, member.owner, stormId !== null, modeOf, now, leaseMs));
    const post = incidentPost ?? (stormId !== null ? composeStormPost(rest, member.owner, config.username, modeOf) : composePost(rest, member.owner, config.username, modeOf));
    const { batch, compact, roomLeft } = post;
    if (incidentPost) {
      // Its batch is the incident's members, not a prefix of the claim: the others go back to the queue now.
      const inBatch = new Set(batch.map((d) => d.id));
      const others = rest.filter((d) => !inBatch.has(d.id)).map((d) => d.id);
      if (others.length) this.release(others, { availableAt: now, countAttempt: false });
      return this.send(member, post, now);
    }
    if (compact && roomLeft && this.gatherUntil === null && config.stormGatherMs > 0) {
      // Fewer lines wait than a compact message holds and the storm is still arriving: a slot is worth a
      // full message, so wait a moment for more lines (once per message) before spending it.
      this.gatherUntil = now + config.stormGatherMs;
      this.release(rest.map((d) => d.id), { availableAt: now, countAttempt: false });
      this.schedule(this.gatherUntil);
      return false;
    }
    if (compact) {
      this.gatherUntil = null;
      post.stormId = stormId!;
    }
    const leftover = rest.slice(batch.length).map((d) => d.id);
    if (leftover.length) this.release(leftover, { availableAt: now, countAttempt: false });
    return this.send(member, post, now);
  }

  /**
   * Members of incidents (issue 10 §1) among the claimed deliveries: where the incident's card is already in
   * this channel, they join it (recorded as sent in its message, and the card's edit queued in the same
   * transaction: one edit through the webhook that posted it, no channel-cap slot); where its card is being
   * posted right now, they wait a moment and join it then. Returns the deliveries still to post. An ungrouped
   * delivery costs nothing here (no statement).
   */
  private async joinIncidentCards(claimed: ClaimedDelivery[], now: number): Promise<ClaimedDelivery[]> {
    const byIncident = new Map<number, ClaimedDelivery[]>();
    for (const d of claimed) {
      if (!isIncidentMember(d)) continue;
      const id = d.alert!.incidentId!;
      byIncident.set(id, [...(byIncident.get(id) ?? []), d]);
    }
    if (byIncident.size === 0) return claimed;
    this.sawMembers = true;
    const { outbox } = this.deps;
    const claimedIds = new Set(claimed.map((d) => d.id));
    const handled = new Set<number>();
    const waiting: number[] = [];
    for (const [incidentId, members] of byIncident) {
      const ids = members.map((d) => d.id);
      const card = await outbox.incidentCard(incidentId, this.channelId);
      if (card) {
        this.record({
          what: `joining deliveries ${ids.join(', ')} to the card of incident ${incidentId}`,
          deliveryIds: ids,
          write: async (tx) => {
            await tx.deliveries.attach(ids, card, now);
            return tx.messageOps.enqueueMessage(this.channelId, card.webhookId, card.messageId, card.deliveryId, 'sync', now);
          },
          then: () => {
            this.opsChanged();
            this.schedule();
          },
        });
        for (const id of ids) handled.add(id);
        await this.drained(ids.length);
      } else if (await outbox.incidentInFlight(incidentId, this.channelId, claimedIds)) {
        waiting.push(...ids);
        for (const id of ids) handled.add(id);
      }
    }
    if (waiting.length) {
      this.release(waiting, { availableAt: now + INCIDENT_CARD_WAIT_MS, countAttempt: false });
      this.schedule(now + INCIDENT_CARD_WAIT_MS);
    }
    return handled.size ? claimed.filter((d) => !handled.has(d.id)) : claimed;
  }

  /**
   * The first card of an incident, when the head of the claim is a member of one: every member ready in this
   * channel goes on it. Not in a storm for P2/P3 (those go as compact lines whatever their incident: nothing
   * waits behind a card), nor for a member Discord refused before (it goes alone, as its alert's card). A lone
   * member is posted as its own alert card (`composePost`): undefined here.
   */
  private async incidentPost(rest: ClaimedDelivery[], owner: 'app' | 'external', storm: boolean, modeOf: ((d: ClaimedDelivery) => ReturnType<NonNullable<LaneDeps['threads']>['modeOf']>) | undefined, now: number, leaseMs: number): Promise<Post | undefined> {
    const head = rest[0]!;
    if (!isIncidentMember(head) || head.renderLevel !== RENDER_LEVEL.packable) return undefined;
    const mode = modeOf?.(head) ?? null;
    if (storm && head.priority >= 2 && mode === null) return undefined;
    const incidentId = head.alert!.incidentId!;
    const same = rest.filter((d) => isIncidentMember(d) && d.alert!.incidentId === incidentId && d.renderLevel === RENDER_LEVEL.packable);
    const more = await this.deps.outbox.claimIncident(incidentId, this.channelId, now, leaseMs, rest.map((d) => d.id));
    const batch = [...same, ...more].sort((a, b) => a.priority - b.priority || a.id - b.id);
    if (batch.length < 2) {
      // Alone after all: its own card. What was claimed for it goes back.
      if (more.length) this.release(more.map((d) => d.id), { availableAt: now, countAttempt: false });
      return undefined;
    }
    const incidents = this.deps.incidents;
    const title = (incidents && (await incidents.titles([incidentId])).get(incidentId)) ?? `incident #${incidentId}`;
    const mutedUntil = (incidents?.mutedUntil && (await incidents.mutedUntil(incidentId, now))) ?? null;
    return composeIncidentPost(batch, { id: incidentId, title, mutedUntil }, owner, this.deps.config.username, mode);
  }

  /**
   * An incident's page at the head of the claim (an escalation step's mention, a member risen to P0/P1): the
   * incident, not its opening member's alert card; short where the incident's card is already in this channel.
   * A page Discord refused before goes as the plain card of its alert (`composePost`): undefined here.
   */
  private async incidentPage(rest: ClaimedDelivery[], owner: 'app' | 'external', modeOf: ((d: ClaimedDelivery) => ReturnType<NonNullable<LaneDeps['threads']>['modeOf']>) | undefined): Promise<Post | undefined> {
    const head = rest[0]!;
    const incidents = this.deps.incidents;
    if (!isIncidentPage(head) || head.renderLevel !== RENDER_LEVEL.packable || !incidents?.renderMembers) return undefined;
    const incidentId = head.alert!.incidentId!;
    const title = (await incidents.titles([incidentId])).get(incidentId) ?? `incident #${incidentId}`;
    const mutedUntil = (incidents.mutedUntil && (await incidents.mutedUntil(incidentId, Date.now()))) ?? null;
    const cardHere = (await this.deps.outbox.incidentCard(incidentId, this.channelId)) !== undefined;
    const mode = modeOf?.(head) ?? null;
    const members = await incidents.renderMembers(incidentId);
    return composeIncidentPage(head, { id: incidentId, title, mutedUntil }, members, { owner, username: this.deps.config.username, mode, cardHere });
  }

  /** Sends a composed post through `member`, within the channel's (or its thread's) window. */
  private send(member: PoolMember, post: Post, now: number): boolean {
    const { batch } = post;
    const budget = this.budgetFor(post);
    const low = batch.some((d) => d.priority > 1);
    // Planned before the claim's await: a request that settled meanwhile may have taken the member out of the
    // pool (quarantined, the pool reloaded) or blocked the channel (a shared 429), and the lane may be stopping.
    if (this.stopped || member.busy || this.pool.get(member.id) !== member || this.budget.freeSlots(now, 0) === 0) {
      this.release(batch.map((d) => d.id), { availableAt: now, countAttempt: false });
      return !this.stopped;
    }
    if (budget !== this.budget && budget.freeSlots(now, low ? 3 : 0) === 0) {
      // This thread's own window is full (the channel's is not): the follow-up waits for it.
      const at = budget.nextSlotAt(now, low ? 3 : 0);
      this.release(batch.map((d) => d.id), { availableAt: at, countAttempt: false });
      this.schedule(at);
      return true;
    }

    member.busy = true;
    member.bucket.begin();
    member.breaker.begin();
    budget.begin(now, low);
    const ids = batch.map((d) => d.id);
    const done = this.deps.transport
      .executeWebhook(member, post.message, post.threadId)
      .then((result) => this.settle(member, post, result, budget))
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
   * The budget a post takes its slot from: the channel's, except a follow-up into a thread when threads are
   * configured to have caps of their own (HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL=false). A new forum post
   * always counts against the forum (Discord counts it in the parent).
   */
  private budgetFor(post: Post): ChannelBudget {
    const c = this.deps.config;
    if (!post.threadId || c.threadPostsCountAgainstChannel) return this.budget;
    let b = this.threadBudgets.get(post.threadId);
    if (!b) {
      if (this.threadBudgets.size > 1000) this.threadBudgets.clear();
      b = new ChannelBudget(c.channelCap, c.channelWindowMs, c.priorityReserve);
      this.threadBudgets.set(post.threadId, b);
    }
    return b;
  }

  /**
   * A follow-up's thread is locked or gone (Discord: 160005 locked, 50083 archived and locked, 10003 unknown):
   * it and every later follow-up of that card go to the channel instead. Said once per thread: the thread is
   * dropped from the card, so no follow-up asks it again.
   */
  private threadRefused(post: Post, result: TransportResult): boolean {
    if (!post.threadId || result.kind !== 'answered' || (result.status !== 400 && result.status !== 403 && result.status !== 404)) return false;
    const code = discordErrorCode(result.body);
    if (code !== DISCORD_ERROR.threadLocked && code !== DISCORD_ERROR.threadArchived && code !== DISCORD_ERROR.unknownChannel) return false;
    const threadId = post.threadId;
    const ids = post.batch.map((d) => d.id);
    this.deps.log.warn({ channelId: this.channelId, threadId, discordCode: code }, 'thread is locked or deleted; its follow-ups go to the channel from now on');
    this.record({
      what: `moving the follow-ups of thread ${threadId} to the channel`,
      deliveryIds: ids,
      write: async (tx) => {
        await tx.deliveries.dropThread(threadId);
        await tx.deliveries.release(ids, { availableAt: Date.now(), countAttempt: false });
      },
      then: () => this.schedule(),
    });
    return true;
  }

  /** Acts on Discord's answer to a post: what it means is decided by `classifyResponse` and `settlePost`. */
  private async settle(member: PoolMember, post: Post, result: TransportResult, budget: ChannelBudget): Promise<void> {
    const now = Date.now();
    const batch = post.batch;
    if (this.threadRefused(post, result)) {
      budget.end(now, false);
      member.bucket.end(now, classifyResponse(result, 'execute').rate);
      member.breaker.neutral();
      return;
    }
    const verdict = classifyResponse(result, 'execute');
    const settlement = settlePost(verdict, batch, now, this.deps.config);
    budget.end(now, settlement.countsInWindow);
    member.bucket.end(now, verdict.rate);
    if (settlement.breaker === 'success') member.breaker.success();
    else if (settlement.breaker === 'failure') member.breaker.failure(now);
    else member.breaker.neutral();
    if (settlement.channelBlockedMs !== null) this.budget.sharedLimitHit(now, settlement.channelBlockedMs);
    if (settlement.quarantine) this.quarantine(member.id, settlement.quarantine, now);
    this.countAnswer(verdict, settlement, batch, now);
    this.logAnswer(member.id, verdict, result.latencyMs);

    const attempt: AttemptRecord = {
      deliveryIds: batch.map((d) => d.id),
      webhookId: member.id,
      at: now,
      status: verdict.status,
      latencyMs: result.latencyMs,
      ...settlement.attempt,
    };
    // One request, one attempts row (for each delivery it carried): it goes with the first action.
    for (let i = 0; i < settlement.actions.length; i++) await this.apply(settlement.actions[i]!, post, member.id, now, i === 0 ? attempt : undefined);
  }

  private async apply(action: QueueAction, post: Post, webhookId: number, now: number, attempt: AttemptRecord | undefined): Promise<void> {
    const batch = post.batch;
    switch (action.do) {
      case 'mark-sent':
        return this.markSent(post, webhookId, action.messageId, now, attempt!);
      case 'release': {
        const { availableAt, countAttempt, error, renderLevel } = action;
        this.release(action.ids, { availableAt, countAttempt, ...(error !== undefined ? { error } : {}), ...(renderLevel !== undefined ? { renderLevel } : {}), ...(attempt ? { attempt } : {}) });
        if (availableAt > now) this.schedule(availableAt);
        return;
      }
      case 'dead-letter':
        return this.deadLetter(action.ids, action.kind, action.reason, action.discordError, now, attempt);
    }
  }

  /** Discord took the message: record it, and edit it at once if its alert changed while it was on the way. */
  private async markSent(post: Post, webhookId: number, messageId: string, now: number, attempt: AttemptRecord): Promise<void> {
    const batch = post.batch;
    const ids = batch.map((d) => d.id);
    // Checked in the transaction that records the send: an ack made while the record waited is seen too.
    // A thread follow-up is a line of text, never edited: only cards are kept in step with their alert.
    const shown = batch.flatMap((d) => (d.alert && !d.note ? [{ id: d.alert.id, changedAt: d.alert.changedAt }] : []));
    // A forum post's first message and its thread share the id; a thread started from a card takes the card's.
    const opened = post.threadMode === 'forum' && !batch[0]!.note ? messageId : undefined;
    const startThread = post.threadMode === 'start';
    this.record({
      what: `recording message ${messageId} of deliveries ${ids.join(', ')}`,
      deliveryIds: ids,
      write: async (tx) => {
        await tx.deliveries.markSent(ids, webhookId, messageId, now, attempt, opened, post.stormId ?? null);
        // In the same transaction: the thread is started even if Herald stops right after this.
        if (startThread) await tx.messageOps.enqueueThreadStart(this.channelId, webhookId, messageId, ids[0]!, now);
        const edit = shown.length > 0 && (await tx.messageOps.syncIfChanged(shown, this.channelId, webhookId, messageId, ids[0]!, Date.now()));
        const incidentId = batch[0]!.note ? null : (batch[0]!.alert?.incidentId ?? null);
        const muteEnd = incidentId !== null && (await tx.messageOps.muteEndIfMuted(incidentId, this.channelId, webhookId, messageId, ids[0]!, Date.now()));
        return edit || startThread || muteEnd;
      },
      then: (editQueued) => {
        if (!editQueued) return;
        this.opsChanged();
        this.schedule();
      },
    });
    await this.drained(ids.length);
    this.storm.changed();
  }

  /**
   * Posts the storm's summary card through `member`: a message, so it takes a slot of the channel's cap
   * (but no step of the P2/P3 pace: one per storm) and a request of the member's bucket.
   */
  private postSummary(member: PoolMember, now: number): void {
    member.busy = true;
    member.bucket.begin();
    member.breaker.begin();
    this.budget.begin(now, false);
    const done = this.storm
      .postSummary(member)
      .then((verdict) => {
        const at = Date.now();
        this.budget.end(at, verdict.kind === 'sent' || verdict.kind === 'transient');
        member.bucket.end(at, verdict.rate);
        if (verdict.kind === 'sent') member.breaker.success();
        else if (verdict.kind === 'transient') member.breaker.failure(at);
        else member.breaker.neutral();
        if (verdict.kind === 'retry-after') {
          this.deps.metrics.rateLimited.inc({ scope: verdict.scope });
          if (verdict.scope !== 'user') this.budget.sharedLimitHit(at, verdict.waitMs);
        }
        if (verdict.kind === 'sent') this.deps.metrics.messages.inc();
      })
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId }, 'posting the storm summary card failed'))
      .finally(() => {
        member.busy = false;
        this.inFlight.delete(done);
        this.pump();
      });
    this.inFlight.set(done, []);
  }

  /** The webhook cannot post any more: out of the pool now, and quarantined in the database until a person acts. */
  private quarantine(webhookId: number, q: NonNullable<PostSettlement['quarantine']>, now: number): void {
    this.record({ what: `quarantining webhook ${webhookId}`, write: (tx) => tx.webhooks.quarantine(webhookId, this.channelId, q.reason, now, q.gone) });
    this.pool.remove(webhookId);
  }

  private countAnswer(verdict: DiscordVerdict, settlement: PostSettlement, batch: ClaimedDelivery[], now: number): void {
    const { metrics } = this.deps;
    if (settlement.failure) metrics.failed.inc({ reason: settlement.failure });
    if (verdict.kind === 'retry-after') metrics.rateLimited.inc({ scope: verdict.scope });
    if (verdict.kind !== 'sent') return;
    metrics.messages.inc();
    metrics.delivered.inc(batch.length);
    for (const d of batch) if (d.alert) metrics.endToEnd.observe((now - d.alert.receivedAt) / 1000);
  }

  private logAnswer(webhookId: number, verdict: DiscordVerdict, latencyMs: number): void {
    const wlog = this.deps.log.child({ channelId: this.channelId, webhookId });
    switch (verdict.kind) {
      case 'sent':
        return;
      case 'retry-after':
        return wlog.warn({ scope: verdict.scope, retryAfterMs: verdict.waitMs }, 'Discord rate limit hit; waiting as told');
      case 'dead-webhook':
        return wlog.error({ status: verdict.status }, 'webhook rejected by Discord; quarantined and taken out of the pool');
      case 'transient':
        if (verdict.status === null) wlog.warn({ latencyMs, error: verdict.error }, 'Discord did not answer; will retry');
        return;
      case 'permanent-rejection':
        if (verdict.reason === 'invalid-message') wlog.warn({ status: verdict.status, discordError: verdict.detail.slice(0, 500) }, 'Discord rejected the message');
        return;
    }
  }

  /**
   * `n` deliveries left the queue (posted, joined to a card, dead-lettered). An estimate that reaches zero in a
   * lane that has seen incident members is read again from the outbox, so a storm does not end, nor packing
   * stop, while alerts still wait (a lane of ungrouped alerts only never asks: its count is exact).
   */
  private drained(n: number): Promise<void> | undefined {
    this.backlog = Math.max(0, this.backlog - n);
    if (this.backlog === 0 && this.sawMembers) return this.recount();
    return undefined;
  }

  /** The backlog read again from the outbox (`drained`); wakes counted while it was read are not lost. */
  private async recount(): Promise<void> {
    const n = await this.deps.outbox.backlogOf(this.channelId, Date.now());
    this.backlog = Math.max(this.backlog, n);
  }

  /** Puts deliveries back in the queue, recorded even if the database is busy now. */
  private release(ids: number[], opts: Parameters<LaneDeps['outbox']['release']>[1]): void {
    this.record({ what: `releasing deliveries ${ids.join(', ')}`, deliveryIds: ids, write: (tx) => tx.deliveries.release(ids, opts) });
  }

  /** `kind` labels the metric (rejected, exhausted, unexpected); `reason` is the sentence a person reads. */
  private async deadLetter(ids: number[], kind: string, reason: string, discordError: string | null, now: number, attempt?: AttemptRecord): Promise<void> {
    this.record({ what: `dead-lettering deliveries ${ids.join(', ')}`, deliveryIds: ids, write: (tx) => tx.deliveries.deadLetter(ids, reason, discordError, now, attempt) });
    await this.drained(ids.length);
    this.deps.metrics.deadLetters.inc({ reason: kind }, ids.length);
    this.deps.log.error({ channelId: this.channelId, deliveries: ids, reason }, 'deliveries dead-lettered');
  }

  private async noteEmptyPool(now: number): Promise<void> {
    if (this.warnedEmpty) return;
    const msg = `channel ${this.channelId} has alerts waiting but no healthy webhook; add one to its pool`;
    await this.deps.store.recordEvent('channel_without_webhook', msg, now, { channelId: this.channelId });
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
