import type * as DiscordRest from '@discordjs/rest';
import { scrubSecrets } from './secrets.js';
import { ServiceError } from '../domain/errors.js';

/**
 * A failed bot request, as a ServiceError a person can read (never the token, never a stack), with
 * what the caller needs to decide: Discord's HTTP status and JSON code, and for a 429 how long to wait.
 */
export class BotRestError extends ServiceError {
  constructor(
    status: number,
    message: string,
    readonly discordStatus: number | null,
    readonly discordCode: number | null,
    readonly retryAfterMs: number | null,
  ) {
    super(status, 'discord_error', message);
  }

  get rateLimited(): boolean {
    return this.retryAfterMs !== null;
  }
}

/**
 * The bot's own REST calls (Authorization: Bot <token>), over @discordjs/rest. `rejectOnRateLimit`
 * and `retries: 0` make every 429 and every failure come straight back: Herald's own retry logic
 * decides, and no second hidden queue waits inside the library (docs/delivery.md, guarantee 3).
 */
/**
 * @discordjs/rest is loaded on first use: a Herald without a bot token never loads it (it and its
 * HTTP stack are some 15 MB of resident memory).
 */
let restLib: Promise<typeof DiscordRest> | undefined;
const loadRest = (): Promise<typeof DiscordRest> => (restLib ??= import('@discordjs/rest'));

export class BotRest {
  private rest: Promise<DiscordRest.REST> | undefined;

  constructor(private readonly opts: { apiUrl: string; token: string; timeoutMs?: number }) {}

  private client(): Promise<DiscordRest.REST> {
    const { apiUrl, token, timeoutMs } = this.opts;
    return (this.rest ??= loadRest().then(({ REST }) => new REST({ api: apiUrl, rejectOnRateLimit: () => true, retries: 0, timeout: timeoutMs ?? 15_000 }).setToken(token)));
  }

  async createWebhook(channelId: string, name: string): Promise<{ id: string; token: string }> {
    const w = (await this.call('create a webhook in channel ' + channelId, (rest) => rest.post(`/channels/${channelId}/webhooks`, { body: { name } }))) as {
      id?: unknown;
      token?: unknown;
    };
    if (typeof w?.id !== 'string' || typeof w?.token !== 'string') {
      throw new BotRestError(502, 'Discord created the webhook but did not return its id and token', null, null, null);
    }
    return { id: w.id, token: w.token };
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    await this.call('delete webhook ' + webhookId, (rest) => rest.delete(`/webhooks/${webhookId}`));
  }

  /** Deletes any message in a channel of the guild (the bot needs Manage Messages): the fallback when its webhook is gone. */
  async deleteChannelMessage(channelId: string, messageId: string): Promise<void> {
    await this.call(`delete message ${messageId}`, (rest) => rest.delete(`/channels/${channelId}/messages/${messageId}`));
  }

  /**
   * Starts a public thread from a message (Start Thread from Message; the bot needs Create Public Threads).
   * Returns the thread's id, which Discord makes the message's. Archived after a day without activity; a post
   * into it unarchives it.
   */
  async startThreadFromMessage(channelId: string, messageId: string, name: string): Promise<string> {
    const t = (await this.call(`start a thread from message ${messageId}`, (rest) =>
      rest.post(`/channels/${channelId}/messages/${messageId}/threads`, { body: { name, auto_archive_duration: 1440 } }),
    )) as { id?: unknown };
    return typeof t?.id === 'string' ? t.id : messageId;
  }

  private async call<T>(what: string, request: (rest: DiscordRest.REST) => Promise<T>): Promise<T> {
    const [lib, rest] = await Promise.all([loadRest(), this.client()]);
    try {
      return await request(rest);
    } catch (err) {
      throw toBotRestError(what, err, lib);
    }
  }
}

/** Turns what @discordjs/rest throws into one plain sentence (and the facts a retry needs). */
export function toBotRestError(what: string, err: unknown, lib: typeof DiscordRest): BotRestError {
  const { DiscordAPIError, HTTPError, RateLimitError } = lib;
  if (err instanceof RateLimitError) {
    const waitMs = Math.max(0, Math.ceil(err.retryAfter || err.timeToReset || 1000));
    return new BotRestError(503, `Discord rate-limited the bot (${err.scope ?? (err.global ? 'global' : 'user')}); could not ${what}; try again in ${Math.ceil(waitMs / 1000)} s`, 429, null, waitMs);
  }
  if (err instanceof DiscordAPIError) {
    const code = typeof err.code === 'number' ? err.code : null;
    const status = err.status === 401 || err.status === 403 ? 502 : err.status === 404 ? 404 : err.status >= 500 ? 502 : 400;
    const hint = err.status === 401 ? ' (is DISCORD_TOKEN right?)' : err.status === 403 ? ' (does the bot have the permission in that channel?)' : '';
    return new BotRestError(status, `Discord refused to ${what}: ${scrubSecrets(err.message)}${hint}`, err.status, code, null);
  }
  if (err instanceof HTTPError) return new BotRestError(502, `Discord answered ${err.status} when asked to ${what}`, err.status, null, null);
  const cause = (err as { cause?: { code?: string } })?.cause?.code;
  const name = (err as { name?: string })?.name;
  const reason = name === 'AbortError' || name === 'TimeoutError' ? 'no answer in time' : (cause ?? 'network error');
  return new BotRestError(502, `could not reach Discord to ${what}: ${reason}`, null, null, null);
}
