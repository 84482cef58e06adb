import { z } from 'zod';
import { getAlert, listAlerts } from '../../services/alerts.js';
import { alertDetail, alertView } from '../../services/views.js';
import type { App } from '../typed-app.js';
import { admin, beforeId, errors, errorsWith404, flag, idParams, limit } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the alert services they call need. */
export type AlertRouteDeps = DepsOf<typeof listAlerts> &
  DepsOf<typeof getAlert>;

/** Alerts as received, with where they went. */
export function registerAlertRoutes(app: App, herald: AlertRouteDeps): void {
  app.get(
    '/alerts',
    {
      schema: {
        ...admin,
        summary: 'List alerts, newest first',
        querystring: z.object({
          unrouted: flag.optional().describe('true: only alerts no route and no default channel took'),
          muted: flag.optional().describe('true: only alerts a mute silenced (stored, not delivered); false: only the others'),
          limit,
          before_id: beforeId,
        }),
        response: { 200: z.array(alertView), ...errors },
      },
    },
    async (req) => await listAlerts(herald, { unrouted: req.query.unrouted, muted: req.query.muted, limit: req.query.limit, beforeId: req.query.before_id }),
  );

  app.get(
    '/alerts/:id',
    { schema: { ...admin, summary: 'One alert with its deliveries', params: idParams, response: { 200: alertDetail, ...errorsWith404 } } },
    async (req) => await getAlert(herald, req.params.id),
  );
}
