import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { alertsBody, type AlertInput } from '../domain/alert.js';
import type { Config } from '../config.js';
import type { SourceAuth } from '../ingest/auth.js';
import type { Acceptor, RequestKeys } from '../pipeline/accept.js';
import type { Store } from '../store/index.js';
import { ServiceError } from '../services/errors.js';
import { convertBody, FORMATS, type Format } from '../domain/adapters/index.js';
import { bearer, unauthorized } from './bearer.js';
import { AuthFailureThrottle } from './auth-throttle.js';
import { WEBHOOK_ID_KEEP_MS } from '../ingest/replay.js';
import { verifySignature } from '../domain/signatures.js';
import { errorBody } from './error-body.js';
import { typed } from './typed-app.js';
import { zodValidator } from './validation.js';
import { registerHeartbeatHook } from './heartbeats.js';
import type { Heartbeats } from '../services/heartbeats.js';

const accepted = z.object({
  ids: z.array(z.number()).describe('The stored alerts, in order'),
  heartbeats: z.array(z.string()).optional().describe("Heartbeats this request was a beat of (a job scheduler's on_success for a job with a declared heartbeat)"),
  acknowledged: z.array(z.number()).optional().describe('Alerts acknowledged by this request (PagerDuty acknowledge)'),
  ignored: z.array(z.string()).optional().describe('Events understood but with nothing to do, and why'),
});

const query = z.object({
  format: z
    .enum(FORMATS)
    .optional()
    .describe("The body's format; default: the source's configured format, else native"),
  event: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('For formats with an `event` field (jobs, pipeline, jobstatus) whose sender cannot put it in the body: e.g. one hook URL per job-scheduler hook, `?format=jobs&event=on_error`'),
});

/**
 * What the hook uses of the app: the source tokens and settings, the acceptor, the webhook-id log (pruned
 * now and then) and the open-alert lookup by dedup key, and the auth-failure throttle's settings.
 */
export type AlertHookDeps = {
  store: Pick<Store, 'idempotency' | 'alerts'>;
  config: Pick<Config, 'authFailures'>;
  sourceAuth: Pick<SourceAuth, 'sourceFor' | 'settings'>;
  acceptor: Pick<Acceptor, 'submit'>;
  heartbeats: Pick<Heartbeats, 'beat' | 'has'>;
};

/**
 * POST /v1/alerts: Herald's native alert format, or a sender's own (Alertmanager, PagerDuty Events v2,
 * job-scheduler hooks, pipeline events, job status events) converted by src/domain/adapters. Answers 202
 * only after the alerts are committed. A source with signing secrets must sign (Standard Webhooks).
 * A plugin registered under the `/v1` prefix.
 */
export const alertHook = (herald: AlertHookDeps) => async (scope: FastifyInstance): Promise<void> => {
  const app = typed(scope);
  const seenIds = herald.store.idempotency;
  const throttle = new AuthFailureThrottle(herald.config.authFailures);
  // Lookups by dedup key are the sending source's own: one source cannot acknowledge or resolve another's alert.
  const lookup = herald.store.alerts;
  /** The source token check, before the body is read: an unknown sender gets 401, one that keeps guessing 429. */
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    if (await throttle.refuseIfThrottled(req, reply)) return reply;
    const token = bearer(req);
    const sourceId = token === undefined ? undefined : await herald.sourceAuth.sourceFor(token);
    if (sourceId === undefined) {
      await throttle.failed(req);
      return unauthorized(reply, token === undefined ? 'missing bearer token' : 'unknown source token');
    }
    req.sourceId = sourceId;
  };
  /** A source with signing secrets must sign (Standard Webhooks, over the raw body): 401 otherwise. */
  const verifySigned = async (req: FastifyRequest, reply: FastifyReply) => {
    const settings = await herald.sourceAuth.settings(req.sourceId!);
    if (!settings || settings.secrets.length === 0) return;
    const v = verifySignature(req.headers, req.rawBody ?? Buffer.alloc(0), settings.secrets);
    if (!v.ok) return reply.code(401).send({ error: 'bad_signature', message: v.reason });
    // A message seen before is not refused here: the acceptor answers a sender's retry as the first time.
    req.webhookId = v.id;
    await seenIds.pruneWebhookIdsNowAndThen();
  };
  // The same checks and the same throttle: guessing tokens on one route counts on the other.
  registerHeartbeatHook(app, herald.heartbeats, authenticate, verifySigned);

  app.post(
    '/alerts',
    {
      schema: {
        summary: 'Send one alert, or {"alerts": [...]}, or a payload in a sender\'s format (?format=)',
        description:
          'Formats: native (this schema), alertmanager (webhook v4), pagerduty (Events API v2), jobs (scheduler hooks), pipeline (pipeline events), jobstatus (job.* events). ' +
          'A source with signing secrets must send Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature).',
        security: [{ sourceToken: [] }],
        querystring: query,
        headers: z.object({ 'idempotency-key': z.string().min(1).max(255).optional() }).loose(),
        body: alertsBody,
        response: { 202: accepted.describe('Stored (committed) before this answer'), 400: errorBody, 401: errorBody, 422: errorBody.describe('This Idempotency-Key was already used with a different request') },
      },
      validatorCompiler: hookValidator,
      // The answers are built right here from typed values: plain JSON, without a zod pass over each (the
      // hook's hot path; the schemas above still document them).
      serializerCompiler: () => (data) => JSON.stringify(data),
      // Authenticate before the body is parsed: an unknown sender gets 401, not a validation report.
      onRequest: authenticate,
      // Then the signature, on the raw body, before anything looks at its content.
      preValidation: verifySigned,
    },
    async (req, reply) => {
      const sourceId = req.sourceId!;
      const settings = await herald.sourceAuth.settings(sourceId);
      const q = req.query as z.output<typeof query>;
      const format: Format = q.format ?? settings?.format ?? 'native';
      // Nothing is recorded for a request that stores nothing (invalid, or storing failed): a sender's
      // retry of it is judged on its merits.
      const body = withEvent(req.body, format, q.event);
      const converted = convertBody(format, body, settings?.mapping ?? undefined);
      if (!converted.ok) return reply.code(400).send({ error: 'invalid_request', problems: converted.problems });
      const c = converted.conversion;
      const ignored = [...c.ignored];
      const inputs: AlertInput[] = [];
      for (const a of c.alerts) {
        if (!a.onlyIfOpen || (await lookup.openWithKey(sourceId, a.input.dedup_key!)) !== undefined) inputs.push(a.input);
        else ignored.push(`no open alert with dedup key "${a.input.dedup_key}" to resolve`);
      }
      // A PagerDuty acknowledge is applied in the same commit as the request's alerts: a 503 means nothing was stored.
      const result =
        inputs.length || c.acknowledge.length ? await herald.acceptor.submit(sourceId, inputs, requestKeys(req, q), c.acknowledge) : { ids: [], replayed: false };
      if (result.keyReused) {
        return reply.code(422).send({
          error: 'idempotency_key_reused',
          message: 'this Idempotency-Key was already used with a different request; send a new key for a new request, or the same body to get the first answer',
        });
      }
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      ignored.push(...(result.ignored ?? []));
      const acknowledged = result.acknowledged ?? [];
      // A beat is committed (and a miss it ends resolved) before the 202, like the alerts.
      const beaten: string[] = [];
      for (const name of c.beats ?? []) {
        if (!await herald.heartbeats.has(sourceId, name)) continue;
        await await herald.heartbeats.beat(sourceId, name);
        beaten.push(name);
      }
      return reply
        .code(202)
        .send({ ids: result.ids, ...(beaten.length ? { heartbeats: beaten } : {}), ...(acknowledged.length ? { acknowledged } : {}), ...(ignored.length ? { ignored } : {}) });
    },
  );
};

const idempotencyHeader = z.object({ 'idempotency-key': z.string().min(1).max(255) });
type ValidatorPart = Parameters<typeof zodValidator>[0];

/**
 * The hook's validation, cheap on the hot path. The body is validated by its format in the handler (the
 * format is only known per request; the body schema documents the native format in the OpenAPI document).
 * Of the headers only Idempotency-Key is Herald's to check: the others are passed on as they came, without
 * a copy through zod. The query is checked when there is one.
 */
const hookValidator = (part: { httpPart?: string; schema: unknown }) => {
  if (part.httpPart === 'body') return (data: unknown) => ({ value: data });
  if (part.httpPart === 'headers') {
    const check = zodValidator({ ...part, schema: idempotencyHeader } as unknown as ValidatorPart);
    return (data: unknown) => {
      const key = (data as Record<string, unknown>)['idempotency-key'];
      if (key === undefined) return { value: data };
      const checked = check({ 'idempotency-key': key }) as { error?: Error };
      return checked.error ? { error: checked.error } : { value: data };
    };
  }
  const check = zodValidator(part as unknown as ValidatorPart);
  return (data: unknown) => (data !== null && typeof data === 'object' && Object.keys(data).length === 0 ? { value: {} } : check(data));
};

/**
 * What makes this request the same as an earlier one: its Idempotency-Key with a fingerprint of the
 * request (the query's format and event, and the raw body bytes: the key reused for another request is
 * refused), and a signed request's webhook-id (its retries carry new timestamps and signatures, so
 * only the id says it is the same message).
 */
function requestKeys(req: FastifyRequest, q: z.output<typeof query>): RequestKeys {
  const key = req.headers['idempotency-key'];
  const keys: RequestKeys = {};
  if (typeof key === 'string') {
    const fingerprint = createHash('sha256').update(`${q.format ?? ''}\0${q.event ?? ''}\0`).update(req.rawBody ?? Buffer.alloc(0)).digest('hex');
    keys.idempotency = { key, fingerprint };
  }
  if (req.webhookId !== undefined) keys.webhookId = { id: req.webhookId, keepUntil: Date.now() + WEBHOOK_ID_KEEP_MS };
  return keys;
}

/** `?event=` fills the body's `event` when the body has none (the body wins when it names one). */
function withEvent(body: unknown, format: Format, event: string | undefined): unknown {
  if (event === undefined || (format !== 'jobs' && format !== 'pipeline' && format !== 'jobstatus')) return body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'event' in body) return body;
  return { event, ...body };
}

declare module 'fastify' {
  interface FastifyRequest {
    sourceId?: number;
    /** The Standard Webhooks message id of a signed request. */
    webhookId?: string;
  }
}
