import { z } from 'zod';
import type { Heartbeats } from '../../services/heartbeats.js';
import { heartbeatInput } from '../../services/heartbeats.js';
import { heartbeatView } from '../../services/views.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errors, errorsWith404, id, idParams, noContent } from './schema-parts.js';

/** What these routes use of the app. */
export type HeartbeatRouteDeps = { heartbeats: Pick<Heartbeats, 'declare' | 'list' | 'remove'> };

/** Heartbeats (dead man's switches): declare, list, delete. Beats come to POST /v1/heartbeats/{name}. */
export function registerHeartbeatRoutes(app: App, { heartbeats }: HeartbeatRouteDeps): void {
  app.post(
    '/heartbeats',
    {
      schema: {
        ...admin,
        summary: 'Declare a heartbeat: a source promises a beat every interval; without one for interval + grace, Herald raises an alert',
        body: heartbeatInput,
        response: { 201: heartbeatView, ...errorsWith404, 409: errorBody.describe('The source already has a heartbeat by that name') },
      },
    },
    async (req, reply) => reply.code(201).send(await heartbeats.declare(req.body)),
  );

  app.get(
    '/heartbeats',
    {
      schema: {
        ...admin,
        summary: 'List heartbeats with their state (ok or missed), last beat and due time',
        querystring: z.object({ source_id: id.optional().describe('Only this source') }),
        response: { 200: z.array(heartbeatView), ...errors },
      },
    },
    async (req) => await heartbeats.list(req.query.source_id),
  );

  app.delete(
    '/heartbeats/:id',
    { schema: { ...admin, summary: 'Delete a heartbeat (an alert it raised stays as it is)', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await heartbeats.remove(req.params.id);
      return reply.code(204).send(null);
    },
  );
}
