import { z } from 'zod';
import { refuseIfManaged } from '../domain/managed.js';
import type { Config } from '../config.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { BotRest } from '../discord/bot-rest.js';
import type { Store } from '../store/index.js';
import type { NewMember, WebhookRow } from '../store/webhooks.js';
import { maskUrl } from '../log.js';
import { BotRestError } from '../discord/bot-rest.js';
import { DISCORD_ID_DIGITS, WEBHOOK_TOKEN_CHARS } from '../discord/ids.js';
import { lookUpWebhook } from '../discord/webhook-lookup.js';
import { ServiceError, conflict, invalid, notFound } from './errors.js';
import type { WebhookView } from './views.js';
export type { WebhookView } from './views.js';

export const webhookInput = z.strictObject({
  url: z.string().trim().min(1).max(512).describe('The webhook URL from Discord (Channel settings → Integrations → Webhooks → Copy Webhook URL)'),
  owner: z
    .enum(['app', 'external'])
    .optional()
    .describe('"app" for webhooks created by Herald\'s bot (can send buttons), "external" for pasted ones (default)'),
});
export type WebhookInput = z.output<typeof webhookInput>;

/** Hosts Discord serves webhooks on; the configured DISCORD_API_URL host is accepted too (emulator, proxy). */
const DISCORD_HOSTS = new Set(['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com']);
const WEBHOOK_PATH = new RegExp(String.raw`^(.*)/webhooks/(${DISCORD_ID_DIGITS})/(${WEBHOOK_TOKEN_CHARS})/?$`);
const DISCORD_PREFIX = /^\/api(\/v\d+)?$/;
const SHAPE = 'expected https://discord.com/api/webhooks/{id}/{token}';

/**
 * Checks a webhook URL and takes its id and token out of it. Every message names what is wrong
 * without repeating the URL: its path holds the token.
 */
export function parseWebhookUrl(raw: string, apiUrl: string): { discordWebhookId: string; token: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url', `not a URL; ${SHAPE}`);
  }
  const api = new URL(apiUrl);
  const configured = url.host === api.host;
  const discordHost = DISCORD_HOSTS.has(url.hostname) && url.port === '';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('url', `the URL must use https; ${SHAPE}`);
  if (!discordHost && !configured) {
    throw invalid('url', `host "${url.host}" is not Discord's; webhook URLs are on discord.com (or ${api.host}, the configured DISCORD_API_URL)`);
  }
  if (url.protocol === 'http:' && !(configured && api.protocol === 'http:')) throw invalid('url', `plain http is not allowed for ${url.host}; use https`);
  if (url.username || url.password) throw invalid('url', 'the URL must not contain a user name or password');
  if (url.search || url.hash) throw invalid('url', `the URL must end with the webhook token (no query string or fragment); ${SHAPE}`);
  const m = WEBHOOK_PATH.exec(url.pathname);
  if (!m || (discordHost && !DISCORD_PREFIX.test(m[1]!))) {
    throw invalid('url', `the path is not a webhook's path; ${SHAPE} (id: 17 to 20 digits, token: 20 to 100 letters, digits, "-" or "_")`);
  }
  return { discordWebhookId: m[2]!, token: m[3]! };
}

/** The configuration this module reads: the Discord API (masked URLs, pasted URLs' host, the lookup) and the delivery timeout and name. */
type ConfigDeps = { config: Pick<Config, 'discord' | 'delivery'> };
type Deps = { store: Pick<Store, 'webhooks' | 'channels'>; signals: Pick<CommitSignals, 'poolChanged'> } & ConfigDeps;
type ReadDeps = { store: Pick<Store, 'webhooks'> } & ConfigDeps;
type Row = WebhookRow;

function view(h: ConfigDeps, w: Row): WebhookView {
  return {
    id: w.id,
    channel_id: w.channelId,
    discord_webhook_id: w.discordWebhookId,
    url_masked: maskUrl(`${h.config.discord.apiUrl}/webhooks/${w.discordWebhookId}/token`),
    owner: w.owner,
    state: w.state,
    breaker_state: w.breakerState,
    last_error: w.lastError,
    created_at: w.createdAt,
    ...(w.managedBy ? { managed_by: w.managedBy } : {}),
  };
}

/**
 * Asks Discord where a pasted webhook posts, and refuses it unless that is the Herald channel's Discord
 * channel: a webhook of another channel would send this channel's alerts (and its buttons) elsewhere.
 */
async function checkWebhookChannel(h: ConfigDeps, channel: { id: number; discordChannelId: string }, hook: { discordWebhookId: string; token: string }): Promise<void> {
  const found = await lookUpWebhook(h.config.discord.apiUrl, hook, h.config.delivery.requestTimeoutMs);
  if (found.kind === 'unknown') {
    throw invalid('url', `Discord does not know webhook ${hook.discordWebhookId} (deleted, or its token is wrong); copy the URL again from Discord`);
  }
  if (found.kind === 'unreachable') {
    throw new ServiceError(502, 'discord_unavailable', `could not check webhook ${hook.discordWebhookId} with Discord (${found.reason}); try again`);
  }
  if (found.channelId !== channel.discordChannelId) {
    throw invalid(
      'url',
      `webhook ${hook.discordWebhookId} posts to Discord channel ${found.channelId}, but Herald channel ${channel.id} is Discord channel ${channel.discordChannelId}; ` +
        'use a webhook of that channel',
    );
  }
}

/**
 * Adds a webhook to a channel's pool, once Discord has confirmed it posts to this channel. A Discord
 * webhook belongs to one pool at a time (409 otherwise); one removed earlier is brought back, so its
 * past deliveries keep pointing at the same row.
 */
export async function addWebhook(h: Deps, channelId: number, input: WebhookInput): Promise<WebhookView> {
  const { discordWebhookId, token } = parseWebhookUrl(input.url, h.config.discord.apiUrl);
  const channel = await h.store.channels.row(channelId);
  // What Herald can refuse on its own is refused before Discord is asked; checked again in the transaction.
  await h.store.webhooks.checkJoin(channelId, discordWebhookId);
  await checkWebhookChannel(h, channel, { discordWebhookId, token });
  const row = await h.store.webhooks.join(channelId, { discordWebhookId, token, owner: input.owner ?? 'external' });
  h.signals.poolChanged(channelId);
  return view(h, row);
}

export async function listWebhooks(h: ReadDeps, channelId: number, opts: { includeRemoved?: boolean } = {}): Promise<WebhookView[]> {
  return (await h.store.webhooks.list(channelId, opts)).map((w) => view(h, w));
}

export async function getWebhook(h: ReadDeps, id: number): Promise<WebhookView> {
  const w = await h.store.webhooks.find(id);
  if (!w) throw notFound('webhook', id);
  return view(h, w);
}

/** Takes a webhook out of its pool for good, wiping its token. The row stays (state removed) so past deliveries keep their reference. */
export async function removeWebhook(h: Deps, id: number): Promise<void> {
  const w = await h.store.webhooks.find(id);
  if (!w || w.state === 'removed') throw notFound('webhook', id);
  refuseIfManaged(w.managedBy, `webhook ${id}`);
  await h.store.webhooks.forget(id, Date.now());
  h.signals.poolChanged(w.channelId);
}

/** Puts a quarantined webhook (or one whose breaker is open) back in rotation with a closed breaker. */
export async function restoreWebhook(h: Deps, id: number): Promise<WebhookView> {
  const w = await h.store.webhooks.find(id);
  if (!w) throw notFound('webhook', id);
  if (w.state === 'removed') throw new ServiceError(409, 'conflict', `webhook ${id} was removed; add its URL to the channel again`);
  if (w.state === 'retired') throw conflict(`webhook ${id} was rotated out (retired); it only edits its own messages now`);
  const row = await h.store.webhooks.restore(id);
  if (w.state === 'quarantined') {
    await h.store.webhooks.recordEvent('webhook_restored', `webhook ${id} put back in the pool of channel ${w.channelId} by an admin`, Date.now(), {
      channelId: w.channelId,
      webhookId: id,
    });
  }
  h.signals.poolChanged(w.channelId);
  return view(h, row);
}

// ---------------------------------------------------------------------------------------------
// Bot-managed webhooks and rotation (async: they call Discord through the bot)

/** The bot's REST client (creates and deletes webhooks), absent without DISCORD_TOKEN. */
type BotDeps = Deps & { bot: Pick<BotRest, 'createWebhook' | 'deleteWebhook'> | undefined };

const noBot = (what: string) =>
  new ServiceError(503, 'bot_not_configured', `${what} needs Herald's bot: set DISCORD_TOKEN (a bot with Manage Webhooks in the channel)`);

/** The bot creates a webhook; if storing it then fails, the bot deletes it again so none is left behind on Discord. */
async function withBotWebhook<T>(h: BotDeps, discordChannelId: string, name: string, store: (hook: { id: string; token: string }) => Promise<T>): Promise<T> {
  const bot = h.bot!;
  const hook = await bot.createWebhook(discordChannelId, name);
  try {
    // Awaited here, so a failure to store it (now a rejection) still deletes the webhook on Discord.
    return await store(hook);
  } catch (err) {
    await bot.deleteWebhook(hook.id).catch(() => undefined);
    throw err;
  }
}

/**
 * Has the bot create an application-owned webhook in the channel (POST /channels/{id}/webhooks) and adds
 * it to the pool: messages it posts can carry buttons. 503 without a bot token.
 */
export async function createAppWebhook(h: BotDeps, channelId: number, opts: { name?: string } = {}): Promise<WebhookView> {
  const channel = await h.store.channels.row(channelId);
  if (!h.bot) throw noBot('creating a webhook');
  await h.store.webhooks.checkRoom(channelId);
  const row = await withBotWebhook(h, channel.discordChannelId, opts.name ?? h.config.delivery.username, (hook) => h.store.webhooks.addCreated(channelId, hook));
  h.signals.poolChanged(channelId);
  return view(h, row);
}

/**
 * Replaces a webhook in its pool: the new member (the pasted `url`, else one the bot creates) joins
 * before the old one is retired, so no alert waits. Sends already in flight on the old webhook finish
 * and are recorded as usual (nothing lost, nothing posted twice); the retired webhook posts nothing new
 * but keeps editing and deleting the messages it posted (only it can).
 */
export async function rotateWebhook(h: BotDeps, webhookId: number, opts: { url?: string } = {}): Promise<{ added: WebhookView; retired: WebhookView }> {
  const old = await h.store.webhooks.find(webhookId);
  if (!old || old.state === 'removed') throw notFound('webhook', webhookId);
  refuseIfManaged(old.managedBy, `webhook ${webhookId}`);
  if (old.state === 'retired') throw conflict(`webhook ${webhookId} is already retired`);
  const channel = await h.store.channels.row(old.channelId);
  const swap = (m: NewMember) => h.store.webhooks.rotate(webhookId, old.channelId, m, Date.now());
  let result: { added: Row; retired: Row };
  if (opts.url !== undefined) {
    const pasted = parseWebhookUrl(opts.url, h.config.discord.apiUrl);
    await checkWebhookChannel(h, channel, pasted);
    result = await swap({ ...pasted, owner: 'external' });
  } else {
    if (!h.bot) throw noBot('rotating without a pasted url');
    await h.store.webhooks.checkRoom(old.channelId);
    result = await withBotWebhook(h, channel.discordChannelId, h.config.delivery.username, (hook) => swap({ discordWebhookId: hook.id, token: hook.token, owner: 'app' }));
  }
  // One pool rebuild: the new member is in and the old one out at the same moment.
  h.signals.poolChanged(old.channelId);
  return { added: view(h, result.added), retired: view(h, result.retired) };
}

/**
 * Deletes a retired webhook on Discord (through the bot) and marks it removed. Later edits of its
 * messages fall back to the bot (delete, and repost unless retracted).
 */
export async function deleteRetiredWebhook(h: BotDeps, webhookId: number): Promise<void> {
  const w = await h.store.webhooks.find(webhookId);
  if (!w || w.state === 'removed') throw notFound('webhook', webhookId);
  if (w.state !== 'retired') throw conflict(`webhook ${webhookId} is ${w.state}; rotate it out first (only retired webhooks are deleted)`);
  if (!h.bot) throw noBot('deleting a webhook on Discord');
  try {
    await h.bot.deleteWebhook(w.discordWebhookId);
  } catch (err) {
    // Already gone on Discord: the goal is reached.
    if (!(err instanceof BotRestError && err.discordStatus === 404)) throw err;
  }
  await h.store.webhooks.forget(webhookId, Date.now(), 'deleted on Discord after rotation');
  h.signals.poolChanged(w.channelId);
}
