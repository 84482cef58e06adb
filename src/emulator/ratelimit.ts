import { createHash } from 'node:crypto';

/** What a webhook's X-RateLimit-* headers say at one moment. */
export interface BucketState {
  limit: number;
  remaining: number;
  /** Epoch ms at which the window resets. */
  resetAt: number;
  /** ms until then. */
  resetAfterMs: number;
  bucket: string;
}

/**
 * Discord's per-webhook route bucket: `limit` requests per fixed window that starts at the first request
 * after the previous window ended (execute, edit and delete all count). Requests refused with a 429 are not
 * counted: the bucket is already empty.
 */
export class WebhookBuckets {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly cfg: { limit: number; windowMs: number }) {}

  /** The state the next request would see, without taking anything. */
  peek(webhookId: string, now: number): BucketState {
    const w = this.live(webhookId, now);
    const used = w?.used ?? 0;
    const resetAt = w ? w.start + this.cfg.windowMs : now + this.cfg.windowMs;
    return { limit: this.cfg.limit, remaining: Math.max(0, this.cfg.limit - used), resetAt, resetAfterMs: resetAt - now, bucket: bucketHash(webhookId) };
  }

  /** Counts one request; call only after peek() showed room. Returns the state after it. */
  take(webhookId: string, now: number): BucketState {
    let w = this.live(webhookId, now);
    if (!w) {
      w = { start: now, used: 0 };
      this.windows.set(webhookId, w);
    }
    w.used++;
    return this.peek(webhookId, now);
  }

  private live(webhookId: string, now: number) {
    const w = this.windows.get(webhookId);
    if (w && now >= w.start + this.cfg.windowMs) {
      this.windows.delete(webhookId); // expired: forget it, so the map does not grow with dead webhooks
      return undefined;
    }
    return w;
  }
}

/**
 * The hidden per-channel cap on webhook messages (about 30 per 60 s on Discord): a sliding window of
 * message creations per channel, whichever webhook posted them, so rotating webhooks does not raise it.
 */
export class ChannelCap {
  private readonly created = new Map<string, number[]>();

  constructor(private readonly cfg: { limit: number; windowMs: number }) {}

  /** ms until the channel may take another message; 0 when it may now. */
  waitMs(channelId: string, now: number): number {
    const times = this.prune(channelId, now);
    if (times.length < this.cfg.limit) return 0;
    // Room comes back when the (length - limit + 1)-th oldest creation leaves the window.
    const freeing = times[times.length - this.cfg.limit]!;
    return Math.max(1, freeing + this.cfg.windowMs - now);
  }

  /** Records a message actually created (a refused or invalid request costs nothing). */
  record(channelId: string, now: number): void {
    this.prune(channelId, now).push(now);
  }

  private prune(channelId: string, now: number): number[] {
    let times = this.created.get(channelId);
    if (!times) {
      times = [];
      this.created.set(channelId, times);
    }
    let drop = 0;
    while (drop < times.length && times[drop]! <= now - this.cfg.windowMs) drop++;
    if (drop) times.splice(0, drop);
    return times;
  }
}

/** Stable and opaque per webhook, like Discord's bucket hashes (which never reveal the id). */
function bucketHash(webhookId: string): string {
  return createHash('sha1').update(`webhook:${webhookId}`).digest('hex').slice(0, 32);
}

/** The X-RateLimit-* headers Discord puts on every webhook response. Reset is epoch seconds, both floats. */
export function rateLimitHeaders(s: BucketState): Record<string, string> {
  return {
    'x-ratelimit-limit': String(s.limit),
    'x-ratelimit-remaining': String(s.remaining),
    'x-ratelimit-reset': (s.resetAt / 1000).toFixed(3),
    'x-ratelimit-reset-after': (s.resetAfterMs / 1000).toFixed(3),
    'x-ratelimit-bucket': s.bucket,
  };
}

/** A 429 as Discord writes it: float seconds in the body, whole seconds (rounded up) in Retry-After. */
export function tooManyRequests(retryAfterMs: number, scope: 'user' | 'shared' | 'global') {
  const seconds = Math.max(0.001, retryAfterMs / 1000);
  return {
    headers: { 'retry-after': String(Math.ceil(seconds)), 'x-ratelimit-scope': scope },
    body: { message: 'You are being rate limited.', retry_after: Number(seconds.toFixed(3)), global: scope === 'global' },
  };
}

/**
 * The bot's global limit (Discord: 50 requests per second per bot token, interaction callbacks exempt):
 * a fixed window, like the webhook buckets. A refused request is not counted.
 */
export class GlobalLimit {
  private window = { start: 0, used: 0 };

  constructor(private readonly cfg: { limit: number; windowMs: number }) {}

  /** 0 when the request may go (and is counted), else ms until the window resets. */
  take(now: number): number {
    if (now >= this.window.start + this.cfg.windowMs) this.window = { start: now, used: 0 };
    if (this.window.used >= this.cfg.limit) return Math.max(1, this.window.start + this.cfg.windowMs - now);
    this.window.used++;
    return 0;
  }
}
