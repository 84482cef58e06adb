import type { RateLimitInfo } from '../discord/responses.js';

/**
 * Discord's budgets, each owned by one object (as @discordjs/rest keeps a bucket inside its handler).
 * The scheduler asks them before every send and tells them every outcome; nobody else does budget arithmetic.
 */

/** Margin added to every window edge: our clock and Discord's see a message at slightly different times. */
const EDGE_MARGIN_MS = 250;

/**
 * The hidden per-channel cap (about 30 webhook messages per 60 s, shared by every webhook of the
 * channel). A sliding window of send completions; a slot is taken as soon as a send starts.
 * The last `reserve` slots are kept for P0/P1 so a flood of low severities cannot delay a page.
 *
 * P2/P3 are also paced: a token bucket (GCRA) of a few sends that refills one per window/(cap − reserve).
 * Without it a flood takes the whole window in its first seconds, nothing leaves the window for a
 * minute, and only `reserve` pages get through in that minute. Paced, the flood drains at the same
 * rate (the cap allows no more), but slots come free every couple of seconds, so pages keep finding one.
 * In a storm (compact messages of dozens of alerts each) the burst is two thirds of the low slots.
 */
export class ChannelBudget {
  private readonly sends: number[] = [];
  private inFlight = 0;
  private blockedUntil = 0;
  /** Lowered after a shared-scope 429 (someone else posts in the channel too); creeps back up per quiet window. */
  private effectiveCap: number;
  private lastLoweredAt = 0;
  /** GCRA state for P2/P3: the theoretical time of the next low send, its spacing and the burst it allows. */
  private lowTat = 0;
  private readonly lowIntervalMs: number;
  private lowBurst: number;
  private readonly calmBurst: number;
  private readonly stormBurst: number;
  /** Slots of the window P2/P3 leave to pages: `reserve`, and in a storm a third of the cap (`stormReserve`). */
  private lowReserve: number;
  private readonly stormReserve: number;

  constructor(
    private readonly cap: number,
    private readonly windowMs: number,
    private readonly reserve: number,
  ) {
    this.effectiveCap = cap;
    const lowSlots = Math.max(1, cap - reserve);
    this.lowIntervalMs = windowMs / lowSlots;
    // A third of the low slots at once: a short burst delivers the first alerts of a flood without delay.
    this.calmBurst = Math.max(1, Math.floor(lowSlots / 3));
    // In a storm each message carries dozens of alerts (compact lines), so two thirds may go at once: the
    // backlog is shown within seconds, the last third of the window stays paced, the reserve stays for pages.
    this.stormBurst = Math.max(this.calmBurst, Math.floor((2 * lowSlots) / 3));
    this.lowBurst = this.calmBurst;
    // A storm bursts its compact messages, and a burst's slots all stay in the window for a whole minute: with
    // only `reserve` left, the tenth page of that minute waited for the burst to age out (42.9 s in the p0
    // bench). In a storm P2/P3 leave a third of the window to P0/P1.
    this.stormReserve = Math.max(reserve, Math.floor(cap / 3));
    this.lowReserve = reserve;
  }

  /** Storm mode on or off (storm-keeper.ts): the P2/P3 burst is two thirds of their slots instead of one. */
  setStorm(on: boolean): void {
    this.lowBurst = on ? this.stormBurst : this.calmBurst;
    this.lowReserve = on ? this.stormReserve : this.reserve;
  }

  /** Free slots now, for the given priority (0 = P0). Low priorities do not see the reserve and wait for their pace. */
  freeSlots(now: number, priority: number): number {
    this.expire(now);
    if (now < this.blockedUntil) return 0;
    const used = this.sends.length + this.inFlight;
    if (priority <= 1) return Math.max(0, this.effectiveCap - used);
    return Math.max(0, Math.min(this.effectiveCap - this.lowReserve - used, this.lowTokens(now)));
  }

  /** When a slot for this priority may be free (for a timer), given nothing else changes. */
  nextSlotAt(now: number, priority = 0): number {
    this.expire(now);
    const paceAt = priority > 1 ? this.lowPaceAt() : now;
    const used = this.sends.length + this.inFlight;
    const usable = priority <= 1 ? this.effectiveCap : this.effectiveCap - this.lowReserve;
    let slotAt = now;
    if (used >= usable) {
      // One slot needs the (used − usable + 1)-th oldest send to leave the window; sends still in flight
      // are not in `sends` yet, and their completion pumps the lane anyway.
      const leaving = this.sends[used - usable];
      slotAt = leaving === undefined ? now + EDGE_MARGIN_MS : leaving + this.windowMs + EDGE_MARGIN_MS;
    }
    return Math.max(now, this.blockedUntil, paceAt, slotAt);
  }

  /**
   * How many P2/P3 messages the channel's budget lets out within `horizonMs` from now, if nothing else
   * posts: the pace's tokens now and its refills, bounded by the low share of the window (the slots free
   * now and those whose sends leave the window meanwhile). What storm mode weighs a backlog against.
   */
  lowSendsWithin(now: number, horizonMs: number): number {
    this.expire(now);
    const start = Math.max(now, this.blockedUntil);
    const span = Math.max(0, now + horizonMs - start);
    const paced = this.lowTokens(start) + Math.floor(span / this.lowIntervalMs);
    const edge = now + horizonMs - this.windowMs - EDGE_MARGIN_MS;
    const leaving = this.sends.filter((t) => t <= edge).length;
    // A horizon longer than the window sees whole windows of low slots come and go within it too.
    const laterWindows = Math.max(0, Math.floor(horizonMs / this.windowMs) - 1) * Math.max(0, this.effectiveCap - this.reserve);
    const room = this.effectiveCap - this.reserve - this.sends.length - this.inFlight + leaving + laterWindows;
    return Math.max(0, Math.min(paced, room));
  }

  /** The earliest moment the P2/P3 pace allows another send. */
  private lowPaceAt(): number {
    return this.lowTat - (this.lowBurst - 1) * this.lowIntervalMs;
  }

  /** P2/P3 sends the pace allows right now (0 to the burst): an honest count, so the lane packs when a backlog outgrows it. */
  private lowTokens(now: number): number {
    return Math.min(this.lowBurst, Math.max(0, Math.floor((now - this.lowTat) / this.lowIntervalMs) + this.lowBurst));
  }

  /** Messages already posted in the current window (by an earlier run of Herald), oldest first. */
  seed(times: number[]): void {
    this.sends.push(...times);
  }

  /** A send starts; `low`: it carries P2/P3 alerts, so it takes a step of their pace. */
  begin(now: number, low: boolean): void {
    this.inFlight++;
    if (low) this.lowTat = Math.max(this.lowTat, now) + this.lowIntervalMs;
  }

  /** A send finished. `posted`: Discord created a message, so it counts in the window. */
  end(now: number, posted: boolean): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    // Completion time is at or after Discord's own timestamp, so our window never frees a slot before Discord's does.
    if (posted) this.sends.push(now);
  }

  /** Discord answered 429 with scope `shared`: the channel is full, whatever our count says. */
  sharedLimitHit(now: number, retryAfterMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, now + retryAfterMs + EDGE_MARGIN_MS);
    this.effectiveCap = Math.max(1, Math.min(this.effectiveCap, this.sends.length) - 1);
    this.lastLoweredAt = now;
  }

  get state() {
    return { cap: this.cap, effectiveCap: this.effectiveCap, inWindow: this.sends.length, inFlight: this.inFlight, blockedUntil: this.blockedUntil };
  }

  private expire(now: number): void {
    const edge = now - this.windowMs - EDGE_MARGIN_MS;
    while (this.sends.length && this.sends[0]! <= edge) this.sends.shift();
    if (this.effectiveCap < this.cap && now - this.lastLoweredAt >= this.windowMs) {
      this.effectiveCap++;
      this.lastLoweredAt = now;
    }
  }
}

/**
 * One webhook's own bucket (about 5 requests per 2 s), learnt from X-RateLimit-* headers.
 * Until the first answer it allows one request at a time.
 */
export class WebhookBucket {
  private limit = 1;
  private remaining = 1;
  private resetAt = 0;
  private inFlight = 0;

  /**
   * `low`: a P2/P3 send, which may not take the bucket's last request (when it has more than one),
   * so a P0 never waits for a webhook's window to reset behind a flood.
   */
  canSend(now: number, low = false): boolean {
    const available = (now >= this.resetAt ? this.limit : this.remaining) - this.inFlight;
    return low && this.limit > 1 ? available > 1 : available > 0;
  }

  nextSendAt(now: number, low = false): number {
    return this.canSend(now, low) ? now : Math.max(now, this.resetAt);
  }

  begin(): void {
    this.inFlight++;
  }

  end(now: number, info: RateLimitInfo): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (info.retryAfterMs !== undefined && info.scope !== 'shared') {
      // This webhook's own (or the global) limit: nothing through it until Discord's wait is over.
      this.remaining = 0;
      this.resetAt = now + info.retryAfterMs + EDGE_MARGIN_MS;
      return;
    }
    if (info.limit !== undefined) this.limit = info.limit;
    if (info.remaining !== undefined) this.remaining = info.remaining;
    if (info.resetAfterMs !== undefined) this.resetAt = now + info.resetAfterMs + EDGE_MARGIN_MS;
  }
}
