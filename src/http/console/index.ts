import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { sameSecret } from '../../domain/tokens.js';
import type { AuthFailureThrottle } from '../auth-throttle.js';
import type { EmulatedDiscord } from './emulated.js';
import { Kit, personError, type FormBody } from './kit.js';
import { errorPage, loginPage } from './layout.js';
import { ConsoleSessions, SESSION_TTL_MS } from './sessions.js';
import { CONSOLE_CSS } from './styles.js';
import { registerAlertPages, type AlertPageDeps } from './pages/alerts.js';
import { registerIncidentPages, type IncidentPageDeps } from './pages/incidents.js';
import { registerConfigPages, type ConfigPageDeps } from './pages/config.js';
import { registerDeliveryPages, type DeliveryPageDeps } from './pages/delivery.js';
import { registerChannelPages, type ChannelPageDeps } from './pages/channels.js';
import { registerRoutingPages, type RoutingPageDeps } from './pages/routing.js';
import { registerOutboundPages, type OutboundPageDeps } from './pages/outbound.js';
import { registerEmulatorPages } from './pages/emulator.js';

export type { EmulatedDiscord } from './emulated.js';

/** What the console uses of the app: the admin token, and what each page's services need. */
export type ConsoleDeps = { config: Pick<Config, 'adminToken'> } & AlertPageDeps & IncidentPageDeps & ConfigPageDeps & DeliveryPageDeps & ChannelPageDeps & RoutingPageDeps & OutboundPageDeps;

export interface ConsoleOptions {
  /** The admin API's throttle of wrong tokens: a guess counts the same wherever it is made. */
  throttle: AuthFailureThrottle;
  /** Emulator mode only: the built-in Discord, shown as Discord would show it. */
  emulated?: EmulatedDiscord | undefined;
  sessions?: ConsoleSessions;
}

export const COOKIE = 'herald_console';

/** htmx, served from node_modules (no CDN): read once at start. */
const htmxSource = (() => {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8');
})();

/**
 * No inline script or style at all; forms post only to the console; no framing. htmx needs neither eval
 * nor inline styles with the settings the layout gives it.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** Paths served without a session: the login form and the static assets the login page needs. */
const PUBLIC = new Set(['/console/login', '/console/assets/console.css', '/console/assets/htmx.min.js']);

/**
 * The web console under /console (registered with that prefix), behind the admin token: a login form
 * sets an HttpOnly, SameSite=Strict cookie holding a random session id (the token never leaves the login
 * POST); every POST carries the session's CSRF token and, from a browser, an Origin of this host. Pages
 * are server-rendered HTML (src/http/console/html.ts escapes every value), enhanced by htmx when scripts
 * run and complete without them. Pages call the same services as the admin API.
 */
export function consoleUi(herald: ConsoleDeps, opts: ConsoleOptions) {
  return async (scope: FastifyInstance): Promise<void> => {
    const sessions = opts.sessions ?? new ConsoleSessions();
    const kit = new Kit(opts.emulated);
    // HTML pages, not API: out of the OpenAPI document.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    await scope.register(cookie);
    await scope.register(formbody, { bodyLimit: 64 * 1024 });

    scope.addHook('onRequest', async (req, reply) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cache-control', 'no-store');
    });

    // After the body is parsed, before any handler: the session (pages), Origin and CSRF token (POSTs).
    scope.addHook('preHandler', async (req, reply) => {
      const path = req.routeOptions.url ?? req.url.split('?')[0]!;
      if (req.method === 'POST' && !sameOrigin(req)) return refuse(reply, 403, 'Refused', 'This form was posted from another site (its Origin is not this console).');
      if (PUBLIC.has(path)) return;
      const s = sessions.get(req.cookies[COOKIE]);
      if (!s) {
        if (req.method === 'GET' || req.method === 'HEAD') return reply.code(303).header('location', '/console/login').send();
        return refuse(reply, 401, 'Not logged in', 'Your console session has ended: log in again.');
      }
      if (req.method === 'POST' && !sessions.csrfMatches(s, (req.body as FormBody | undefined)?._csrf)) {
        return refuse(reply, 403, 'Refused', 'This form has no valid CSRF token (it did not come from this console session): reload the page and try again.');
      }
      kit.attach(req, s);
    });

    const refuse = (reply: FastifyReply, status: number, title: string, text: string) => kit.send(reply, errorPage(title, text), status);

    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const mine = personError(err);
      if (mine !== undefined) return kit.send(reply, errorPage('Not possible', mine), (err as { status?: number }).status ?? 400);
      if ((err.statusCode ?? 500) < 500) return kit.send(reply, errorPage('Bad request', err.message), err.statusCode!);
      req.log.error({ err }, 'console request failed');
      return kit.send(reply, errorPage('Something went wrong', 'Herald could not show this page; the log has the details. Try again.'), 503);
    });
    scope.setNotFoundHandler((req, reply) => kit.send(reply, errorPage('Not found', `There is no console page ${req.url.split('?')[0]}.`), 404));

    scope.get('/assets/console.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_CSS));
    scope.get('/assets/htmx.min.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(htmxSource));

    scope.get('/login', async (req, reply) => {
      if (sessions.get(req.cookies[COOKIE])) return reply.code(303).header('location', '/console').send();
      return kit.send(reply, loginPage((req.query as { bye?: string }).bye === '1' ? { kind: 'ok', text: 'Logged out.' } : undefined));
    });

    scope.post('/login', async (req, reply) => {
      const wait = await opts.throttle.throttledFor(req);
      if (wait !== undefined) {
        reply.header('retry-after', String(wait));
        return kit.send(reply, loginPage({ kind: 'error', text: `Too many wrong tokens from this address: try again in ${wait} s.` }), 429);
      }
      const given = (req.body as FormBody | undefined)?.token;
      const token = herald.config.adminToken;
      if (!token || typeof given !== 'string' || !sameSecret(given.trim(), token)) {
        await opts.throttle.failed(req);
        return kit.send(reply, loginPage({ kind: 'error', text: 'That is not the admin token (HERALD_ADMIN_TOKEN).' }), 401);
      }
      const s = sessions.create();
      reply.setCookie(COOKIE, s.id, { path: '/console', httpOnly: true, sameSite: 'strict', secure: isHttps(req), maxAge: SESSION_TTL_MS / 1000 });
      return reply.code(303).header('location', '/console').send();
    });

    scope.post('/logout', async (req, reply) => {
      sessions.destroy(kit.session(req).id);
      reply.clearCookie(COOKIE, { path: '/console', httpOnly: true, sameSite: 'strict', secure: isHttps(req) });
      // A redirect, so that the address bar (a boosted form follows it) shows the login page, not /logout.
      return reply.code(303).header('location', '/console/login?bye=1').send();
    });

    registerDeliveryPages(scope, herald, kit);
    registerAlertPages(scope, herald, kit);
    registerIncidentPages(scope, herald, kit);
    registerConfigPages(scope, herald, kit);
    registerChannelPages(scope, herald, kit);
    registerRoutingPages(scope, herald, kit);
    registerOutboundPages(scope, herald, kit);
    // Only in emulator mode: without the emulator these routes are not registered at all (404).
    if (opts.emulated) registerEmulatorPages(scope, opts.emulated, kit);
  };
}

/** HTTPS directly, or through a proxy that says so: then the cookie is Secure. */
function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

/**
 * Whether a POST comes from a page of this host: its Origin (or, without one, its Referer) names this
 * Host, or the X-Forwarded-Host a proxy in front passed on (a page cannot make a browser send either
 * header to another site). A client that sends neither Origin nor Referer (curl, a script) is not a
 * browser another site could drive, and still needs the session cookie and the CSRF token.
 */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin ?? req.headers.referer;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = req.headers['x-forwarded-host'];
  const proxied = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return host === req.headers.host || (proxied !== undefined && host === proxied);
}
