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
 */
export class ChannelBudget {
  private readonly sends: number[] = [];
  private inFlight = 0;
  private blockedUntil = 0;
  /** Lowered after a shared-scope 429 (someone else posts in the channel too); creeps back up per quiet window. */
  private effectiveCap: number;
  private lastLoweredAt = 0;

  constructor(
    private readonly cap: number,
    private readonly windowMs: number,
    private readonly reserve: number,
  ) {
    this.effectiveCap = cap;
  }

  /** Free slots now, for the given priority (0 = P0). Low priorities do not see the reserve. */
  freeSlots(now: number, priority: number): number {
    this.expire(now);
    if (now < this.blockedUntil) return 0;
    const used = this.sends.length + this.inFlight;
    const usable = priority <= 1 ? this.effectiveCap : this.effectiveCap - this.reserve;
    return Math.max(0, usable - used);
  }

  /** When the next slot frees up (for a timer), given nothing else changes. */
  nextSlotAt(now: number): number {
    this.expire(now);
    if (now < this.blockedUntil) return this.blockedUntil;
    const oldest = this.sends[0];
    return oldest === undefined ? now + EDGE_MARGIN_MS : oldest + this.windowMs + EDGE_MARGIN_MS;
  }

  /** Messages already posted in the current window (by an earlier run of Herald), oldest first. */
  seed(times: number[]): void {
    this.sends.push(...times);
  }

  begin(): void {
    this.inFlight++;
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

/** What Discord's rate-limit headers said. */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  resetAfterMs?: number;
  bucket?: string;
  /** From a 429: how long to wait, and whose limit it was. */
  retryAfterMs?: number;
  scope?: 'user' | 'global' | 'shared';
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
