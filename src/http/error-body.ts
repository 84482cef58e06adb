import { z } from 'zod';

/**
 * The one shape of every refusal Herald's HTTP API sends: a code, a plain sentence, and for a 400
 * about the request's content, one `{path, message}` per problem.
 */
export const errorBody = z.object({
  error: z.string(),
  message: z.string().optional(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.output<typeof errorBody>;
