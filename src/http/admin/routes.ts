import type { Herald } from '../../herald.js';
import type { App } from '../server.js';
import { registerAlertRoutes } from './alerts.js';
import { registerChannelRoutes } from './channels.js';
import { registerDeliveryRoutes } from './delivery.js';
import { registerDigestRoutes } from './digest.js';
import { registerEscalationRoutes } from './escalation.js';
import { mapServiceErrors, typedAdmin } from './schema-parts.js';
import { registerLifecycleRoutes } from './lifecycle.js';
import { registerRoutingRoutes } from './routing.js';
import { registerSourceRoutes } from './sources.js';
import { registerWebhookRoutes } from './webhooks.js';
import { registerOutboundRoutes } from './outbound.js';

/**
 * The admin API's endpoints (auth is done by `registerAdmin`). Handlers only translate HTTP to the
 * service layer in src/services and back; a ServiceError becomes `{error, message}` with its status.
 */
export function registerAdminRoutes(app: App, herald: Herald): void {
  void app.register(async (scope) => {
    const admin = typedAdmin(scope);
    mapServiceErrors(admin);
    registerSourceRoutes(admin, herald);
    registerChannelRoutes(admin, herald);
    registerWebhookRoutes(admin, herald);
    registerRoutingRoutes(admin, herald);
    registerAlertRoutes(admin, herald);
    registerDeliveryRoutes(admin, herald);
    registerLifecycleRoutes(admin, herald);
    registerOutboundRoutes(admin, herald);
    registerEscalationRoutes(admin, herald);
    registerDigestRoutes(admin, herald);
  });
}
