import { scrubSecrets } from './secrets.js';
import { DISCORD_ERROR } from './limits.js';

/**
 * What Discord's answers mean, decided in one place for every request Herald makes through a webhook
 * (posts, edits, deletes). Pure: the transport reports what came back, this module judges it, and the
 * delivery lanes act on the verdict. The facts behind it (discord-api-docs topics/rate-limits and
 * opcodes-and-status-codes): a 429 carries its wait in `retry_after` (seconds, float) and Retry-After,
 * and its scope in X-RateLimit-Scope (`shared`: the channel's hidden cap, whatever the headers say);
 * a 404 (Unknown Webhook) or 401 (bad token) means the webhook is gone, and hammering it gets the client
 * restricted; a 400 `{"code":50035}` rejects the message itself; a 5xx or no answer may go away by retrying.
 */

export type RateLimitScope = 'user' | 'global' | 'shared';

/** What Discord's rate-limit headers said. */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  resetAfterMs?: number;
  bucket?: string;
  /** From a 429: how long to wait, and whose limit it was. */
  retryAfterMs?: number;
  scope?: RateLimitScope;
}

/** What came back from one request, not judged yet: an answer, or none (refused connection, timeout). */
export type DiscordAnswer = { kind: 'answered'; status: number; headers: Headers; body: string } | { kind: 'network'; error: string; timedOut: boolean };

/** The request the answer is to: only a request naming a message can meet Unknown Message. */
export type WebhookRequest = 'execute' | 'edit' | 'delete';

/** The longest part of Discord's error body kept (for the attempts row and dead letters). */
const DETAIL_MAX = 4000;

/** What an answer means. `rate` always holds what the headers said (empty without an answer), for the webhook's bucket. */
export type DiscordVerdict =
  /** Done. `messageId`: the message posted or edited (null for a delete). */
  | { kind: 'sent'; status: number; messageId: string | null; rate: RateLimitInfo }
  /** Rate limited: nothing is wrong with the request; wait `waitMs`. A `shared` or `global` scope is the channel's (or the app's) limit, not the webhook's. */
  | { kind: 'retry-after'; status: 429; waitMs: number; scope: RateLimitScope; rate: RateLimitInfo }
  /** The webhook cannot be used: 404 and 401 mean it is `gone` (deleted, token wrong); 403 that it may not post here. */
  | { kind: 'dead-webhook'; status: 401 | 403 | 404; gone: boolean; detail: string; rate: RateLimitInfo }
  /**
   * Sending the same again cannot succeed. `invalid-message`: Discord refused the body (400, 413);
   * `unknown-message`: the message to edit or delete no longer exists; `unexpected`: any other answer.
   */
  | { kind: 'permanent-rejection'; reason: 'invalid-message' | 'unknown-message' | 'unexpected'; status: number; detail: string; rate: RateLimitInfo }
  /**
   * May succeed later: a 5xx, or no answer at all (then Discord may or may not have acted on it).
   * `error` is the short sentence kept on the queued row; `detail` what Discord said.
   */
  | { kind: 'transient'; cause: 'server-error' | 'timeout' | 'network'; status: number | null; error: string; detail: string; rate: RateLimitInfo };

export function classifyResponse(answer: DiscordAnswer, request: WebhookRequest): DiscordVerdict {
  if (answer.kind === 'network') {
    return { kind: 'transient', cause: answer.timedOut ? 'timeout' : 'network', status: null, error: answer.error, detail: answer.error, rate: {} };
  }
  const { status, headers, body } = answer;
  const rate = parseRateLimit(headers, status === 429 ? body : undefined);
  if (status >= 200 && status < 300) {
    if (request === 'delete') return { kind: 'sent', status, messageId: null, rate };
    // With wait=true (and on an edit) Discord answers with the message; without its id nothing can edit it later.
    const id = safeJson(body)?.id;
    if (typeof id === 'string') return { kind: 'sent', status, messageId: id, rate };
    return { kind: 'permanent-rejection', reason: 'unexpected', status, detail: 'answer without a message id', rate };
  }
  if (status === 429) return { kind: 'retry-after', status, waitMs: rate.retryAfterMs ?? 1000, scope: rate.scope ?? 'user', rate };
  const detail = scrubSecrets(body.slice(0, DETAIL_MAX));
  if (status === 404 && request !== 'execute' && discordErrorCode(body) === DISCORD_ERROR.unknownMessage) {
    return { kind: 'permanent-rejection', reason: 'unknown-message', status, detail, rate };
  }
  if (status === 401 || status === 403 || status === 404) return { kind: 'dead-webhook', status, gone: status !== 403, detail, rate };
  if (status === 400 || status === 413) return { kind: 'permanent-rejection', reason: 'invalid-message', status, detail, rate };
  if (status >= 500) return { kind: 'transient', cause: 'server-error', status, error: `Discord answered ${status}`, detail, rate };
  // Any other answer (405, 415, a 3xx…) will not change by retrying.
  return { kind: 'permanent-rejection', reason: 'unexpected', status, detail, rate };
}

/** Discord's JSON error code from an error body (10008 Unknown Message, 10015 Unknown Webhook…), if any. */
export function discordErrorCode(body: string): number | undefined {
  const code = safeJson(body)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Reads X-RateLimit-* headers and, for a 429, `retry_after` (seconds, float) from the body or Retry-After. */
export function parseRateLimit(headers: Headers, body429?: string): RateLimitInfo {
  const num = (name: string) => {
    const v = headers.get(name);
    if (v === null) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const info: RateLimitInfo = {};
  const limit = num('x-ratelimit-limit');
  const remaining = num('x-ratelimit-remaining');
  const resetAfter = num('x-ratelimit-reset-after');
  if (limit !== undefined) info.limit = limit;
  if (remaining !== undefined) info.remaining = remaining;
  if (resetAfter !== undefined) info.resetAfterMs = Math.ceil(resetAfter * 1000);
  const bucket = headers.get('x-ratelimit-bucket');
  if (bucket) info.bucket = bucket;
  if (body429 !== undefined) {
    const parsed = safeJson(body429);
    const scopeHeader = headers.get('x-ratelimit-scope');
    const scope = scopeHeader === 'shared' || scopeHeader === 'global' ? scopeHeader : parsed?.global === true ? 'global' : 'user';
    const seconds = typeof parsed?.retry_after === 'number' ? parsed.retry_after : (num('retry-after') ?? 1);
    info.retryAfterMs = Math.ceil(seconds * 1000);
    info.scope = scope;
  }
  return info;
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
