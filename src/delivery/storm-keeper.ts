import { stormSummaryCard } from '../cards/storm.js';
import { classifyResponse } from '../discord/responses.js';
import type { StormRow } from '../store/storms.js';
import type { ChannelBudget } from './budget.js';
import type { LaneDeps } from './lane-deps.js';
import type { PoolMember, WebhookPool } from './pool.js';
import { stormStep, summaryEditDue } from './storm-plan.js';

/**
 * A channel's storm while it lasts (docs/delivery.md "Storms"): whether the lane posts compact lines,
 * and the storm's one summary card, posted once through a pool member (a channel slot) and then edited
 * in place through that same webhook (its bucket only). The storm row in the database keeps the card's
 * message id, so a restart mid-storm goes on editing the same card. What to decide is `storm-plan.ts`'s.
 */
export class StormKeeper {
  private storm: StormRow | null;
  /** A storm that ended whose card still has to say so (the same row object, so a card posted late is seen). */
  private ending: StormRow | null = null;
  /** A request about the summary card is in flight (its post or an edit). */
  private busy = false;
  private dirty = false;
  private lastEditAt = 0;
  private warnedNoEditor = false;

  constructor(
    private readonly channelId: number,
    private readonly deps: LaneDeps,
    private readonly lane: { readonly pool: WebhookPool; readonly budget: ChannelBudget; backlog: number; schedule(at?: number): void; pump(): void },
    /** The channel's storm as the database has it (`storms.current`, read by the lane's `open`). */
    current: StormRow | null,
  ) {
    this.storm = current;
    // A storm of a previous run: its card is brought up to date (and said to be over, if it is).
    this.dirty = this.storm !== null;
    lane.budget.setStorm(this.storm !== null);
  }

  /** The storm going on, if any: its id marks the deliveries posted as its lines. */
  get stormId(): number | null {
    return this.storm?.id ?? null;
  }

  /** Enters or leaves storm mode by the backlog and the budget (stormStep). A storm row is written on each change. */
  async update(now: number): Promise<void> {
    const step = stormStep({
      inStorm: this.storm !== null,
      backlog: this.lane.backlog,
      sendsWithinHorizon: this.lane.budget.lowSendsWithin(now, this.deps.config.stormHorizonMs),
      horizonMs: this.deps.config.stormHorizonMs,
    });
    if (step === 'enter') {
      this.storm = await this.deps.storms.open(this.channelId, now);
      this.dirty = false;
      this.lane.budget.setStorm(true);
      this.deps.log.warn({ channelId: this.channelId, storm: this.storm.id, backlog: this.lane.backlog }, 'storm: the backlog cannot be posted within the horizon; P2/P3 go out as compact lines');
      this.deps.metrics.storms.inc();
    } else if (step === 'leave') {
      const storm = this.storm!;
      await this.deps.storms.end(storm.id, now);
      this.deps.log.info({ channelId: this.channelId, storm: storm.id }, 'storm over: the backlog is gone');
      storm.endedAt = now;
      this.lane.budget.setStorm(false);
      // The card says so; with no card posted nor being posted, nothing is left to say.
      this.ending = storm.summaryMessageId !== null || this.busy ? storm : null;
      this.storm = null;
    }
  }

  /** Lines were posted (or the backlog moved): the card is out of date. */
  changed(): void {
    if (this.storm) this.dirty = true;
  }

  /** The storm has no card yet and none is being posted: the lane's next post should be it. */
  get wantsSummaryPost(): boolean {
    return this.storm !== null && this.storm.summaryMessageId === null && !this.busy;
  }

  /**
   * Posts the summary card through `member` (the lane has taken the channel slot and the member's
   * bucket for it, and settles those). Its message id is recorded like any outcome, retried until the
   * database takes it: a card posted is never posted again because the record failed.
   */
  async postSummary(member: PoolMember): Promise<ReturnType<typeof classifyResponse>> {
    const storm = this.storm!;
    this.busy = true;
    try {
      const result = await this.deps.transport.executeWebhook(member, await this.render(storm));
      const verdict = classifyResponse(result, 'execute');
      if (verdict.kind === 'sent' && verdict.messageId) {
        const messageId = verdict.messageId;
        storm.webhookId = member.id;
        storm.summaryMessageId = messageId;
        this.lastEditAt = Date.now();
        this.deps.recorder.record({ what: `recording the summary card ${messageId} of storm ${storm.id}`, write: (tx) => tx.storms.setSummary(storm.id, member.id, messageId) });
      } else {
        if (this.ending === storm) this.ending = null;
        this.deps.log.warn({ channelId: this.channelId, storm: storm.id, status: verdict.status }, 'posting the storm summary card failed; trying again with the next post');
      }
      return verdict;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Starts an edit of the summary card if one is due and its webhook's bucket allows (leaving the last
   * request of the window to a page, like any edit); false when none goes now. Answers at once (a boolean) when
   * no edit goes; a promise when one starts (the card's tally is read first).
   */
  editOne(now: number): boolean | Promise<boolean> {
    const storm = this.ending ?? this.storm;
    if (!storm || this.busy || storm.summaryMessageId === null || storm.webhookId === null) return false;
    const ended = this.ending !== null;
    if (!summaryEditDue(now, this.lastEditAt, this.dirty || ended, ended, this.deps.config.stormSummaryEditMs)) {
      if (this.dirty) this.lane.schedule(this.lastEditAt + this.deps.config.stormSummaryEditMs);
      return false;
    }
    // The tally reads recorded lines: wait until every outcome is.
    if (this.deps.recorder.pending > 0) return false;
    const member = this.lane.pool.get(storm.webhookId);
    if (!member) {
      // The webhook that posted the card left the pool (quarantined, retired): nothing else may edit it.
      if (!this.warnedNoEditor) this.deps.log.warn({ channelId: this.channelId, storm: storm.id }, 'the storm summary card cannot be edited: its webhook left the pool');
      this.warnedNoEditor = true;
      this.dirty = false;
      this.ending = null;
      return false;
    }
    if (member.busy) return false; // its request in flight pumps the lane when done
    if (!member.bucket.canSend(now, true)) {
      this.lane.schedule(Math.max(member.bucket.nextSendAt(now, true), now + 1));
      return false;
    }
    return this.startEdit(storm, member, ended, now);
  }

  private async startEdit(storm: StormRow, member: PoolMember, ended: boolean, now: number): Promise<boolean> {
    const { summaryMessageId } = storm;
    // Taken before the tally's await: nothing else starts a request of the card or of this member meanwhile.
    this.busy = true;
    this.dirty = false;
    this.lastEditAt = now;
    member.busy = true;
    let body: Awaited<ReturnType<StormKeeper['render']>>;
    try {
      body = await this.render(storm);
    } catch (err) {
      this.busy = false;
      this.dirty = true;
      member.busy = false;
      throw err;
    }
    member.bucket.begin();
    void this.deps.transport
      .editMessage(member, summaryMessageId!, body)
      .then((result) => {
        const verdict = classifyResponse(result, 'edit');
        member.bucket.end(Date.now(), verdict.rate);
        if (verdict.kind === 'sent') {
          if (ended && this.ending === storm) this.ending = null;
          return;
        }
        // Not this edit's last chance: the next one renders the card as it is then.
        if (this.storm === storm || this.ending === storm) this.dirty = true;
        if (verdict.kind === 'permanent-rejection' || verdict.kind === 'dead-webhook') {
          // Gone (deleted by a person) or refused: stop editing this card rather than retry forever.
          this.deps.log.warn({ channelId: this.channelId, storm: storm.id, status: verdict.status }, 'editing the storm summary card failed for good; no more edits of it');
          this.dirty = false;
          if (this.ending === storm) this.ending = null;
          storm.webhookId = null;
        }
      })
      .catch((err) => this.deps.log.error({ err, channelId: this.channelId }, 'editing the storm summary card failed'))
      .finally(() => {
        member.busy = false;
        this.busy = false;
        this.lane.pump();
      });
    return true;
  }

  private async render(storm: StormRow) {
    const tally = await this.deps.storms.tally(storm.id);
    const { endedAt } = storm;
    return stormSummaryCard({ stormId: storm.id, startedAt: storm.startedAt, endedAt, waiting: endedAt === null ? this.lane.backlog : 0, ...tally }, this.deps.config.username);
  }
}
