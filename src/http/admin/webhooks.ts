import { z } from 'zod';
import { webhookView } from '../../services/views.js';
import { addWebhook, listWebhooks, removeWebhook, restoreWebhook, webhookInput } from '../../services/webhooks.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errorsWith404, flag, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the webhook services they call need. */
export type WebhookRouteDeps = DepsOf<typeof addWebhook> &
  DepsOf<typeof listWebhooks> &
  DepsOf<typeof removeWebhook> &
  DepsOf<typeof restoreWebhook>;

/** A channel's webhook pool. Tokens go in, never out: answers show a masked URL. */
export function registerWebhookRoutes(app: App, herald: WebhookRouteDeps): void {
  app.post(
    '/channels/:id/webhooks',
    {
      schema: {
        ...admin,
        summary: "Add a webhook to a channel's pool (Herald first asks Discord that the webhook posts to this channel's discord_channel_id; 400 if not, 502 if Discord cannot be asked)",
        params: idParams,
        body: webhookInput,
        response: { 201: webhookView, ...errorsWith404, 409: errorBody, 502: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await addWebhook(herald, req.params.id, req.body)),
  );

  app.get(
    '/channels/:id/webhooks',
    {
      schema: {
        ...admin,
        summary: "List a channel's webhooks",
        params: idParams,
        querystring: z.object({ include_removed: flag.optional().describe('Also list removed webhooks') }),
        response: { 200: z.array(webhookView), ...errorsWith404 },
      },
    },
    async (req) => await listWebhooks(herald, req.params.id, { includeRemoved: req.query.include_removed ?? false }),
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        ...admin,
        summary: 'Take a webhook out of its pool: its token is wiped from the database; the row stays as removed, so past deliveries keep their reference',
        params: idParams,
        response: { 204: noContent, ...errorsWith404 },
      },
    },
    async (req, reply) => {
      await removeWebhook(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/restore',
    {
      schema: {
        ...admin,
        summary: 'Put a quarantined webhook back in rotation, with its breaker closed',
        params: idParams,
        response: { 200: webhookView, ...errorsWith404, 409: errorBody },
      },
    },
    async (req) => await restoreWebhook(herald, req.params.id),
  );
}
