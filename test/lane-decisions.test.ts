import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../src/delivery/breaker.js';
import { ChannelBudget } from '../src/delivery/budget.js';
import { settleEdit, type SettledOp } from '../src/delivery/edit-outcome.js';
import { claimedAlert, claimedDelivery } from './support/claimed.js';
import { WebhookPool } from '../src/delivery/pool.js';
import { composePost, MAX_PACK, RENDER_LEVEL } from '../src/delivery/post-message.js';
import { settlePost, type PostedDelivery } from '../src/delivery/post-outcome.js';
import { lowReadyAt, planPost, wakeAfterEmptyClaim } from '../src/delivery/post-plan.js';
import { classifyResponse, type DiscordAnswer, type WebhookRequest } from '../src/discord/responses.js';
import type { RetryLimits } from '../src/domain/retry-policy.js';

/**
 * The delivery lane's decisions, with its real in-memory parts (budget, pool, breakers) and no I/O:
 * what it posts next given its budgets and queue, and what it does with each answer from Discord.
 */

// Discord's hidden channel cap as Herald budgets it: 30 messages per 60 s, 2 kept for P0/P1.
const CAP = 30;
const WINDOW_MS = 60_000;
const RESERVE = 2;
const LOW_BURST = Math.floor((CAP - RESERVE) / 3);
const limits: RetryLimits = { maxAttempts: 5, maxAgeMs: 60 * 60_000, retryBaseMs: 1000 };
const noJitter = () => 0.5;

const budget = () => new ChannelBudget(CAP, WINDOW_MS, RESERVE);

/** A pool of `n` application-owned webhooks, ids 1..n, breakers closed. */
function pool(n: number): WebhookPool {
  const p = new WebhookPool();
  p.reset(
    Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      discordWebhookId: String(100_000_000_000_000_000 + i),
      token: 'x'.repeat(68),
      owner: 'app' as const,
      breaker: new CircuitBreaker(3, 30_000, { state: 'closed', failures: 0, openedAt: null }, () => {}),
    })),
  );
  return p;
}

/** Records `n` messages posted at `at` (P0, so the P2/P3 pace is not used). */
function posted(b: ChannelBudget, n: number, at: number, low = false): void {
  for (let i = 0; i < n; i++) {
    b.begin(at, low);
    b.end(at, true);
  }
}

function answer(status: number, body: unknown = '', headers: Record<string, string> = {}): DiscordAnswer {
  return { kind: 'answered', status, headers: new Headers(headers), body: typeof body === 'string' ? body : JSON.stringify(body) };
}
const verdict = (a: DiscordAnswer, request: WebhookRequest = 'execute') => classifyResponse(a, request);

describe('what the lane posts next', () => {
  it('a quiet channel: one alert per message, any priority, through the first webhook', () => {
    const plan = planPost(0, budget(), pool(2), 1);
    expect(plan).toMatchObject({ kind: 'claim', maxPriority: 3, packLimit: 1 });
    expect(plan.kind === 'claim' && plan.member.id).toBe(1);
  });

  it('packs up to 10 alerts per message once the backlog is larger than what the budget lets through now', () => {
    expect(planPost(0, budget(), pool(1), LOW_BURST)).toMatchObject({ packLimit: 1 });
    expect(planPost(0, budget(), pool(1), LOW_BURST + 1)).toMatchObject({ packLimit: MAX_PACK });
  });

  it('spreads posts over the pool round-robin', () => {
    const b = budget();
    const p = pool(3);
    const ids = [1, 2, 3, 4].map(() => {
      const plan = planPost(0, b, p, 1);
      return plan.kind === 'claim' ? plan.member.id : null;
    });
    expect(ids).toEqual([1, 2, 3, 1]);
  });

  it('once the P2/P3 pace is spent, claims only P0/P1, and looks again when the pace allows a low one', () => {
    const b = budget();
    const p = pool(1);
    posted(b, LOW_BURST, 0, true);
    const plan = planPost(0, b, p, 5);
    expect(plan).toMatchObject({ kind: 'claim', maxPriority: 1 });
    // Only P3s are queued, so the claim found nothing: wake when the pace has room for one.
    const paceStep = WINDOW_MS / (CAP - RESERVE);
    expect(plan.kind === 'claim' && wakeAfterEmptyClaim(0, 0, plan, b, p)).toBeCloseTo(paceStep, 0);
    // Until then a P2/P3 queued meanwhile cannot go either: the lane need not look (Lane.wake with onlyLow).
    expect(lowReadyAt(0, b, p)).toBeCloseTo(paceStep, 0);
    expect(lowReadyAt(paceStep, b, p)).toBeLessThanOrEqual(paceStep);
  });

  it('a claim that found nothing while low severities may go waits for the earliest queued delivery (backoff)', () => {
    const plan = planPost(0, budget(), pool(1), 1);
    expect(plan.kind === 'claim' && wakeAfterEmptyClaim(0, 7_000, plan, budget(), pool(1))).toBe(7_000);
  });

  it('with the channel cap used up, nothing goes until the oldest message leaves the window', () => {
    const b = budget();
    posted(b, CAP, 0);
    const plan = planPost(1_000, b, pool(3), 1);
    expect(plan.kind).toBe('wait');
    expect(plan.kind === 'wait' && plan.until).toBeGreaterThanOrEqual(WINDOW_MS);
  });

  it('after a shared-scope 429, nothing goes until Discord\'s wait is over, however many webhooks there are', () => {
    const b = budget();
    b.sharedLimitHit(0, 40_000);
    const plan = planPost(1_000, b, pool(3), 1);
    expect(plan.kind === 'wait' && plan.until).toBeGreaterThanOrEqual(40_000);
  });

  it('a webhook\'s last request of its window is left to pages; an empty bucket waits for its reset', () => {
    const p = pool(1);
    p.get(1)!.bucket.end(0, { limit: 5, remaining: 1, resetAfterMs: 2_000 });
    expect(planPost(0, budget(), p, 1)).toMatchObject({ kind: 'claim', maxPriority: 1 });
    p.get(1)!.bucket.end(0, { limit: 5, remaining: 0, resetAfterMs: 2_000 });
    const plan = planPost(0, budget(), p, 1);
    expect(plan.kind === 'wait' && plan.until).toBeGreaterThanOrEqual(2_000);
  });

  it('skips a webhook whose breaker is open until its cooldown is over', () => {
    const p = pool(2);
    for (let i = 0; i < 3; i++) p.get(1)!.breaker.failure(0);
    const plan = planPost(0, budget(), p, 1);
    expect(plan.kind === 'claim' && plan.member.id).toBe(2);
    p.get(2)!.busy = true;
    const waiting = planPost(0, budget(), p, 1);
    expect(waiting).toEqual({ kind: 'wait', until: 30_000 });
  });

  it('every webhook busy: waits for a send to finish; no webhook at all: needs a person', () => {
    const p = pool(2);
    p.get(1)!.busy = true;
    p.get(2)!.busy = true;
    expect(planPost(0, budget(), p, 1)).toEqual({ kind: 'wait-for-send' });
    expect(planPost(0, budget(), pool(0), 1)).toEqual({ kind: 'no-webhook' });
  });
});

describe('what the lane makes of a claim', () => {
  const alert = claimedAlert;
  const claimed = claimedDelivery;

  it('packs packable alerts into one message, without buttons (they belong to one alert)', () => {
    const { batch, message } = composePost([claimed(1), claimed(2), claimed(3)], 'app', 'Herald');
    expect(batch.map((d) => d.id)).toEqual([1, 2, 3]);
    expect(message.embeds).toHaveLength(3);
    expect(message.components).toBeUndefined();
  });

  it('a single alert through an application-owned webhook gets its buttons; through a pasted-in webhook none', () => {
    expect(composePost([claimed(1)], 'app', 'Herald').message.components?.length).toBeGreaterThan(0);
    expect(composePost([claimed(1)], 'external', 'Herald').message.components).toBeUndefined();
  });

  it('packing stops at an alert that must go alone (an escalation\'s mention, a raised render level)', () => {
    const { batch } = composePost([claimed(1), claimed(2), claimed(3, { mention: 'role:123456789012345678' }), claimed(4)], 'app', 'Herald');
    expect(batch.map((d) => d.id)).toEqual([1, 2]);
  });

  it('an escalation step goes alone and pings exactly its role', () => {
    const { batch, message } = composePost([claimed(1, { mention: 'role:123456789012345678' }), claimed(2)], 'app', 'Herald');
    expect(batch.map((d) => d.id)).toEqual([1]);
    expect(message.content).toBe('<@&123456789012345678>');
    expect(message.allowed_mentions).toEqual({ parse: [], roles: ['123456789012345678'] });
  });

  it('a message rendered in advance (a digest) goes alone, as it is', () => {
    const digest = { content: 'digest', embeds: [], allowed_mentions: { parse: [] as never[] } };
    const { batch, message } = composePost([claimed(1, { alertId: null, alert: null, message: digest }), claimed(2)], 'app', 'Herald');
    expect(batch.map((d) => d.id)).toEqual([1]);
    expect(message).toBe(digest);
  });
});

describe('what the lane does with Discord\'s answer to a post', () => {
  const d = (id: number, over: Partial<PostedDelivery> = {}): PostedDelivery => ({ id, attempts: 0, createdAt: 0, renderLevel: RENDER_LEVEL.packable, ...over });
  const now = 10_000;

  it('posted: the deliveries are sent with the message id, the message counts in the window, the webhook is healthy', () => {
    const s = settlePost(verdict(answer(200, { id: '999' })), [d(1), d(2)], now, limits);
    expect(s).toMatchObject({ countsInWindow: true, breaker: 'success', quarantine: null, channelBlockedMs: null, failure: null, attempt: { outcome: 'ok' } });
    expect(s.actions).toEqual([{ do: 'mark-sent', ids: [1, 2], messageId: '999' }]);
  });

  it('a shared-scope 429: the whole channel waits Discord\'s time; the deliveries go back unchanged, no attempt counted', () => {
    const s = settlePost(verdict(answer(429, { retry_after: 42 }, { 'x-ratelimit-scope': 'shared' })), [d(1)], now, limits);
    expect(s).toMatchObject({ countsInWindow: false, breaker: 'neutral', channelBlockedMs: 42_000, failure: null, attempt: { outcome: 'rate_limited', rateLimitScope: 'shared' } });
    expect(s.actions).toEqual([{ do: 'release', ids: [1], availableAt: now, countAttempt: false }]);
  });

  it('a webhook\'s own 429 blocks only that webhook (its bucket), not the channel', () => {
    const s = settlePost(verdict(answer(429, { retry_after: 1 }, { 'x-ratelimit-scope': 'user' })), [d(1)], now, limits);
    expect(s.channelBlockedMs).toBeNull();
    expect(s.actions).toEqual([{ do: 'release', ids: [1], availableAt: now, countAttempt: false }]);
  });

  it('a 404: the webhook is quarantined as gone at once and the deliveries go out through another, no attempt counted', () => {
    const s = settlePost(verdict(answer(404, { message: 'Unknown Webhook', code: 10015 })), [d(1)], now, limits);
    expect(s.quarantine).toEqual({ reason: expect.stringContaining('Discord answered 404'), gone: true });
    expect(s).toMatchObject({ breaker: 'neutral', countsInWindow: false, failure: 'webhook_gone', attempt: { outcome: 'webhook_gone' } });
    expect(s.actions).toEqual([{ do: 'release', ids: [1], availableAt: now, countAttempt: false }]);
    // A 403 takes it out of the pool too, but its messages may still be edited through it.
    expect(settlePost(verdict(answer(403, { code: 50001 })), [d(1)], now, limits).quarantine?.gone).toBe(false);
  });

  it('a refused message: a packed one is retried alone, a lone one degraded, a degraded one dead-lettered', () => {
    const refused = verdict(answer(400, { code: 50035, message: 'Invalid Form Body' }));
    expect(settlePost(refused, [d(1), d(2)], now, limits).actions).toEqual([
      { do: 'release', ids: [1, 2], availableAt: now, countAttempt: true, renderLevel: RENDER_LEVEL.solo, error: expect.stringContaining('50035') },
    ]);
    expect(settlePost(refused, [d(1, { renderLevel: RENDER_LEVEL.solo })], now, limits).actions).toMatchObject([{ do: 'release', renderLevel: RENDER_LEVEL.degraded }]);
    const last = settlePost(refused, [d(1, { renderLevel: RENDER_LEVEL.degraded })], now, limits);
    expect(last.actions).toMatchObject([{ do: 'dead-letter', ids: [1], kind: 'rejected', reason: 'Discord rejected the message (400) even in degraded form' }]);
    expect(last).toMatchObject({ breaker: 'neutral', countsInWindow: false, failure: 'rejected' });
  });

  it('a 5xx: each delivery retried with backoff on its own count, or given up when its attempts are used up', () => {
    const s = settlePost(verdict(answer(502, 'Bad Gateway')), [d(1, { attempts: 1 }), d(2, { attempts: limits.maxAttempts - 1 })], now, limits, noJitter);
    expect(s).toMatchObject({ breaker: 'failure', countsInWindow: true, failure: 'server_error', attempt: { outcome: 'server_error', error: 'Bad Gateway' } });
    expect(s.actions).toEqual([
      { do: 'release', ids: [1], availableAt: now + 2 * limits.retryBaseMs, countAttempt: true, error: 'Discord answered 502' },
      { do: 'dead-letter', ids: [2], kind: 'exhausted', reason: `gave up after ${limits.maxAttempts} attempts: Discord answered 502`, discordError: null },
    ]);
  });

  it('no answer: it may have been posted, so it counts in the window; retried, and the webhook\'s health suffers', () => {
    const s = settlePost(verdict({ kind: 'network', error: 'no answer within 10000 ms', timedOut: true }), [d(1)], now, limits, noJitter);
    expect(s).toMatchObject({ countsInWindow: true, breaker: 'failure', failure: 'timeout', attempt: { outcome: 'timeout' } });
    expect(s.actions).toEqual([{ do: 'release', ids: [1], availableAt: now + limits.retryBaseMs, countAttempt: true, error: 'no answer within 10000 ms' }]);
  });

  it('a delivery older than the age limit is given up at its next failure', () => {
    const s = settlePost(verdict(answer(503)), [d(1, { createdAt: now - limits.maxAgeMs })], now, limits);
    expect(s.actions).toMatchObject([{ do: 'dead-letter', kind: 'exhausted' }]);
  });

  it('any other answer is dead-lettered at once with what Discord said', () => {
    const s = settlePost(verdict(answer(405, { message: '405: Method Not Allowed', code: 0 })), [d(1)], now, limits);
    expect(s.actions).toEqual([{ do: 'dead-letter', ids: [1], kind: 'unexpected', reason: 'unexpected answer 405 from Discord', discordError: expect.stringContaining('Method Not Allowed') }]);
  });
});

describe('what the lane does with Discord\'s answer to an edit or delete', () => {
  const op: SettledOp = { discordMessageId: '555', via: 'webhook', attempts: 0, createdAt: 0 };
  const now = 10_000;

  it('done: finished as edited or deleted', () => {
    expect(settleEdit(verdict(answer(200, { id: '555' }), 'edit'), op, 7, 'edited', now, limits).action).toEqual({ do: 'finish', outcome: 'edited' });
    expect(settleEdit(verdict(answer(204), 'delete'), op, 7, 'deleted', now, limits).action).toEqual({ do: 'finish', outcome: 'deleted' });
  });

  it('a 429: again once Discord\'s wait is over, not counted as a failure', () => {
    const s = settleEdit(verdict(answer(429, { retry_after: 2.5 }), 'edit'), op, 7, 'edited', now, limits);
    expect(s).toEqual({ action: { do: 'retry', availableAt: now + 2500, countAttempt: false }, attempt: { outcome: 'rate_limited', error: null, rateLimitScope: 'user' } });
  });

  it('the message was deleted already: nothing left to do', () => {
    const s = settleEdit(verdict(answer(404, { message: 'Unknown Message', code: 10008 }), 'edit'), op, 7, 'edited', now, limits);
    expect(s.action).toEqual({ do: 'finish', outcome: 'unknown_message' });
  });

  it('the webhook is gone: handed on (to the bot), with the webhook named', () => {
    const s = settleEdit(verdict(answer(404, { message: 'Unknown Webhook', code: 10015 }), 'edit'), op, 7, 'edited', now, limits);
    expect(s.action).toEqual({ do: 'webhook-gone', reason: expect.stringMatching(/^Discord answered 404 for webhook 7: /), gone: true });
  });

  it('a 5xx: retried with backoff, given up when the attempts are used up', () => {
    expect(settleEdit(verdict(answer(500), 'edit'), op, 7, 'edited', now, limits).action).toMatchObject({ do: 'retry', countAttempt: true, error: 'Discord answered 500' });
    const last = settleEdit(verdict(answer(500), 'edit'), { ...op, attempts: limits.maxAttempts - 1 }, 7, 'edited', now, limits);
    expect(last.action).toEqual({ do: 'dead', reason: `gave up on editing message 555 after ${limits.maxAttempts} attempts: Discord answered 500`, discordError: null });
  });

  it('a refused edit is dead-lettered with Discord\'s reason', () => {
    const s = settleEdit(verdict(answer(400, { code: 50035 }), 'edit'), op, 7, 'edited', now, limits);
    expect(s.action).toEqual({ do: 'dead', reason: 'Discord refused to edit message 555 (400)', discordError: expect.stringContaining('50035') });
  });
});
