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
import { changeRefusal, threadOf, THREAD_FAILURE, webhookPlacement } from './threads.js';
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
  /** True: a thread's messages count against its parent channel's hidden cap; false: each thread has its own. */
  threadMessagesCountAgainstParent: boolean;
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

  /**
   * The hidden cap's bucket a message create counts in: the webhook's channel, or with the per-thread
   * setting, the thread `?thread_id=` names. A new forum post (thread_name) counts against the forum.
   */
  const capBucket = (w: WebhookRecord, req: FastifyRequest<{ Querystring: Query }>): string => {
    const threadId = req.query.thread_id;
    return !d.threadMessagesCountAgainstParent && threadId !== undefined && isDiscordId(threadId) ? threadId : w.channelId;
  };

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
        const capWaitMs = creates ? d.channelCap.waitMs(capBucket(w, req), now) : 0;
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
    const channel = d.state.channel(w.channelId);
    if (!channel) return { ...UNKNOWN_WEBHOOK, headers }; // a webhook outlives no channel, but be safe
    const placed = webhookPlacement(d.state, channel, threadId, (parsed.value as { thread_name?: unknown }).thread_name);
    if (!placed.ok) return { ...placed, headers };

    const now = Date.now();
    const id = snowflake(now);
    let inThread = placed.thread?.id;
    if (placed.thread?.archived) d.state.updateThread(placed.thread.id, { archived: false }, now); // a post unarchives
    // A forum post: the thread and its first message share one id, and the webhook is the thread's owner.
    if (placed.createName !== undefined) inThread = d.state.createThread({ parentId: channel.id, name: placed.createName, ownerId: w.id, id }, now).id;
    const message: EmulatedMessage = {
      id,
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
    if (inThread !== undefined) message.threadId = inThread;
    d.state.addMessage(message);
    d.channelCap.record(capBucket(w, req), now);
    d.stats.messageCreated();
    // Without `wait` Discord answers 204 before the message is saved (so a failed save reports nothing).
    return isTrue(req.query.wait) ? { status: 200, body: messageObject(message, d.state, d.guild), headers } : { status: 204, headers };
  };

  /**
   * The message, if this webhook posted it, where `?thread_id=` says it is: a message in a thread is found
   * only with its thread's id (Discord answers 10008 without it), one outside only without. Discord answers
   * 10008 for anyone else's message too, as for a missing one; a thread_id that is not one of the webhook's
   * channel's threads is 400 Unknown Channel.
   */
  const own = (w: WebhookRecord, req: FastifyRequest<{ Params: Params; Querystring: Query }>): { m: EmulatedMessage } | DiscordFailure => {
    const threadId = req.query.thread_id;
    if (threadId !== undefined) {
      if (!isDiscordId(threadId)) return invalidFormBody({ thread_id: { _errors: [{ code: 'NUMBER_TYPE_COERCE', message: `Value "${threadId}" is not snowflake.` }] } });
      if (!threadOf(d.state, w.channelId, threadId)) return THREAD_FAILURE.unknownThread;
    }
    const messageId = req.params.messageId;
    const m = messageId === undefined ? undefined : d.state.message(messageId);
    return m && !m.deleted && m.webhookId === w.id && m.threadId === threadId ? { m } : UNKNOWN_MESSAGE;
  };
  /** What the message's thread (if any) refuses: edits in archived or locked threads, deletes in archived locked ones. */
  const threadRefusal = (m: EmulatedMessage, action: 'edit' | 'delete'): DiscordFailure | undefined => {
    const t = m.threadId === undefined ? undefined : d.state.thread(m.threadId);
    return t && changeRefusal(t, action, false);
  };

  const getMessage: Op = (w, req, headers) => {
    const found = own(w, req);
    if (!('m' in found)) return { ...found, headers };
    return { status: 200, body: messageObject(found.m, d.state, d.guild), headers };
  };

  const editMessage: Op = (w, req, headers) => {
    const found = own(w, req);
    if (!('m' in found)) return { ...found, headers };
    const m = found.m;
    const refused = threadRefusal(m, 'edit');
    if (refused) return { ...refused, headers };
    const edited = applyMessageEdit(m, req.body, { applicationOwned: w.applicationOwned, withComponents: isTrue(req.query.with_components) });
    if (!edited.ok) return { ...edited, headers };
    return { status: 200, body: messageObject(m, d.state, d.guild), headers };
  };

  const deleteMessage: Op = (w, req, headers) => {
    const found = own(w, req);
    if (!('m' in found)) return { ...found, headers };
    const refused = threadRefusal(found.m, 'delete');
    if (refused) return { ...refused, headers };
    found.m.deleted = true;
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
