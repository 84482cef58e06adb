import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Heartbeats } from '../services/heartbeats.js';
import { ServiceError } from '../services/errors.js';
import { beatView } from '../services/views.js';
import { errorBody } from './error-body.js';
import type { App } from './typed-app.js';

/**
 * POST /v1/heartbeats/:name: a beat of the calling source's heartbeat (services/heartbeats.ts).
 * Registered inside the alert hook's plugin (hook.ts) with its source token check, its
 * auth-failure throttle and its signature check (a source with signing secrets signs its beats). Answers 202 after the beat is committed (and, after a miss, its alert
 * resolved). The body is not read: send none (or any JSON).
 */
export function registerHeartbeatHook(
  app: App,
  heartbeats: Pick<Heartbeats, 'beat'>,
  authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  /** A signed source's beats must be signed too (over the empty body): a leaked token alone cannot silence a miss. */
  verifySigned: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): void {
  app.post(
    '/heartbeats/:name',
    {
      schema: {
        summary: "A beat of this source's heartbeat (a dead man's switch): declared with POST /v1/admin/heartbeats",
        description:
          'Send no body. When no beat comes for the heartbeat\'s interval + grace, Herald raises "no heartbeat from <name> for <N min>" itself; the next beat resolves it.',
        security: [{ sourceToken: [] }],
        params: z.object({ name: z.string().min(1).max(200).describe("The heartbeat's name") }),
        response: {
          202: beatView.describe('The beat is committed (and a miss it ended resolved) before this answer'),
          404: errorBody.describe('This source has no heartbeat by that name'),
        },
      },
      onRequest: authenticate,
      preValidation: verifySigned,
    },
    async (req, reply) => {
      try {
        return reply.code(202).send(await await heartbeats.beat(req.sourceId!, req.params.name));
      } catch (err) {
        if (!(err instanceof ServiceError) || err.status !== 404) throw err;
        return reply.code(404).send({ error: err.code, message: err.message });
      }
    },
  );
}
