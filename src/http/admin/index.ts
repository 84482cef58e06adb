import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { sameSecret } from '../../domain/tokens.js';
import type { Config } from '../../config.js';
import { AuthFailureThrottle } from '../auth-throttle.js';
import { bearer, unauthorized } from '../bearer.js';
import { typed } from '../typed-app.js';
import { type AlertRouteDeps, registerAlertRoutes } from './alerts.js';
import { type ChannelRouteDeps, registerChannelRoutes } from './channels.js';
import { type ConfigRouteDeps, registerConfigRoutes } from './config.js';
import { type DeliveryRouteDeps, registerDeliveryRoutes } from './delivery.js';
import { type DigestRouteDeps, registerDigestRoutes } from './digest.js';
import { type EscalationRouteDeps, registerEscalationRoutes } from './escalation.js';
import { type HeartbeatRouteDeps, registerHeartbeatRoutes } from './heartbeats.js';
import { type IncidentRouteDeps, registerIncidentRoutes } from './incidents.js';
import { type LifecycleRouteDeps, registerLifecycleRoutes } from './lifecycle.js';
import { type OutboundRouteDeps, registerOutboundRoutes } from './outbound.js';
import { type RoutingRouteDeps, registerRoutingRoutes } from './routing.js';
import { mapServiceErrors } from './service-errors.js';
import { type SourceRouteDeps, registerSourceRoutes } from './sources.js';
import { type WebhookRouteDeps, registerWebhookRoutes } from './webhooks.js';

/** What the admin API uses of the app: the admin token and its throttle's settings, and what each route file uses. */
export type AdminApiDeps = { config: Pick<Config, 'adminToken' | 'authFailures'>; store: Pick<Store, 'durable'> } & SourceRouteDeps &
  ChannelRouteDeps &
  WebhookRouteDeps &
  RoutingRouteDeps &
  AlertRouteDeps &
  IncidentRouteDeps &
  DeliveryRouteDeps &
  LifecycleRouteDeps &
  OutboundRouteDeps &
  EscalationRouteDeps &
  HeartbeatRouteDeps &
  DigestRouteDeps &
  ConfigRouteDeps;

/**
 * The admin API behind HERALD_ADMIN_TOKEN, as one encapsulated fastify plugin (registered with its
 * prefix, `/v1/admin`; its routes name only their own part of the path). Its onRequest hook runs for
 * exactly the routes registered inside it, chosen by the router after it decoded the path. The check
 * never looks at the URL text, so no spelling of a path (percent-encoding, `//`, `..`, case) can reach
 * an admin handler without the token, and no non-admin route is ever asked for it.
 *
 * `throttle`: the count of wrong tokens, shared with the console's login (src/http/server.ts).
 *
 * Handlers only translate HTTP to the service layer in src/services and back; a ServiceError becomes
 * `{error, message}` with its status.
 */
export function adminApi(herald: AdminApiDeps, throttle = new AuthFailureThrottle(herald.config.authFailures)) {
  return async (scope: FastifyInstance): Promise<void> => {
    const app = typed(scope);
    const token = herald.config.adminToken;
    app.addHook('onRequest', async (req, reply) => {
      if (await throttle.refuseIfThrottled(req, reply)) return reply;
      if (!token || !sameSecret(bearer(req), token)) {
        await throttle.failed(req);
        return unauthorized(reply, 'admin token required');
      }
    });
    // A change is answered once it would survive power loss (HERALD_DB_SYNC=full), as an alert's 202 is.
    app.addHook('onSend', async (req) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') await herald.store.durable();
    });
    mapServiceErrors(app);
    registerSourceRoutes(app, herald);
    registerChannelRoutes(app, herald);
    registerWebhookRoutes(app, herald);
    registerRoutingRoutes(app, herald);
    registerAlertRoutes(app, herald);
    registerIncidentRoutes(app, herald);
    registerDeliveryRoutes(app, herald);
    registerLifecycleRoutes(app, herald);
    registerOutboundRoutes(app, herald);
    registerEscalationRoutes(app, herald);
    registerDigestRoutes(app, herald);
    registerHeartbeatRoutes(app, herald);
    registerConfigRoutes(app, herald);
  };
}
