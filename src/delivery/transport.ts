import type { RateLimitInfo } from './budget.js';

export type TransportResult =
  | { kind: 'ok'; status: number; messageId: string; rate: RateLimitInfo; latencyMs: number }
  | { kind: 'http'; status: number; body: string; rate: RateLimitInfo; latencyMs: number }
  | { kind: 'network'; error: string; timedOut: boolean; latencyMs: number };

export interface WebhookTarget {
  discordWebhookId: string;
  token: string;
}

/**
 * Sends one request to Discord and reports what happened; it never waits, retries or decides.
 * (The scheduler owns budgets and retries: no second hidden queue, as @discordjs/rest's would be.)
 * Errors never carry the URL, which holds the webhook token.
 */
export class DiscordTransport {
  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** Execute webhook with `wait=true`, so Discord answers with the message (and its id) or an error. */
  executeWebhook(target: WebhookTarget, body: unknown): Promise<TransportResult> {
    return this.request('POST', `${this.base(target)}?wait=true`, body, true);
  }

  /** Edits a message this webhook posted (only that webhook can). A 200 answer carries the message. */
  editMessage(target: WebhookTarget, messageId: string, body: unknown): Promise<TransportResult> {
    return this.request('PATCH', `${this.base(target)}/messages/${messageId}`, body, true);
  }

  /** Deletes a message this webhook posted. Discord answers 204; `ok` then carries the same message id. */
  async deleteMessage(target: WebhookTarget, messageId: string): Promise<TransportResult> {
    const result = await this.request('DELETE', `${this.base(target)}/messages/${messageId}`, undefined, false);
    return result.kind === 'ok' ? { ...result, messageId } : result;
  }

  private base(target: WebhookTarget): string {
    return `${this.apiUrl}/v10/webhooks/${target.discordWebhookId}/${target.token}`;
  }

  private async request(method: string, url: string, body: unknown, expectMessage: boolean): Promise<TransportResult> {
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          'user-agent': 'DiscordBot (https://github.com/herald, 0.1) Herald',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      const latencyMs = Math.round(performance.now() - started);
      const rate = parseRateLimit(res.headers, res.status === 429 ? text : undefined);
      if (res.ok) {
        if (!expectMessage) return { kind: 'ok', status: res.status, messageId: '', rate, latencyMs };
        const id = safeJson(text)?.id;
        if (typeof id === 'string') return { kind: 'ok', status: res.status, messageId: id, rate, latencyMs };
        return { kind: 'http', status: res.status, body: 'answer without a message id', rate, latencyMs };
      }
      return { kind: 'http', status: res.status, body: text.slice(0, 4000), rate, latencyMs };
    } catch (err) {
      const latencyMs = Math.round(performance.now() - started);
      const timedOut = err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { kind: 'network', error: timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(err), timedOut, latencyMs };
    }
  }
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

function describeNetworkError(err: unknown): string {
  // undici puts the useful part (ECONNREFUSED, ECONNRESET…) in `cause`; the message itself is just "fetch failed".
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message?.split('\n')[0] ?? 'network error';
}
