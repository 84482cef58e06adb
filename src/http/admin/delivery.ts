import { z } from 'zod';
import { listAttempts } from '../../services/attempts.js';
import { listDeadLetters, replayDeadLetter } from '../../services/dead-letters.js';
import { listEvents } from '../../services/events.js';
import { getStatus } from '../../services/status.js';
import { attemptView, deadLetterView, eventView, statusView } from '../../services/views.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, beforeId, errors, errorsWith404, flag, id, idParams, limit } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what status, attempts, dead letters and events they call need. */
export type DeliveryRouteDeps = DepsOf<typeof getStatus> &
  DepsOf<typeof listAttempts> &
  DepsOf<typeof listDeadLetters> &
  DepsOf<typeof listEvents> &
  DepsOf<typeof replayDeadLetter>;

/** What delivery is doing and what went wrong: dead letters, attempts, events, status. */
export function registerDeliveryRoutes(app: App, herald: DeliveryRouteDeps): void {
  app.get(
    '/dead-letters',
    {
      schema: {
        ...admin,
        summary: 'List dead letters (deliveries given up on), newest first',
        querystring: z.object({ limit, pending: flag.optional().describe('true: only those not replayed yet'), before_id: beforeId }),
        response: { 200: z.array(deadLetterView), ...errors },
      },
    },
    async (req) => await listDeadLetters(herald, { limit: req.query.limit, pending: req.query.pending, beforeId: req.query.before_id }),
  );

  app.post(
    '/dead-letters/:id/replay',
    {
      schema: {
        ...admin,
        summary: 'Queue a dead delivery again, from a fresh start',
        params: idParams,
        response: { 200: z.object({ delivery_id: z.number() }), ...errorsWith404, 409: errorBody },
      },
    },
    async (req) => ({ delivery_id: (await replayDeadLetter(herald, req.params.id)).delivery_id }),
  );

  app.get(
    '/attempts',
    {
      schema: {
        ...admin,
        summary: 'Recent requests to Discord, newest first',
        querystring: z.object({
          limit,
          webhook_id: id.optional().describe('Only requests through this webhook'),
          delivery_id: id.optional().describe('Only requests for this delivery'),
          status: z.coerce.number().int().min(100).max(599).optional().describe("Only this HTTP status from Discord"),
          outcome: z.string().min(1).max(50).optional().describe('Only this outcome (ok, rate_limited, server_error, timeout, network, rejected, webhook_gone, ...)'),
          before_id: beforeId,
        }),
        response: { 200: z.array(attemptView), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      return await listAttempts(herald, { limit: q.limit, webhookId: q.webhook_id, deliveryId: q.delivery_id, status: q.status, outcome: q.outcome, beforeId: q.before_id });
    },
  );

  app.get(
    '/events',
    {
      schema: {
        ...admin,
        summary: 'Recent events that need a person (quarantined webhooks, channels without a webhook), newest first',
        querystring: z.object({
          limit,
          kind: z.string().min(1).max(100).optional().describe('Only events of this kind'),
          channel_id: id.optional().describe('Only events about this channel'),
          before_id: beforeId,
        }),
        response: { 200: z.array(eventView), ...errors },
      },
    },
    async (req) => await listEvents(herald, { limit: req.query.limit, kind: req.query.kind, channelId: req.query.channel_id, beforeId: req.query.before_id }),
  );

  app.get(
    '/status',
    { schema: { ...admin, summary: 'Delivery at a glance: queue by severity, lanes, dead letters, breakers', response: { 200: statusView, ...errors } } },
    async () => await getStatus(herald),
  );
}
