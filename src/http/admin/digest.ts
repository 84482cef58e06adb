import { z } from 'zod';
import { deleteDigest, digestInput, getDigest, postDigest, previewDigest, setDigest } from '../../services/digest.js';
import { digestReport, digestSettingView } from '../../services/views.js';
import type { App } from '../typed-app.js';
import { admin, errorsWith404, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

const range = z.object({
  from: z.coerce.number().int().min(0).optional().describe('Start (epoch ms, included); default: 24 hours before `to`'),
  to: z.coerce.number().int().min(0).optional().describe('End (epoch ms, excluded); default: now'),
});

/** What these routes use of the app: what the digest services they call need. */
export type DigestRouteDeps = DepsOf<typeof deleteDigest> &
  DepsOf<typeof getDigest> &
  DepsOf<typeof postDigest> &
  DepsOf<typeof previewDigest> &
  DepsOf<typeof setDigest>;

/** Daily digests: per-channel settings, a preview of the report, and posting one now. */
export function registerDigestRoutes(app: App, herald: DigestRouteDeps): void {
  app.get(
    '/channels/:id/digest',
    { schema: { ...admin, summary: "A channel's daily digest settings", params: idParams, response: { 200: digestSettingView, ...errorsWith404 } } },
    async (req) => await getDigest(herald, req.params.id),
  );

  app.put(
    '/channels/:id/digest',
    {
      schema: {
        ...admin,
        summary: "Set a channel's daily digest: when (HH:MM) and in which time zone",
        params: idParams,
        body: digestInput,
        response: { 200: digestSettingView, ...errorsWith404 },
      },
    },
    async (req) => await setDigest(herald, req.params.id, req.body),
  );

  app.delete(
    '/channels/:id/digest',
    { schema: { ...admin, summary: "Remove a channel's daily digest", params: idParams, response: { 204: noContent, ...errorsWith404 } } },
    async (req, reply) => {
      await deleteDigest(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/channels/:id/digest/report',
    {
      schema: {
        ...admin,
        summary: "The digest of a channel's alerts over a range (default: the last 24 hours), without posting it",
        params: idParams,
        querystring: range,
        response: { 200: digestReport, ...errorsWith404 },
      },
    },
    async (req) => {
      await getDigest(herald, req.params.id);
      const to = req.query.to ?? Date.now();
      return await previewDigest(herald, req.params.id, { from: req.query.from ?? to - 86_400_000, to });
    },
  );

  app.post(
    '/channels/:id/digest/send',
    {
      schema: {
        ...admin,
        summary: "Post a channel's digest now (through the outbox), covering the range given or the last 24 hours",
        params: idParams,
        body: range.nullish(),
        response: { 202: digestReport, ...errorsWith404 },
      },
    },
    async (req, reply) => {
      const now = Date.now();
      const to = req.body?.to ?? now;
      return reply.code(202).send(await postDigest(herald, req.params.id, now, { from: req.body?.from ?? to - 86_400_000, to }));
    },
  );
}
