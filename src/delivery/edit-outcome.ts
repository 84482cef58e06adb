import type { DiscordVerdict } from '../discord/responses.js';
import { decideRetry, type RetryLimits } from '../domain/retry-policy.js';
import { transientOutcome } from './post-outcome.js';

/** What the outcome of an edit or delete needs to know of its message operation. */
export interface SettledOp {
  discordMessageId: string;
  via: 'webhook' | 'bot';
  /** Failed tries before this one. */
  attempts: number;
  createdAt: number;
}

/** What happens to a message operation after a request. */
export type OpAction =
  /** Finished, with this outcome (edited, deleted, unknown_message): never made again. */
  | { do: 'finish'; outcome: string }
  /** Back to the queue, ready at `availableAt`; `countAttempt` false for a wait that is no failure (a 429). */
  | { do: 'retry'; availableAt: number; countAttempt: boolean; error?: string }
  | { do: 'dead'; reason: string; discordError: string | null }
  /** The webhook that posted the message is gone: quarantine it, and hand the operation to the bot. */
  | { do: 'webhook-gone'; reason: string; gone: boolean };

export interface OpSettlement {
  action: OpAction;
  /** The attempts row of this request. */
  attempt: { outcome: string; error: string | null; rateLimitScope: string | null };
}

/**
 * Decides what Discord's answer to an edit or delete through the message's webhook means. Pure: the
 * runner applies it. `done` names what a success was (edited, deleted).
 */
export function settleEdit(verdict: DiscordVerdict, op: SettledOp, webhookId: number, done: 'edited' | 'deleted', now: number, limits: RetryLimits): OpSettlement {
  const attempt = (outcome: string, error: string | null = null, rateLimitScope: string | null = null) => ({ outcome, error, rateLimitScope });
  switch (verdict.kind) {
    case 'sent':
      return { action: { do: 'finish', outcome: done }, attempt: attempt(done) };
    case 'retry-after':
      // The bucket now waits as told; the operation itself is not at fault.
      return { action: { do: 'retry', availableAt: now + verdict.waitMs, countAttempt: false }, attempt: attempt('rate_limited', null, verdict.scope) };
    case 'dead-webhook':
      return {
        action: { do: 'webhook-gone', reason: `Discord answered ${verdict.status} for webhook ${webhookId}: ${verdict.detail.slice(0, 200)}`, gone: verdict.gone },
        attempt: attempt('webhook_gone', verdict.detail),
      };
    case 'transient':
      return { action: retryOrGiveUp(op, now, verdict.error, limits), attempt: attempt(transientOutcome(verdict), verdict.detail) };
    case 'permanent-rejection':
      // Someone deleted the message already: nothing left to edit.
      if (verdict.reason === 'unknown-message') return { action: { do: 'finish', outcome: 'unknown_message' }, attempt: attempt('unknown_message', verdict.detail) };
      return {
        action: { do: 'dead', reason: `Discord refused to ${done === 'deleted' ? 'delete' : 'edit'} message ${op.discordMessageId} (${verdict.status})`, discordError: verdict.detail },
        attempt: attempt('rejected', verdict.detail),
      };
  }
}

/** A failed try of an edit or delete (by webhook or bot): again after the backoff, or given up under the one retry policy. */
export function retryOrGiveUp(op: SettledOp, now: number, error: string, limits: RetryLimits, random: () => number = Math.random): Extract<OpAction, { do: 'retry' | 'dead' }> {
  const next = decideRetry(limits, { failures: op.attempts + 1, createdAt: op.createdAt, now }, random);
  if (next.retry) return { do: 'retry', availableAt: next.at, countAttempt: true, error };
  return { do: 'dead', reason: `gave up on ${op.via === 'bot' ? 'deleting' : 'editing'} message ${op.discordMessageId} after ${op.attempts + 1} attempts: ${error}`, discordError: null };
}
