import type { Herald } from '../herald.js';
import { sameSecret, bearer, unauthorized } from '../ingest/auth.js';
import type { App } from '../ingest/server.js';
import { registerAdminRoutes } from './routes.js';

/** The admin API under /v1/admin, behind HERALD_ADMIN_TOKEN. */
export function registerAdmin(app: App, herald: Herald): void {
  const token = herald.config.adminToken;
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/admin')) return;
    if (!token || !sameSecret(bearer(req), token)) return unauthorized(reply, 'admin token required');
  });
  registerAdminRoutes(app, herald);
}
