import { z } from 'zod';
import { acknowledgeAlert, type Actor, resolveAlert, retractAlert, retractInput } from '../../services/lifecycle.js';
import { createMute, deleteMute, getMute, listMutes, muteFields, oneTarget } from '../../services/mutes.js';
import { alertDetail, muteView, webhookView } from '../../services/views.js';
import { createAppWebhook, rotateWebhook } from '../../services/webhooks.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errors, errorsWith404, flag, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

const by = z.string().trim().min(1).max(100).optional().describe('Name recorded as who did it (default "admin")');
const actorOf = (name: string | undefined): Actor => ({ kind: 'admin', name: name ?? 'admin' });
const actionBody = z.strictObject({ by }).nullish();

/** What these routes use of the app: what lifecycle, mutes and bot-managed webhooks they call need. */
export type LifecycleRouteDeps = DepsOf<typeof acknowledgeAlert> &
  DepsOf<typeof resolveAlert> &
  DepsOf<typeof retractAlert> &
  DepsOf<typeof createMute> &
  DepsOf<typeof deleteMute> &
  DepsOf<typeof getMute> &
  DepsOf<typeof listMutes> &
  DepsOf<typeof createAppWebhook> &
  DepsOf<typeof rotateWebhook>;

/** Acting on alerts (acknowledge, resolve, retract), mutes, bot-created webhooks and rotation. */
export function registerLifecycleRoutes(app: App, herald: LifecycleRouteDeps): void {
  app.post(
    '/alerts/:id/ack',
    {
      schema: {
        ...admin,
        summary: 'Acknowledge an alert: its messages in every channel are edited to say so',
        params: idParams,
        body: actionBody,
        response: { 200: alertDetail, ...errorsWith404, 409: errorBody },
      },
    },
    async (req) => await acknowledgeAlert(herald, req.params.id, actorOf(req.body?.by)),
  );

  app.post(
    '/alerts/:id/resolve',
    {
      schema: {
        ...admin,
        summary: 'Resolve an alert: its messages are edited (resolved colour, by whom, buttons removed)',
        params: idParams,
        body: actionBody,
        response: { 200: alertDetail, ...errorsWith404, 409: errorBody },
      },
    },
    async (req) => await resolveAlert(herald, req.params.id, actorOf(req.body?.by)),
  );

  app.post(
    '/alerts/:id/retract',
    {
      schema: {
        ...admin,
        summary: 'Retract an alert: queued deliveries cancelled; its messages deleted or struck through',
        params: idParams,
        body: retractInput.extend({ by }),
        response: { 200: z.object({ alert_id: z.number(), messages: z.number(), cancelled: z.number() }), ...errorsWith404, 409: errorBody },
      },
    },
    async (req) => await retractAlert(herald, req.params.id, { mode: req.body.mode, ...(req.body.reason ? { reason: req.body.reason } : {}), by: actorOf(req.body.by) }),
  );

  app.get(
    '/mutes',
    {
      schema: {
        ...admin,
        summary: 'List mutes, newest first',
        querystring: z.object({ active: flag.optional().describe('true: only mutes in force') }),
        response: { 200: z.array(muteView), ...errors },
      },
    },
    async (req) => await listMutes(herald, { active: req.query.active ?? false }),
  );

  app.post(
    '/mutes',
    {
      schema: {
        ...admin,
        summary: 'Mute alerts by service glob, route or dedup key for a while: stored, not delivered',
        body: muteFields.extend({ by }).refine(...oneTarget),
        response: { 201: muteView, ...errorsWith404 },
      },
    },
    async (req, reply) => {
      const { by: name, ...input } = req.body;
      return reply.code(201).send(await createMute(herald, input, actorOf(name)));
    },
  );

  app.get(
    '/mutes/:id',
    { schema: { ...admin, summary: 'One mute, with how many alerts it silenced', params: idParams, response: { 200: muteView, ...errorsWith404 } } },
    async (req) => await getMute(herald, req.params.id),
  );

  app.delete(
    '/mutes/:id',
    { schema: { ...admin, summary: 'Lift a mute now', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await deleteMute(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/channels/:id/webhooks/create',
    {
      schema: {
        ...admin,
        summary: "Have Herald's bot create an application-owned webhook (its messages get buttons) and add it to the pool",
        params: idParams,
        body: z.strictObject({ name: z.string().trim().min(1).max(80).optional().describe('Webhook name (default HERALD_USERNAME)') }).nullish(),
        response: { 201: webhookView, ...errorsWith404, 409: errorBody, 502: errorBody, 503: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await createAppWebhook(herald, req.params.id, req.body?.name ? { name: req.body.name } : {})),
  );

  app.post(
    '/webhooks/:id/rotate',
    {
      schema: {
        ...admin,
        summary: 'Rotate a webhook: the new one (pasted url, or created by the bot) joins, then the old one retires (it still edits its own messages)',
        params: idParams,
        body: z.strictObject({ url: z.string().trim().min(1).max(512).optional().describe('A webhook URL to rotate in; without it the bot creates one') }).nullish(),
        response: { 200: z.object({ added: webhookView, retired: webhookView }), ...errorsWith404, 409: errorBody, 502: errorBody, 503: errorBody },
      },
    },
    async (req) => await rotateWebhook(herald, req.params.id, req.body?.url ? { url: req.body.url } : {}),
  );
}
