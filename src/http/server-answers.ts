import type { RouteOptions } from 'fastify';
import type { ZodType } from 'zod';
import { errorBody } from './error-body.js';

/**
 * The answers the server itself gives on a route, whatever the route's handler does: documented here,
 * next to the mechanisms that give them, and added to every route's response schemas (so the OpenAPI
 * document lists every answer and the serializer sends their one shape, `errorBody`).
 *
 * - 400: the route validates input (params, query, headers or a body), or takes a body that may not parse;
 * - 401 and 429: the route is behind a bearer token (its `security`): a wrong one is refused, and an
 *   address that keeps guessing is throttled (src/http/auth-throttle.ts);
 * - 413 and 415: the route takes a body (any method but GET and HEAD): too large, or not UTF-8 JSON
 *   (src/http/json-body.ts);
 * - 405: another method on the route's path (the not-found handler, src/http/known-paths.ts);
 * - 503: the database cannot take writes, or the request failed: nothing was stored (the error handler).
 */
const answers = {
  400: errorBody.describe('The request is invalid: `problems` names each wrong field ({path, message})'),
  401: errorBody.describe('Missing or wrong bearer token'),
  405: errorBody.describe("Another method on this path: this one is not answered there (the Allow header lists those that are)"),
  413: errorBody.describe('The body is larger than HERALD_BODY_LIMIT'),
  415: errorBody.describe('The body is not JSON (Content-Type: application/json) in UTF-8'),
  429: errorBody.describe('Too many requests with a wrong token from this address; Retry-After says when to try again'),
  503: errorBody.describe('Herald cannot do this now (the database cannot take writes, or a part the request needs is down): nothing was stored; retry later'),
} as const;

/** What a status means when the route's own schema does not say (OpenAPI wants a description for each answer). */
const meaning: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'Done; no body',
  404: 'No such resource: `message` names it',
  409: 'Refused: it conflicts with the current state (`message` says how)',
  502: 'Discord could not be asked, or refused: `message` says why',
};

type Status = keyof typeof answers;

function statusesOf(route: RouteOptions): Status[] {
  const schema = route.schema ?? {};
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const takesBody = methods.some((m) => m !== 'GET' && m !== 'HEAD');
  const validates = takesBody || Boolean(schema.params || schema.querystring || schema.headers || schema.body);
  const behindToken = (schema.security?.length ?? 0) > 0;
  const statuses: Status[] = [405, 503];
  if (validates) statuses.push(400);
  if (behindToken) statuses.push(401, 429);
  if (takesBody) statuses.push(413, 415);
  return statuses;
}

/**
 * An onRoute hook: adds the server's own answers to the route's response schemas. A status the route
 * documents itself keeps the route's schema, unless it is the bare `errorBody` (then it gets the
 * description above); an answer without a description gets the status's plain meaning. Routes
 * hidden from the document are left alone.
 */
export function addServerAnswers(route: RouteOptions): void {
  if (route.schema?.hide) return;
  const response = { ...((route.schema?.response ?? {}) as Record<string, ZodType>) };
  for (const status of statusesOf(route)) response[status] ??= answers[status];
  for (const [status, schema] of Object.entries(response)) {
    const server = answers[Number(status) as Status] as ZodType | undefined;
    const plain = meaning[status];
    if (schema === errorBody && server) response[status] = server;
    else if (schema.description === undefined && plain !== undefined) response[status] = schema.describe(plain);
  }
  route.schema = { ...route.schema, response };
}
