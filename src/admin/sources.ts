import { z } from 'zod';
import type { Herald } from '../herald.js';
import { createSource, deleteSource, listSources, sourceInput } from '../services/sources.js';
import { admin, errorBody, errors, errorsWith404, idParams, noContent, type AdminApp } from './http.js';
import { createdSource, sourceView } from './schemas.js';

/** Senders of alerts and their tokens. */
export function registerSourceRoutes(app: AdminApp, herald: Herald): void {
  app.post(
    '/v1/admin/sources',
    {
      schema: {
        ...admin,
        summary: 'Create a source; its token is in this answer only',
        body: sourceInput,
        response: { 201: createdSource, ...errors, 409: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(createSource(herald, req.body)),
  );

  app.get('/v1/admin/sources', { schema: { ...admin, summary: 'List sources (no tokens)', response: { 200: z.array(sourceView), ...errors } } }, async () =>
    listSources(herald),
  );

  app.delete(
    '/v1/admin/sources/:id',
    { schema: { ...admin, summary: 'Delete a source: its token stops working at once', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      deleteSource(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );
}
