import { z } from 'zod';
import { acknowledgeIncident, getIncident, listIncidents, resolveIncident } from '../../services/incidents.js';
import type { Actor } from '../../services/lifecycle.js';
import { incidentActionView, incidentDetail, incidentView } from '../../services/views.js';
import type { App } from '../typed-app.js';
import { admin, beforeId, errors, errorsWith404, idParams, limit } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

const by = z.string().trim().min(1).max(100).optional().describe('Name recorded as who did it (default "admin")');
const actorOf = (name: string | undefined): Actor => ({ kind: 'admin', name: name ?? 'admin' });
const actionBody = z.strictObject({ by }).nullish();

/** What these routes use of the app: what the incident services they call need. */
export type IncidentRouteDeps = DepsOf<typeof listIncidents> & DepsOf<typeof getIncident> & DepsOf<typeof acknowledgeIncident> & DepsOf<typeof resolveIncident>;

/** Incidents (docs/incidents.md): the groups alerts belong to, and acting on one as a whole. */
export function registerIncidentRoutes(app: App, herald: IncidentRouteDeps): void {
  app.get(
    '/incidents',
    {
      schema: {
        ...admin,
        summary: 'List incidents, newest first, with their members\' state',
        querystring: z.object({ status: z.enum(['firing', 'resolved']).optional().describe('Only incidents in this state'), limit, before_id: beforeId }),
        response: { 200: z.array(incidentView), ...errors },
      },
    },
    async (req) => await listIncidents(herald, { ...(req.query.status ? { status: req.query.status } : {}), limit: req.query.limit, ...(req.query.before_id !== undefined ? { beforeId: req.query.before_id } : {}) }),
  );

  app.get(
    '/incidents/:id',
    { schema: { ...admin, summary: 'One incident with its members', params: idParams, response: { 200: incidentDetail, ...errorsWith404 } } },
    async (req) => await getIncident(herald, req.params.id),
  );

  app.post(
    '/incidents/:id/ack',
    {
      schema: {
        ...admin,
        summary: 'Acknowledge an incident: every firing member is acknowledged (its cards edited) and the incident\'s escalation stops',
        params: idParams,
        body: actionBody,
        response: { 200: incidentActionView, ...errorsWith404 },
      },
    },
    async (req) => await acknowledgeIncident(herald, req.params.id, actorOf(req.body?.by)),
  );

  app.post(
    '/incidents/:id/resolve',
    {
      schema: {
        ...admin,
        summary: 'Resolve an incident: every firing member is resolved (its cards edited); the incident is then resolved',
        params: idParams,
        body: actionBody,
        response: { 200: incidentActionView, ...errorsWith404 },
      },
    },
    async (req) => await resolveIncident(herald, req.params.id, actorOf(req.body?.by)),
  );
}
