import type { DiscordAnswer } from '../discord/responses.js';

/** What came back from one request (judged by `classifyResponse`), and how long it took. */
export type TransportResult = DiscordAnswer & { latencyMs: number };

export interface WebhookTarget {
  discordWebhookId: string;
  token: string;
}

/**
 * Sends one request to Discord and reports what came back; it never waits, retries or decides
 * (src/discord/responses.ts judges the answer; the scheduler owns budgets and retries: no second
 * hidden queue, as @discordjs/rest's would be).
 * Errors never carry the URL, which holds the webhook token.
 */
export class DiscordTransport {
  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** Execute webhook with `wait=true`, so Discord answers with the message (and its id) or an error. */
  executeWebhook(target: WebhookTarget, body: unknown, threadId?: string): Promise<TransportResult> {
    return this.request('POST', `${this.base(target)}?wait=true${inThread(threadId, '&')}`, body);
  }

  /** Edits a message this webhook posted (only that webhook can). A 200 answer carries the message. `threadId`: the message is in that thread. */
  editMessage(target: WebhookTarget, messageId: string, body: unknown, threadId?: string): Promise<TransportResult> {
    return this.request('PATCH', `${this.base(target)}/messages/${messageId}${inThread(threadId, '?')}`, body);
  }

  /** Deletes a message this webhook posted. Discord answers 204. */
  deleteMessage(target: WebhookTarget, messageId: string, threadId?: string): Promise<TransportResult> {
    return this.request('DELETE', `${this.base(target)}/messages/${messageId}${inThread(threadId, '?')}`, undefined);
  }

  private base(target: WebhookTarget): string {
    return `${this.apiUrl}/v10/webhooks/${target.discordWebhookId}/${target.token}`;
  }

  private async request(method: string, url: string, body: unknown): Promise<TransportResult> {
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
      return { kind: 'answered', status: res.status, headers: res.headers, body: text, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      const latencyMs = Math.round(performance.now() - started);
      const timedOut = err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { kind: 'network', error: timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(err), timedOut, latencyMs };
    }
  }
}

/** A message in a thread is named with its thread: `?thread_id=` (Discord ids are digits only, safe in a URL). */
const inThread = (threadId: string | undefined, sep: '?' | '&'): string => (threadId ? `${sep}thread_id=${threadId}` : '');

function describeNetworkError(err: unknown): string {
  // undici puts the useful part (ECONNREFUSED, ECONNRESET…) in `cause`; the message itself is just "fetch failed".
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message?.split('\n')[0] ?? 'network error';
}
