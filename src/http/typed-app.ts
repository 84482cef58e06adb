import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

/**
 * A fastify instance (the server, or a plugin's scope) typed for zod schemas, so route handlers see
 * their parsed params, query and body. In a module of its own so that the server and the plugins it
 * registers can both name it without importing each other.
 */
export type App = ReturnType<typeof typed>;
export const typed = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>();
