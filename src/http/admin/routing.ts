import { z } from 'zod';
import { createRoute, deleteRoute, listRoutes, patchRoute, routeInput, routePatch } from '../../services/routes.js';
import { createdId, routeView } from '../../services/views.js';
import type { App } from '../typed-app.js';
import { admin, errors, errorsWith404, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the route services they call need. */
export type RoutingRouteDeps = DepsOf<typeof createRoute> &
  DepsOf<typeof deleteRoute> &
  DepsOf<typeof listRoutes> &
  DepsOf<typeof patchRoute>;

/** Routing rules: which alerts go to which channel. */
export function registerRoutingRoutes(app: App, herald: RoutingRouteDeps): void {
  app.post(
    '/routes',
    {
      schema: {
        ...admin,
        summary: 'Add a route: alerts matching every given criterion go to the channel',
        body: routeInput,
        response: { 201: createdId, ...errorsWith404 },
      },
    },
    async (req, reply) => reply.code(201).send(await createRoute(herald, req.body)),
  );

  app.get('/routes', { schema: { ...admin, summary: 'List routes in evaluation order', response: { 200: z.array(routeView), ...errors } } }, async () =>
    await listRoutes(herald),
  );

  app.patch(
    '/routes/:id',
    {
      schema: {
        ...admin,
        summary: "Set a route's business hours (null: always open), its auto_resolve_after (null: never) and/or its threads",
        params: idParams,
        body: routePatch,
        response: { 200: routeView, ...errorsWith404 },
      },
    },
    async (req) => await patchRoute(herald, req.params.id, req.body),
  );

  app.delete(
    '/routes/:id',
    { schema: { ...admin, summary: 'Delete a route', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await deleteRoute(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );
}
