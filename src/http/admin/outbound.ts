import { z } from 'zod';
import { admin, beforeId, errors, errorsWith404, id, idParams, limit, noContent } from './schema-parts.js';
import type { Herald } from '../../herald.js';
import { createTarget, deleteTarget, listOutboundDeliveries, listTargets, replayOutbound, targetInput } from '../../outbound/service.js';
import type { App } from '../typed-app.js';
import { errorBody } from '../error-body.js';

const targetView = z.object({ id: z.number(), route_id: z.number(), kind: z.enum(['slack', 'webhook']), url_masked: z.string(), created_at: z.number() });
const createdTarget = targetView.extend({
  secret: z.string().optional().describe('webhook targets: the whsec_ secret its requests are signed with. Shown only in this answer.'),
});
const deliveryView = z.object({
  id: z.number(),
  target_id: z.number(),
  alert_id: z.number(),
  event: z.string(),
  state: z.string(),
  attempts: z.number(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.number(),
  sent_at: z.number().nullable(),
  dead_at: z.number().nullable(),
  replayed_at: z.number().nullable(),
});

/** Outbound targets beyond Discord (per route) and their deliveries, dead letters included. */
export function registerOutboundRoutes(app: App, herald: Herald): void {
  app.post(
    '/routes/:id/outbound',
    {
      schema: {
        ...admin,
        summary: "Also send the route's alerts to a Slack-compatible or a signed generic webhook",
        params: idParams,
        body: targetInput,
        response: { 201: createdTarget, ...errorsWith404 },
      },
    },
    async (req, reply) => reply.code(201).send(await createTarget(herald, req.params.id, req.body)),
  );

  app.get('/outbound', { schema: { ...admin, summary: 'List outbound targets (URLs masked)', response: { 200: z.array(targetView), ...errors } } }, async () =>
    listTargets(herald),
  );

  app.delete(
    '/outbound/:id',
    { schema: { ...admin, summary: 'Remove an outbound target', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      deleteTarget(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/outbound/deliveries',
    {
      schema: {
        ...admin,
        summary: 'Outbound deliveries, newest first; ?state=dead for the dead letters',
        querystring: z.object({ state: z.enum(['pending', 'leased', 'sent', 'dead']).optional(), alert_id: id.optional(), before_id: beforeId, limit }),
        response: { 200: z.array(deliveryView), ...errors },
      },
    },
    async (req) => listOutboundDeliveries(herald, { state: req.query.state, alertId: req.query.alert_id, beforeId: req.query.before_id, limit: req.query.limit }),
  );

  app.post(
    '/outbound/deliveries/:id/replay',
    { schema: { ...admin, summary: 'Send a dead outbound delivery again', params: idParams, response: { 200: deliveryView, ...errorsWith404, 409: errorBody } } },
    async (req) => replayOutbound(herald, req.params.id),
  );
}
