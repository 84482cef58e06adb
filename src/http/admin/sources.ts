import { z } from 'zod';
import {
  addSecret,
  createSource,
  deleteSecret,
  deleteSource,
  getSource,
  listSources,
  reissueSourceToken,
  secretInput,
  sourceInput,
  sourcePatch,
  updateSource,
} from '../../services/sources.js';
import { createdSecret, createdSource, sourceDetail, sourceView } from '../../services/views.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errors, errorsWith404, id, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the source services they call need. */
export type SourceRouteDeps = DepsOf<typeof addSecret> &
  DepsOf<typeof createSource> &
  DepsOf<typeof deleteSecret> &
  DepsOf<typeof deleteSource> &
  DepsOf<typeof getSource> &
  DepsOf<typeof listSources> &
  DepsOf<typeof reissueSourceToken> &
  DepsOf<typeof updateSource>;

/** Senders of alerts, their tokens, formats and signing secrets. */
export function registerSourceRoutes(app: App, herald: SourceRouteDeps): void {
  app.post(
    '/sources',
    {
      schema: {
        ...admin,
        summary: 'Create a source; its token is in this answer only',
        body: sourceInput,
        response: { 201: createdSource, ...errors, 409: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await createSource(herald, req.body)),
  );

  app.get('/sources', { schema: { ...admin, summary: 'List sources (no tokens)', response: { 200: z.array(sourceView), ...errors } } }, async () =>
    await listSources(herald),
  );

  app.get(
    '/sources/:id',
    { schema: { ...admin, summary: 'A source with its format and signing secrets (by hint only)', params: idParams, response: { 200: sourceDetail, ...errorsWith404 } } },
    async (req) => await getSource(herald, req.params.id),
  );

  app.patch(
    '/sources/:id',
    { schema: { ...admin, summary: "Set a source's default payload format, its auto_resolve_after and/or its severity and service mapping", params: idParams, body: sourcePatch, response: { 200: sourceDetail, ...errorsWith404 } } },
    async (req) => await updateSource(herald, req.params.id, req.body),
  );

  app.delete(
    '/sources/:id',
    { schema: { ...admin, summary: 'Delete a source: its token stops working at once', params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await deleteSource(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/sources/:id/token',
    {
      schema: {
        ...admin,
        summary: 'Give a source a new token, in this answer only; the old one stops working at once (a source made by the configuration file gets its first token here)',
        params: idParams,
        response: { 200: createdSource, ...errorsWith404 },
      },
    },
    async (req) => await reissueSourceToken(herald, req.params.id),
  );

  app.post(
    '/sources/:id/secrets',
    {
      schema: {
        ...admin,
        summary: 'Add a Standard Webhooks signing secret (generated unless given); from then on the source must sign its requests',
        params: idParams,
        body: z.preprocess((b) => b ?? {}, secretInput),
        response: { 201: createdSecret, ...errorsWith404, 409: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await addSecret(herald, req.params.id, req.body ?? {})),
  );

  app.delete(
    '/sources/:id/secrets/:secretId',
    {
      schema: {
        ...admin,
        summary: 'Remove a signing secret (end of a key rotation)',
        params: z.object({ id, secretId: id }),
        response: { 204: noContent, ...errorsWith404 },
      },
    },
    async (req, reply) => {
      await deleteSecret(herald, req.params.id, req.params.secretId);
      return reply.code(204).send(null);
    },
  );
}
