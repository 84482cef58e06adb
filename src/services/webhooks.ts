import { and, asc, eq, ne } from 'drizzle-orm';
import { z } from 'zod';
import { channels, webhooks } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { maskUrl } from '../log.js';
import { ServiceError, conflict, invalid, notFound } from './errors.js';

export const webhookInput = z.strictObject({
  url: z.string().trim().min(1).max(512).describe('The webhook URL from Discord (Channel settings → Integrations → Webhooks → Copy Webhook URL)'),
  owner: z
    .enum(['app', 'external'])
    .optional()
    .describe('"app" for webhooks created by Herald\'s bot (can send buttons), "external" for pasted ones (default)'),
});
export type WebhookInput = z.output<typeof webhookInput>;

export interface WebhookView {
  id: number;
  channel_id: number;
  discord_webhook_id: string;
  /** Where Herald sends, with the token replaced by ****. */
  url_masked: string;
  owner: 'app' | 'external';
  state: 'active' | 'retired' | 'quarantined' | 'removed';
  breaker_state: 'closed' | 'open' | 'half_open';
  last_error: string | null;
  created_at: number;
}

/** Hosts Discord serves webhooks on; the configured DISCORD_API_URL host is accepted too (emulator, proxy). */
const DISCORD_HOSTS = new Set(['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com']);
const WEBHOOK_PATH = /^(.*)\/webhooks\/(\d{17,20})\/([A-Za-z0-9_-]{20,100})\/?$/;
const DISCORD_PREFIX = /^\/api(\/v\d+)?$/;
/** Discord's limit per channel. */
export const MAX_WEBHOOKS_PER_CHANNEL = 15;
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

type Deps = Pick<Herald, 'db' | 'config' | 'scheduler'>;
type Row = typeof webhooks.$inferSelect;

function view(h: Pick<Herald, 'config'>, w: Row): WebhookView {
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
  };
}

/**
 * Adds a webhook to a channel's pool. A Discord webhook belongs to one pool at a time (409 otherwise);
 * one removed earlier is brought back, so its past deliveries keep pointing at the same row.
 */
export function addWebhook(h: Deps, channelId: number, input: WebhookInput): WebhookView {
  const { discordWebhookId, token } = parseWebhookUrl(input.url, h.config.discord.apiUrl);
  const owner = input.owner ?? 'external';
  const row = h.db.transaction((tx) => {
    if (!tx.select({ id: channels.id }).from(channels).where(eq(channels.id, channelId)).get()) throw notFound('channel', channelId);
    const existing = tx.select().from(webhooks).where(eq(webhooks.discordWebhookId, discordWebhookId)).get();
    if (existing && existing.state !== 'removed') {
      throw conflict(`Discord webhook ${discordWebhookId} is already in the pool of channel ${existing.channelId} (as webhook ${existing.id})`);
    }
    const pool = tx.select({ id: webhooks.id }).from(webhooks).where(and(eq(webhooks.channelId, channelId), ne(webhooks.state, 'removed'))).all();
    if (pool.length >= MAX_WEBHOOKS_PER_CHANNEL) {
      throw conflict(`channel ${channelId} already has ${pool.length} webhooks; Discord allows at most ${MAX_WEBHOOKS_PER_CHANNEL} per channel`);
    }
    const fresh = { channelId, token, owner, state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null } as const;
    if (existing) return tx.update(webhooks).set(fresh).where(eq(webhooks.id, existing.id)).returning().get();
    return tx.insert(webhooks).values({ ...fresh, discordWebhookId }).returning().get();
  });
  h.scheduler.reloadPool(channelId);
  return view(h, row);
}

export function listWebhooks(h: Pick<Herald, 'db' | 'config'>, channelId: number, opts: { includeRemoved?: boolean } = {}): WebhookView[] {
  if (!h.db.select({ id: channels.id }).from(channels).where(eq(channels.id, channelId)).get()) throw notFound('channel', channelId);
  return h.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.channelId, channelId), opts.includeRemoved ? undefined : ne(webhooks.state, 'removed')))
    .orderBy(asc(webhooks.id))
    .all()
    .map((w) => view(h, w));
}

export function getWebhook(h: Pick<Herald, 'db' | 'config'>, id: number): WebhookView {
  const w = h.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
  if (!w) throw notFound('webhook', id);
  return view(h, w);
}

/** Takes a webhook out of its pool for good. The row stays (state removed) so past deliveries keep their reference. */
export function removeWebhook(h: Deps, id: number): void {
  const w = h.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
  if (!w || w.state === 'removed') throw notFound('webhook', id);
  h.db.update(webhooks).set({ state: 'removed' }).where(eq(webhooks.id, id)).run();
  h.scheduler.reloadPool(w.channelId);
}

/** Puts a quarantined webhook (or one whose breaker is open) back in rotation with a closed breaker. */
export function restoreWebhook(h: Deps & Pick<Herald, 'webhooks'>, id: number): WebhookView {
  const w = h.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
  if (!w) throw notFound('webhook', id);
  if (w.state === 'removed') throw new ServiceError(409, 'conflict', `webhook ${id} was removed; add its URL to the channel again`);
  const row = h.db
    .update(webhooks)
    .set({ state: 'active', breakerState: 'closed', breakerFailures: 0, breakerOpenedAt: null, lastError: null })
    .where(eq(webhooks.id, id))
    .returning()
    .get();
  if (w.state === 'quarantined') {
    h.webhooks.recordEvent('webhook_restored', `webhook ${id} put back in the pool of channel ${w.channelId} by an admin`, Date.now(), {
      channelId: w.channelId,
      webhookId: id,
    });
  }
  h.scheduler.reloadPool(w.channelId);
  return view(h, row);
}
