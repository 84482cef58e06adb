import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDiscordId } from '../discord/ids.js';
import { DISCORD_ERROR } from '../discord/limits.js';
import { snowflake } from '../discord/snowflake.js';
import type { Faults } from './faults.js';
import { rateLimitHeaders, tooManyRequests, type ChannelCap, type WebhookBuckets } from './ratelimit.js';
import type { EmulatorState, WebhookRecord } from './state.js';
import type { StatsRecorder } from './stats.js';
import type { GuildDirectory } from './guild.js';
import type { Interactions } from './interactions.js';
import { messageObject, webhookObject } from './objects.js';
import type { EmulatedMessage } from './types.js';
import { EMPTY_MESSAGE, applyMessageEdit, checkMessage, invalidFormBody, isEmptyMessage, parseJson, type DiscordFailure } from './validate.js';

/** What the Discord-shaped routes share; one set per emulator, used under both URL prefixes. */
export interface DiscordDeps {
  state: EmulatorState;
  guild: GuildDirectory;
  /** `/webhooks/{application id}/{interaction token}` is an interaction's webhook, answered there. */
  interactions: Interactions;
  buckets: WebhookBuckets;
  channelCap: ChannelCap;
  faults: Faults;
  stats: StatsRecorder;
  /** Aborted when the emulator closes: slow faults stop waiting. */
  closing: AbortSignal;
  /** Takes a request that will never be answered (hang fault) off fastify's hands; close() destroys its socket. */
  hold(req: FastifyRequest, reply: FastifyReply): void;
}

/** One answer, sent as is: the handlers compute it, the route sends it (or, for a lost reply, drops it). */
interface Outcome {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Params = { id: string; token: string; messageId?: string };
type Query = Record<string, string | undefined>;
type Op = (w: WebhookRecord, req: FastifyRequest<{ Params: Params; Querystring: Query }>, headers: Record<string, string>) => Outcome;

const UNKNOWN_WEBHOOK: DiscordFailure = { status: 404, body: { message: 'Unknown Webhook', code: DISCORD_ERROR.unknownWebhook } };
const INVALID_TOKEN: DiscordFailure = { status: 401, body: { message: 'Invalid Webhook Token', code: DISCORD_ERROR.invalidWebhookToken } };
const UNKNOWN_MESSAGE: DiscordFailure = { status: 404, body: { message: 'Unknown Message', code: DISCORD_ERROR.unknownMessage } };

/**
 * Discord's webhook routes (developers/resources/webhook.mdx), registered once per prefix (`/api/v10`, `/api`).
 * Every request goes: auth → injected fault → rate limits (per-webhook bucket, then the hidden per-channel
 * cap for message creates) → validation → effect. So a 429 is decided before the body is looked at, a
 * request refused with a 429 stores nothing, and a 400 costs bucket budget but no channel budget. A
 * shared-scope 429 does count against the webhook's bucket (the request reached the route), which is why
 * its headers show a budget that is not really there.
 */
export async function discordWebhookRoutes(app: FastifyInstance, opts: { deps: DiscordDeps }): Promise<void> {
  const d = opts.deps;

  /** Runs the shared pipeline, then `op`; `creates` marks message creation (the only thing the channel cap counts). */
  const route = (op: Op, creates = false) =>
    async function handler(req: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply): Promise<FastifyReply | void> {
      const w = d.state.webhook(req.params.id);
      if (!w) return send(reply, { ...UNKNOWN_WEBHOOK, headers: rateLimitHeaders(d.buckets.peek(req.params.id, Date.now())) });
      if (w.token !== req.params.token) return send(reply, { ...INVALID_TOKEN, headers: rateLimitHeaders(d.buckets.peek(w.id, Date.now())) });

      const fault = d.faults.take({ webhookId: w.id, channelId: w.channelId });
      if (fault?.kind === 'error') {
        return send(reply, { status: fault.status ?? 500, body: { message: 'Internal Server Error', code: 0 } });
      }
      if (fault?.kind === 'hang' && !fault.afterSave) return d.hold(req, reply);
      if (fault?.kind === 'slow') {
        if (!(await delay(fault.delayMs, d.closing))) return d.hold(req, reply);
        if (!d.state.webhook(w.id)) return send(reply, UNKNOWN_WEBHOOK); // deleted while we waited
      }

      const now = Date.now();
      const bucket = d.buckets.peek(w.id, now);
      let outcome: Outcome;
      if (bucket.remaining <= 0) {
        const limited = tooManyRequests(bucket.resetAfterMs, 'user');
        outcome = { status: 429, body: limited.body, headers: { ...rateLimitHeaders(bucket), ...limited.headers } };
      } else {
        const headers = rateLimitHeaders(d.buckets.take(w.id, now));
        const capWaitMs = creates ? d.channelCap.waitMs(w.channelId, now) : 0;
        if (capWaitMs > 0) {
          // The hidden cap: a shared-scope 429 while the webhook's own headers still show budget left.
          const limited = tooManyRequests(capWaitMs, 'shared');
          outcome = { status: 429, body: limited.body, headers: { ...headers, ...limited.headers } };
        } else {
          outcome = op(w, req, headers);
        }
      }
      // A lost reply: the request took effect (the message is stored) but its answer never comes.
      if (fault?.kind === 'hang') return d.hold(req, reply);
      return send(reply, outcome);
    };

  const execute: Op = (w, req, headers) => {
    const parsed = parseJson(req.body);
    if (!parsed.ok) return { ...parsed, headers };
    const threadId = req.query.thread_id;
    if (threadId !== undefined && !isDiscordId(threadId)) {
      return { ...invalidFormBody({ thread_id: { _errors: [{ code: 'NUMBER_TYPE_COERCE', message: `Value "${threadId}" is not snowflake.` }] } }), headers };
    }
    const checked = checkMessage(parsed.value, { mode: 'create', applicationOwned: w.applicationOwned, withComponents: isTrue(req.query.with_components) });
    if (!checked.ok) return { ...checked, headers };
    const input = checked.value;
    if (isEmptyMessage(input)) return { ...EMPTY_MESSAGE, headers };

    const now = Date.now();
    const message: EmulatedMessage = {
      id: snowflake(now),
      channelId: w.channelId,
      kind: 'webhook',
      webhookId: w.id,
      content: input.content ?? '',
      embeds: input.embeds ?? [],
      components: input.components ?? [],
      flags: input.flags ?? 0,
      username: input.username ?? w.name,
      createdAt: now,
      deleted: false,
    };
    if (input.allowedMentions !== undefined) message.allowedMentions = input.allowedMentions;
    if (threadId !== undefined) message.threadId = threadId;
    d.state.addMessage(message);
    d.channelCap.record(w.channelId, now);
    d.stats.messageCreated();
    // Without `wait` Discord answers 204 before the message is saved (so a failed save reports nothing).
    return isTrue(req.query.wait) ? { status: 200, body: messageObject(message, d.state, d.guild), headers } : { status: 204, headers };
  };

  /** The message, if this webhook posted it: Discord answers 10008 for anyone else's, as for a missing one. */
  const own = (w: WebhookRecord, messageId: string | undefined): EmulatedMessage | undefined => {
    const m = messageId === undefined ? undefined : d.state.message(messageId);
    return m && !m.deleted && m.webhookId === w.id ? m : undefined;
  };

  const getMessage: Op = (w, req, headers) => {
    const m = own(w, req.params.messageId);
    if (!m) return { ...UNKNOWN_MESSAGE, headers };
    return { status: 200, body: messageObject(m, d.state, d.guild), headers };
  };

  const editMessage: Op = (w, req, headers) => {
    const m = own(w, req.params.messageId);
    if (!m) return { ...UNKNOWN_MESSAGE, headers };
    const edited = applyMessageEdit(m, req.body, { applicationOwned: w.applicationOwned, withComponents: isTrue(req.query.with_components) });
    if (!edited.ok) return { ...edited, headers };
    return { status: 200, body: messageObject(m, d.state, d.guild), headers };
  };

  const deleteMessage: Op = (w, req, headers) => {
    const m = own(w, req.params.messageId);
    if (!m) return { ...UNKNOWN_MESSAGE, headers };
    m.deleted = true;
    return { status: 204, headers };
  };

  const getWebhook: Op = (w, _req, headers) => ({ status: 200, body: webhookObject(w, d.state), headers });

  const deleteWebhook: Op = (w, _req, headers) => {
    d.state.deleteWebhook(w.id);
    return { status: 204, headers };
  };

  // An interaction's webhook has the same path shape, with the application id as webhook id.
  type Req = FastifyRequest<{ Params: Params; Querystring: Query }>;
  const isInteraction = (req: Req) => req.params.id === d.state.applicationId;
  const interactionMessage = (method: 'GET' | 'PATCH' | 'DELETE') => (req: Req, reply: FastifyReply) =>
    send(reply, d.interactions.message(method, req.params.token, req.params.messageId ?? '', req.body));
  const either = (forInteraction: (req: Req, reply: FastifyReply) => unknown, forWebhook: (req: Req, reply: FastifyReply) => unknown) => async (req: Req, reply: FastifyReply) =>
    isInteraction(req) ? forInteraction(req, reply) : forWebhook(req, reply);
  const noSuchWebhook = (_req: Req, reply: FastifyReply) => send(reply, UNKNOWN_WEBHOOK);

  app.post('/webhooks/:id/:token', either((req, reply) => send(reply, d.interactions.followup(req.params.token, req.body)), route(execute, true)));
  app.get('/webhooks/:id/:token', either(noSuchWebhook, route(getWebhook)));
  app.delete('/webhooks/:id/:token', either(noSuchWebhook, route(deleteWebhook)));
  app.get('/webhooks/:id/:token/messages/:messageId', either(interactionMessage('GET'), route(getMessage)));
  app.patch('/webhooks/:id/:token/messages/:messageId', either(interactionMessage('PATCH'), route(editMessage)));
  app.delete('/webhooks/:id/:token/messages/:messageId', either(interactionMessage('DELETE'), route(deleteMessage)));
}

export function send(reply: FastifyReply, o: Outcome): FastifyReply {
  reply.code(o.status);
  if (o.headers) reply.headers(o.headers);
  return o.body === undefined ? reply.send() : reply.send(o.body);
}

/** Discord reads booleans in the query as true/false (and 1/0). */
function isTrue(v: string | undefined): boolean {
  return v === 'true' || v === '1' || v === 'True';
}

/** Resolves true after `ms`, or false as soon as the emulator closes (so close() never waits on a slow fault). */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
