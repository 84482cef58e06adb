import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Throttles guessing: requests refused for a wrong token are counted per client address, and once an
 * address has had `limit` refusals within the window, every request it makes to that entry point (the
 * right token included, or a guess could be confirmed) is answered 429 with Retry-After until the
 * window ends. Counted in memory (rate-limiter-flexible): a restart forgets, which is fine for this.
 */
export class AuthFailureThrottle {
  private readonly failures: RateLimiterMemory;

  constructor(private readonly opts: { limit: number; windowMs: number }) {
    this.failures = new RateLimiterMemory({ points: opts.limit, duration: Math.max(1, Math.ceil(opts.windowMs / 1000)) });
  }

  /** Seconds until this client may try again, when it has used up its refusals; undefined otherwise. */
  async throttledFor(req: FastifyRequest): Promise<number | undefined> {
    const seen = await this.failures.get(req.ip);
    if (!seen || seen.consumedPoints < this.opts.limit) return undefined;
    return Math.max(1, Math.ceil(seen.msBeforeNext / 1000));
  }

  /** Answers 429 (and returns true) when this client has used up its refusals; otherwise does nothing. */
  async refuseIfThrottled(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const seconds = await this.throttledFor(req);
    if (seconds === undefined) return false;
    await reply
      .code(429)
      .header('retry-after', String(seconds))
      .send({ error: 'too_many_requests', message: `too many requests with a wrong token from this address; try again in ${seconds} s` });
    return true;
  }

  /** Counts one refused request from this client. */
  async failed(req: FastifyRequest): Promise<void> {
    // consume() rejects once the points are used up: that is the throttled state, not an error.
    await this.failures.consume(req.ip).catch(() => undefined);
  }
}
