import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify';
import { jsonSchemaTransform, serializerCompiler } from 'fastify-type-provider-zod';
import { DatabaseUnavailableError, isDbUnavailable } from '../store/sqlite/health.js';
import type { InputProblem } from '../domain/alert.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { WriteHealth } from '../store/sqlite/health.js';
import { adminApi, type AdminApiDeps } from './admin/index.js';
import { AuthFailureThrottle } from './auth-throttle.js';
import { consoleUi, type ConsoleDeps, type EmulatedDiscord } from './console/index.js';
import { alertHook, type AlertHookDeps } from './hook.js';
import { KnownPaths } from './known-paths.js';
import { BodyError, registerJsonParser } from './json-body.js';
import { opsEndpoints, type OpsDeps } from './ops.js';
import { addServerAnswers } from './server-answers.js';
import { typed, type App } from './typed-app.js';
import { zodValidator } from './validation.js';

/**
 * What the server uses of the app: what its three parts use, plus the log, the body limit and the write
 * health (a 503 for a database that cannot write is noted for /readyz). The app (src/herald.ts) is one.
 */
export type ServerDeps = AlertHookDeps &
  AdminApiDeps &
  ConsoleDeps &
  OpsDeps & {
    log: Logger;
    config: Pick<Config, 'bodyLimit'>;
    writeHealth: Pick<WriteHealth, 'noteFailure'>;
  };

export interface ServerOptions {
  /** Emulator mode: the built-in Discord, which the console then shows (its channels, buttons to press). */
  emulated?: EmulatedDiscord | undefined;
}

/**
 * Herald's HTTP server: the alert hook, the admin API, the web console, health and metrics, and the
 * OpenAPI document generated from the same zod schemas that validate requests.
 */
export async function buildServer(herald: ServerDeps, opts: ServerOptions = {}): Promise<App> {
  const app = typed(
    Fastify({
      loggerInstance: herald.log.child({ component: 'http' }) as FastifyBaseLogger,
      bodyLimit: herald.config.bodyLimit,
      // No line per request: at thousands of alerts a second that is the log's whole volume.
      logController: new LogController({ disableRequestLogging: true }),
      // No child logger per request either: with redaction configured, making one costs about 2% of the hook's
      // time, for a request id that only the rare error line would carry.
      childLoggerFactory: (logger) => logger,
      forceCloseConnections: 'idle',
      // Alerts are machine-sent; a slow client should not hold a connection forever.
      requestTimeout: 30_000,
    }),
  );

  // Herald speaks JSON only: without this, fastify's built-in text/plain parser would turn a wrong
  // content type into a confusing validation error instead of a 415.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app);

  // Validation reports every problem as {path, message}; fastify puts the array on `err.validation`.
  app.setValidatorCompiler(zodValidator);
  app.setSerializerCompiler(serializerCompiler);
  let busyLoggedAt = 0;
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof DatabaseUnavailableError || isDbUnavailable(err)) {
      // Another process holds the write lock, or the disk is full: nothing was stored; the sender retries.
      herald.writeHealth.noteFailure(err.cause ?? err);
      if (Date.now() - busyLoggedAt > 1000) {
        busyLoggedAt = Date.now();
        req.log.warn({ code: (err.cause as { code?: string } | undefined)?.code ?? err.code }, 'database cannot take writes; answering 503');
      }
      reply.header('retry-after', '1');
      return reply.code(503).send({ error: 'unavailable', message: 'The database is busy or cannot be written right now; nothing was stored. Retry later.' });
    }
    if (err.validation) {
      const where = err.validationContext && err.validationContext !== 'body' ? `${err.validationContext}.` : '';
      const problems = (err.validation as unknown as InputProblem[]).map((p) => ({ path: `${where}${p.path}`, message: p.message }));
      return reply.code(400).send({ error: 'invalid_request', problems });
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return reply.code(413).send({ error: 'payload_too_large', message: `body larger than ${herald.config.bodyLimit} bytes` });
    if (status === 415) {
      const message = err instanceof BodyError ? err.message : 'send JSON with Content-Type: application/json';
      return reply.code(415).send({ error: 'unsupported_media_type', message });
    }
    if (status === 400) return reply.code(400).send({ error: 'invalid_request', problems: [{ path: '(body)', message: err.message }] });
    if (status < 500) return reply.code(status).send({ error: err.code ?? 'error', message: err.message });
    req.log.error({ err }, 'request failed');
    return reply.code(503).send({ error: 'unavailable', message: 'Herald could not process the request; nothing was stored. Retry later.' });
  });
  // Registered before every route, so they see them all (onRoute hooks are inherited by plugins), and
  // before the OpenAPI plugin, so that it documents the answers added here.
  app.addHook('onRoute', addServerAnswers);
  const known = new KnownPaths();
  app.addHook('onRoute', (route) => known.add(route.method, route.url));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allow = known.allowed(req.url);
    if (allow.length) {
      return reply
        .code(405)
        .header('allow', allow.join(', '))
        .send({ error: 'method_not_allowed', message: `${req.method} is not allowed on ${path}; it answers ${allow.join(', ')}` });
    }
    return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${path}` });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Herald', version: '0.1.0', description: 'Discord alert router: alert hook and admin API' },
      components: {
        securitySchemes: {
          sourceToken: { type: 'http', scheme: 'bearer', description: 'A source token from POST /v1/admin/sources' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'HERALD_ADMIN_TOKEN' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  // Each part is an encapsulated plugin under its prefix: its hooks (the admin token check) and error
  // handler cover exactly its own routes, and its routes name only their part of the path.
  await app.register(alertHook(herald), { prefix: '/v1' });
  // One count of wrong admin tokens for the API and the console's login: a guess costs the same at either.
  const adminThrottle = new AuthFailureThrottle(herald.config.authFailures);
  await app.register(adminApi(herald, adminThrottle), { prefix: '/v1/admin' });
  await app.register(consoleUi(herald, { throttle: adminThrottle, emulated: opts.emulated }), { prefix: '/console' });
  await app.register(opsEndpoints(herald));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
