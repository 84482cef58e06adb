import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ServiceError } from '../../services/errors.js';

/** The admin routes' own fastify scope, typed for zod schemas (same shape as server.ts's `App`). */
export type AdminApp = ReturnType<typeof typedAdmin>;
export const typedAdmin = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>();

/**
 * Answers a ServiceError with its status and `{error, message}` (plus `problems` for a 400 about one
 * field, like a validation answer). Anything else goes on to the server's own error handler.
 */
export function mapServiceErrors(app: AdminApp): void {
  app.setErrorHandler((err, _req, reply) => {
    if (!(err instanceof ServiceError)) throw err;
    const body: ErrorBody = { error: err.code, message: err.message };
    if (err.status === 400 && err.path) body.problems = [{ path: err.path, message: err.message }];
    return reply.code(err.status).send(body);
  });
}

export const errorBody = z.object({
  error: z.string(),
  message: z.string().optional(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
type ErrorBody = z.output<typeof errorBody>;

/** Common schema parts: tags and security for the OpenAPI document, and the error answers. */
export const admin = { tags: ['admin'], security: [{ adminToken: [] }] };
export const errors = { 400: errorBody, 401: errorBody };
export const errorsWith404 = { ...errors, 404: errorBody };

export const id = z.coerce.number().int().positive();
export const idParams = z.object({ id: id.describe('A positive integer id') });
export const limit = z.coerce.number().int().min(1).max(1000).default(50).describe('How many to return (1 to 1000, default 50)');
export const beforeId = id.optional().describe('Paging: only items with a smaller id (pass the last id of the previous page)');
export const flag = z.stringbool({ truthy: ['true', '1'], falsy: ['false', '0'] });
export const noContent = z.null().describe('Done; no body');
