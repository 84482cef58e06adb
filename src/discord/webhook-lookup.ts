/** What Discord says about a webhook URL before Herald takes it into a pool. */
export type WebhookLookup =
  | { kind: 'found'; channelId: string }
  /** 404 Unknown Webhook or 401 Invalid Webhook Token: the URL cannot post anything. */
  | { kind: 'unknown' }
  /** Discord could not be asked (network, timeout, 5xx, 429): nothing is known. */
  | { kind: 'unreachable'; reason: string };

/**
 * `GET /webhooks/{id}/{token}` (no auth: the token is the credential) answers the webhook object,
 * whose `channel_id` is where the webhook posts. The reason in an answer never carries the URL (it holds the token).
 */
export async function lookUpWebhook(apiUrl: string, hook: { discordWebhookId: string; token: string }, timeoutMs: number): Promise<WebhookLookup> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/v10/webhooks/${hook.discordWebhookId}/${hook.token}`, {
      headers: { 'user-agent': 'DiscordBot (https://github.com/herald, 0.1) Herald' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return { kind: 'unreachable', reason: timedOut ? `no answer within ${timeoutMs} ms` : 'the connection failed' };
  }
  const text = await res.text().catch(() => '');
  if (res.status === 404 || res.status === 401) return { kind: 'unknown' };
  if (!res.ok) return { kind: 'unreachable', reason: `Discord answered ${res.status}` };
  try {
    const body = JSON.parse(text) as { channel_id?: unknown };
    if (typeof body.channel_id === 'string') return { kind: 'found', channelId: body.channel_id };
  } catch {
    // fall through: an answer without a channel is as good as none
  }
  return { kind: 'unreachable', reason: 'Discord answered without the webhook\'s channel' };
}
