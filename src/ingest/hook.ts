import { z } from 'zod';
import { alertsBody, parseAlertsBody, type AlertInput } from '../domain/alert.js';
import type { Herald } from '../herald.js';
import { bearer, unauthorized } from './auth.js';
import { customValidator, zodValidator } from './validation.js';
import type { App } from './server.js';

const accepted = z.object({ ids: z.array(z.number()) });

/** POST /v1/alerts: Herald's native alert format. Answers 202 only after the alerts are committed. */
export function registerHook(app: App, herald: Herald): void {
  app.post(
    '/v1/alerts',
    {
      schema: {
        summary: 'Send one alert, or {"alerts": [...]}',
        security: [{ sourceToken: [] }],
        headers: z.object({ 'idempotency-key': z.string().min(1).max(255).optional() }).loose(),
        body: alertsBody,
        response: { 202: accepted },
      },
      // Validate by the shape the sender meant (see parseAlertsBody); the union above is for the OpenAPI document.
      validatorCompiler: (part) =>
        part.httpPart === 'body'
          ? customValidator((data) => {
              const parsed = parseAlertsBody(data);
              return parsed.ok ? { ok: true, value: parsed.alerts } : parsed;
            })
          : zodValidator(part as unknown as Parameters<typeof zodValidator>[0]),
      // Authenticate before the body is parsed: an unknown sender gets 401, not a validation report.
      onRequest: async (req, reply) => {
        const token = bearer(req);
        const sourceId = token === undefined ? undefined : herald.sourceAuth.sourceFor(token);
        if (sourceId === undefined) return unauthorized(reply, token === undefined ? 'missing bearer token' : 'unknown source token');
        req.sourceId = sourceId;
      },
    },
    async (req, reply) => {
      // The route's validator has already turned the body into a list of alerts.
      const inputs = req.body as unknown as AlertInput[];
      const result = await herald.acceptor.submit(req.sourceId ?? null, inputs, req.headers['idempotency-key']);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send({ ids: result.ids });
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    sourceId?: number;
  }
}
