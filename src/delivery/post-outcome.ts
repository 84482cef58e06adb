import type { DiscordVerdict } from '../discord/responses.js';
import { decideRetry, type RetryLimits } from '../domain/retry-policy.js';
import { RENDER_LEVEL } from './post-message.js';

/** What the outcome of a post needs to know of each delivery it carried. */
export interface PostedDelivery {
  id: number;
  /** Failed tries before this one. */
  attempts: number;
  createdAt: number;
  renderLevel: number;
}

/** The attempts row's name of a transient failure (server_error, timeout, network): the same for posts and edits. */
export function transientOutcome(verdict: Extract<DiscordVerdict, { kind: 'transient' }>): string {
  return verdict.cause === 'server-error' ? 'server_error' : verdict.cause;
}

/** What happens to deliveries after a post, in order. */
export type QueueAction =
  | { do: 'mark-sent'; ids: number[]; messageId: string }
  /** Back to the queue, ready at `availableAt`; `countAttempt` false for waits that are no failure of the delivery. */
  | { do: 'release'; ids: number[]; availableAt: number; countAttempt: boolean; error?: string; renderLevel?: number }
  /** Given up. `kind` labels the metric; `reason` is the sentence a person reads; `discordError` what Discord said. */
  | { do: 'dead-letter'; ids: number[]; kind: 'rejected' | 'exhausted' | 'unexpected'; reason: string; discordError: string | null };

/** Everything the answer to one post means: for the webhook, the channel's budget, the deliveries and the record. */
export interface PostSettlement {
  /** Discord may have created a message: it counts in the channel's window (a post with no answer may have been made). */
  countsInWindow: boolean;
  /** A 5xx or no answer counts against the webhook's health; a success heals it; anything else says nothing about it. */
  breaker: 'success' | 'failure' | 'neutral';
  /** A shared- or global-scope 429: the whole channel waits this long, whatever our own count says. */
  channelBlockedMs: number | null;
  /** The webhook cannot post any more: out of the pool until a person acts; `gone`: its messages are the bot's to delete. */
  quarantine: { reason: string; gone: boolean } | null;
  /** The attempts row of this request. */
  attempt: { outcome: string; error: string | null; rateLimitScope: string | null };
  /** Metric label of a failed post (`failed{reason}`), null when it went through or was only rate limited. */
  failure: string | null;
  actions: QueueAction[];
}

/**
 * Decides what Discord's answer to a post means. Pure: the lane applies the settlement (budgets,
 * breaker, pool, records, metrics). A rate limit is never a failure of the deliveries: they go back
 * unchanged. A refused message is retried alone, then degraded, then dead-lettered. A 5xx or no answer
 * is retried with backoff under the one retry policy, each delivery on its own count and age.
 */
export function settlePost(verdict: DiscordVerdict, batch: readonly PostedDelivery[], now: number, limits: RetryLimits, random: () => number = Math.random): PostSettlement {
  const ids = batch.map((d) => d.id);
  const base = { countsInWindow: false, breaker: 'neutral' as const, channelBlockedMs: null, quarantine: null, failure: null };
  switch (verdict.kind) {
    case 'sent':
      return {
        ...base,
        countsInWindow: true,
        breaker: 'success',
        attempt: { outcome: 'ok', error: null, rateLimitScope: null },
        // Every post asks Discord to wait for the message, so `sent` here always carries its id.
        actions: [{ do: 'mark-sent', ids, messageId: verdict.messageId ?? '' }],
      };
    case 'retry-after':
      return {
        ...base,
        channelBlockedMs: verdict.scope === 'shared' || verdict.scope === 'global' ? verdict.waitMs : null,
        attempt: { outcome: 'rate_limited', error: null, rateLimitScope: verdict.scope },
        actions: [{ do: 'release', ids, availableAt: now, countAttempt: false }],
      };
    case 'dead-webhook':
      return {
        ...base,
        quarantine: { reason: `Discord answered ${verdict.status}: ${verdict.detail.slice(0, 200)}`, gone: verdict.gone },
        failure: 'webhook_gone',
        attempt: { outcome: 'webhook_gone', error: verdict.detail, rateLimitScope: null },
        // Not the deliveries' fault: they go out through another webhook of the pool.
        actions: [{ do: 'release', ids, availableAt: now, countAttempt: false }],
      };
    case 'transient': {
      const actions = batch.map((d): QueueAction => {
        const next = decideRetry(limits, { failures: d.attempts + 1, createdAt: d.createdAt, now }, random);
        if (!next.retry) return { do: 'dead-letter', ids: [d.id], kind: 'exhausted', reason: `gave up after ${d.attempts + 1} attempts: ${verdict.error}`, discordError: null };
        return { do: 'release', ids: [d.id], availableAt: next.at, countAttempt: true, error: verdict.error };
      });
      const outcome = transientOutcome(verdict);
      return { ...base, countsInWindow: true, breaker: 'failure', failure: outcome, attempt: { outcome, error: verdict.detail, rateLimitScope: null }, actions };
    }
    case 'permanent-rejection': {
      if (verdict.reason !== 'invalid-message') {
        // Any other answer (405, 415, a success without a message id) will not change by retrying.
        return {
          ...base,
          failure: 'unexpected',
          attempt: { outcome: 'unexpected', error: verdict.detail, rateLimitScope: null },
          actions: [{ do: 'dead-letter', ids, kind: 'unexpected', reason: `unexpected answer ${verdict.status} from Discord`, discordError: verdict.detail }],
        };
      }
      const again = (renderLevel: number): QueueAction => ({ do: 'release', ids, availableAt: now, countAttempt: true, renderLevel, error: verdict.detail });
      const first = batch[0]!;
      const action: QueueAction =
        // Which alert Discord disliked is unknown: send each alone from now on, then in degraded form.
        batch.length > 1
          ? again(RENDER_LEVEL.solo)
          : first.renderLevel < RENDER_LEVEL.degraded
            ? again(RENDER_LEVEL.degraded)
            : { do: 'dead-letter', ids, kind: 'rejected', reason: `Discord rejected the message (${verdict.status}) even in degraded form`, discordError: verdict.detail };
      return { ...base, failure: 'rejected', attempt: { outcome: 'rejected', error: verdict.detail, rateLimitScope: null }, actions: [action] };
    }
  }
}
