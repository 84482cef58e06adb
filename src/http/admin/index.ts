import type { FastifyInstance } from 'fastify';
import { sameSecret } from '../../domain/tokens.js';
import type { Herald } from '../../herald.js';
import { AuthFailureThrottle } from '../auth-throttle.js';
import { bearer, unauthorized } from '../bearer.js';
import { typed } from '../typed-app.js';
import { registerAlertRoutes } from './alerts.js';
import { registerChannelRoutes } from './channels.js';
import { registerDeliveryRoutes } from './delivery.js';
import { registerDigestRoutes } from './digest.js';
import { registerEscalationRoutes } from './escalation.js';
import { registerHeartbeatRoutes } from './heartbeats.js';
import { registerLifecycleRoutes } from './lifecycle.js';
import { registerOutboundRoutes } from './outbound.js';
import { registerRoutingRoutes } from './routing.js';
import { mapServiceErrors } from './service-errors.js';
import { registerSourceRoutes } from './sources.js';
import { registerWebhookRoutes } from './webhooks.js';

/**
 * The admin API behind HERALD_ADMIN_TOKEN, as one encapsulated fastify plugin (registered with its
 * prefix, `/v1/admin`; its routes name only their own part of the path). Its onRequest hook runs for
 * exactly the routes registered inside it, chosen by the router after it decoded the path. The check
 * never looks at the URL text, so no spelling of a path (percent-encoding, `//`, `..`, case) can reach
 * an admin handler without the token, and no non-admin route is ever asked for it.
 *
 * Handlers only translate HTTP to the service layer in src/services and back; a ServiceError becomes
 * `{error, message}` with its status.
 */
export function adminApi(herald: Herald) {
  return async (scope: FastifyInstance): Promise<void> => {
    const app = typed(scope);
    const token = herald.config.adminToken;
    const throttle = new AuthFailureThrottle(herald.config.authFailures);
    app.addHook('onRequest', async (req, reply) => {
      if (await throttle.refuseIfThrottled(req, reply)) return reply;
      if (!token || !sameSecret(bearer(req), token)) {
        await throttle.failed(req);
        return unauthorized(reply, 'admin token required');
      }
    });
    mapServiceErrors(app);
    registerSourceRoutes(app, herald);
    registerChannelRoutes(app, herald);
    registerWebhookRoutes(app, herald);
    registerRoutingRoutes(app, herald);
    registerAlertRoutes(app, herald);
    registerDeliveryRoutes(app, herald);
    registerLifecycleRoutes(app, herald);
    registerOutboundRoutes(app, herald);
    registerEscalationRoutes(app, herald);
    registerDigestRoutes(app, herald);
    registerHeartbeatRoutes(app, herald.heartbeats);
  };
}
