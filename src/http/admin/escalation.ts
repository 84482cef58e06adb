import { z } from 'zod';
import {
  addStep,
  chainInput,
  createChain,
  deleteChain,
  getChain,
  listChains,
  listEscalations,
  routeChainInput,
  setRouteChain,
  stepInput,
} from '../../services/escalation.js';
import { chainView, escalationView } from '../../services/views.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errors, errorsWith404, flag, id, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the escalation services they call need. */
export type EscalationRouteDeps = DepsOf<typeof addStep> &
  DepsOf<typeof createChain> &
  DepsOf<typeof deleteChain> &
  DepsOf<typeof getChain> &
  DepsOf<typeof listChains> &
  DepsOf<typeof listEscalations> &
  DepsOf<typeof setRouteChain>;

/** Escalation chains, their steps, which route arms which, and the escalations running. */
export function registerEscalationRoutes(app: App, herald: EscalationRouteDeps): void {
  app.post(
    '/escalation-chains',
    {
      schema: {
        ...admin,
        summary: 'Create an escalation chain (optionally with its steps)',
        body: chainInput,
        response: { 201: chainView, ...errors, 409: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await createChain(herald, req.body)),
  );

  app.get('/escalation-chains', { schema: { ...admin, summary: 'List escalation chains with their steps', response: { 200: z.array(chainView), ...errors } } }, async () =>
    await listChains(herald),
  );

  app.get(
    '/escalation-chains/:id',
    { schema: { ...admin, summary: 'One escalation chain', params: idParams, response: { 200: chainView, ...errorsWith404 } } },
    async (req) => await getChain(herald, req.params.id),
  );

  app.post(
    '/escalation-chains/:id/steps',
    {
      schema: {
        ...admin,
        summary: 'Append a step to a chain',
        params: idParams,
        body: stepInput,
        response: { 201: chainView, ...errorsWith404 },
      },
    },
    async (req, reply) => reply.code(201).send(await addStep(herald, req.params.id, req.body)),
  );

  app.delete(
    '/escalation-chains/:id',
    { schema: { ...admin, summary: 'Delete a chain: routes stop arming it and running escalations of it stop', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await deleteChain(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/routes/:id/escalation-chain',
    {
      schema: {
        ...admin,
        summary: 'Name the escalation chain armed for alerts a route matches (null detaches)',
        params: idParams,
        body: routeChainInput,
        response: { 200: z.object({ route_id: z.number(), chain_id: z.number().nullable() }), ...errorsWith404 },
      },
    },
    async (req) => await setRouteChain(herald, req.params.id, req.body.chain_id),
  );

  app.get(
    '/escalations',
    {
      schema: {
        ...admin,
        summary: 'Escalations armed on alerts, newest first, with the steps each ran',
        querystring: z.object({
          alert_id: id.optional().describe('Only this alert'),
          active: flag.optional().describe('Only escalations still going'),
        }),
        response: { 200: z.array(escalationView), ...errors },
      },
    },
    async (req) => await listEscalations(herald, { ...(req.query.alert_id !== undefined ? { alertId: req.query.alert_id } : {}), ...(req.query.active ? { active: true } : {}) }),
  );
}
