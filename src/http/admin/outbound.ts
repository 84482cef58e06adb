import { z } from 'zod';
import { createTarget, deleteTarget, listOutboundDeliveries, listTargets, replayOutbound, targetInput, testTarget } from '../../outbound/service.js';
import { createdTarget, outboundDeliveryView, targetView } from '../../outbound/views.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, beforeId, errors, errorsWith404, id, idParams, limit, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the outbound services they call need. */
export type OutboundRouteDeps = DepsOf<typeof createTarget> &
  DepsOf<typeof deleteTarget> &
  DepsOf<typeof listOutboundDeliveries> &
  DepsOf<typeof listTargets> &
  DepsOf<typeof replayOutbound> &
  DepsOf<typeof testTarget>;

/** Outbound targets beyond Discord (per route) and their deliveries, dead letters included. */
export function registerOutboundRoutes(app: App, herald: OutboundRouteDeps): void {
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
    await listTargets(herald),
  );

  app.delete(
    '/outbound/:id',
    { schema: { ...admin, summary: 'Remove an outbound target', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await deleteTarget(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/outbound/:id/test',
    {
      schema: {
        ...admin,
        summary: 'Send a test message to an outbound target now and say what it answered (nothing is queued or recorded)',
        params: idParams,
        response: {
          200: z.object({
            ok: z.boolean().describe('The target answered 2xx'),
            status: z.number().nullable().describe('Its HTTP status; null when it did not answer'),
            latency_ms: z.number(),
            error: z.string().nullable().describe('Why it failed (status, network error or the address policy); never the URL'),
          }),
          ...errorsWith404,
        },
      },
    },
    async (req) => await testTarget(herald, req.params.id),
  );

  app.get(
    '/outbound/deliveries',
    {
      schema: {
        ...admin,
        summary: 'Outbound deliveries, newest first; ?state=dead for the dead letters',
        querystring: z.object({ state: z.enum(['pending', 'leased', 'sent', 'dead']).optional(), alert_id: id.optional(), target_id: id.optional().describe('Only this target\'s deliveries'), before_id: beforeId, limit }),
        response: { 200: z.array(outboundDeliveryView), ...errors },
      },
    },
    async (req) => await listOutboundDeliveries(herald, { state: req.query.state, alertId: req.query.alert_id, targetId: req.query.target_id, beforeId: req.query.before_id, limit: req.query.limit }),
  );

  app.post(
    '/outbound/deliveries/:id/replay',
    { schema: { ...admin, summary: 'Send a dead outbound delivery again', params: idParams, response: { 200: outboundDeliveryView, ...errorsWith404, 409: errorBody } } },
    async (req) => await replayOutbound(herald, req.params.id),
  );
}
