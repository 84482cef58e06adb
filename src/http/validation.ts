import type { FastifySchemaCompiler } from 'fastify';
import type { ZodType } from 'zod';
import { describeIssues } from '../domain/alert.js';
import { PLAIN } from '../domain/messages.js';

/**
 * Fastify validator for zod schemas that reports every problem as `{path, message}`. Fastify puts the
 * returned array on `err.validation`, and the server's error handler turns it into the 400 answer.
 */
export const zodValidator: FastifySchemaCompiler<ZodType> =
  ({ schema }) =>
  (data: unknown) => {
    const result = schema.safeParse(data, PLAIN);
    return result.success ? { value: result.data } : { error: describeIssues(result.error) as unknown as Error };
  };
