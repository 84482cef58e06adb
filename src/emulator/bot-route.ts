import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Outcome } from './interactions.js';
import { tooManyRequests, type GlobalLimit } from './ratelimit.js';
import { EmulatorError } from './state.js';
import { send } from './webhooks.js';

export type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string | undefined> }>;
/** Wraps a bot route's handler: auth, then the global limit, then the handler's outcome. */
export type BotRoute = (handler: (req: Req) => Outcome) => (req: Req, reply: FastifyReply) => Promise<FastifyReply>;

const UNAUTHORIZED: Outcome = { status: 401, body: { message: '401: Unauthorized', code: 0 } };

/**
 * Bot routes want `Authorization: Bot <token>` and share the global limit (a 429 scope global); an
 * EmulatorError from the handler becomes Discord's `{ message, code }` with its status.
 */
export function botRoute(d: { botToken: string; globalLimit: GlobalLimit }): BotRoute {
  return (handler) => async (req, reply) => {
    if (req.headers.authorization !== `Bot ${d.botToken}`) return send(reply, UNAUTHORIZED);
    const waitMs = d.globalLimit.take(Date.now());
    if (waitMs > 0) {
      const limited = tooManyRequests(waitMs, 'global');
      return send(reply, { status: 429, body: limited.body, headers: { ...limited.headers, 'x-ratelimit-global': 'true' } });
    }
    try {
      return send(reply, handler(req));
    } catch (err) {
      if (err instanceof EmulatorError) return send(reply, { status: err.status, body: { message: err.message, code: err.code } });
      throw err;
    }
  };
}
