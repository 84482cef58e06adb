import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Herald } from '../../herald.js';
import { sameSecret, bearer, unauthorized } from '../../ingest/auth.js';
import { AuthFailureThrottle } from '../auth-throttle.js';
import type { App } from '../server.js';
import { registerAdminRoutes } from './routes.js';

/**
 * The admin API behind HERALD_ADMIN_TOKEN, as one encapsulated fastify plugin: its onRequest hook runs
 * for exactly the routes registered inside it, chosen by the router after it decoded the path. The
 * check never looks at the URL text, so no spelling of a path (percent-encoding, `//`, `..`, case) can
 * reach an admin handler without the token, and no non-admin route is ever asked for it.
 */
export async function registerAdmin(app: App, herald: Herald): Promise<void> {
  await app.register(async (scope) => {
    const token = herald.config.adminToken;
    const throttle = new AuthFailureThrottle(herald.config.authFailures);
    scope.addHook('onRequest', async (req, reply) => {
      if (await throttle.refuseIfThrottled(req, reply)) return reply;
      if (!token || !sameSecret(bearer(req), token)) {
        await throttle.failed(req);
        return unauthorized(reply, 'admin token required');
      }
    });
    registerAdminRoutes(scope.withTypeProvider<ZodTypeProvider>(), herald);
  });
}
