import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDb, type Db } from './db/open.js';
import { Outbox } from './delivery/outbox.js';
import { Scheduler } from './delivery/scheduler.js';
import { DiscordTransport } from './delivery/transport.js';
import { WebhookStore } from './delivery/webhook-store.js';
import { SourceAuth } from './ingest/auth.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Acceptor, RouteTable, buildPipeline } from './pipeline/index.js';

/** Herald's services, wired once; every entry point (HTTP hook, admin API, later the bot and cron) uses these. */
export interface Herald {
  config: Config;
  db: Db;
  log: Logger;
  metrics: Metrics;
  outbox: Outbox;
  scheduler: Scheduler;
  routes: RouteTable;
  acceptor: Acceptor;
  sourceAuth: SourceAuth;
  webhooks: WebhookStore;
  /** Stops delivery (bounded wait for requests in flight) and closes the database. */
  close(): Promise<void>;
}

export function createHerald(config: Config, log: Logger): Herald {
  const db = openDb(config.dbPath, { sync: config.dbSync });
  const outbox = new Outbox(db, config.delivery.agingMs);
  const webhooks = new WebhookStore(db);
  const metrics = createMetrics({ queueDepth: () => outbox.depthByPriority(), breakers: () => webhooks.breakerCounts() });
  const transport = new DiscordTransport(config.discord.apiUrl, config.delivery.requestTimeoutMs);
  const scheduler = new Scheduler({ outbox, store: webhooks, transport, config: config.delivery, metrics, log: log.child({ component: 'scheduler' }) });
  const routes = new RouteTable(db);
  const acceptor = new Acceptor(
    db,
    buildPipeline({ routes }),
    outbox,
    (counts) => {
      for (const [channelId, n] of counts) scheduler.wake(channelId, n);
    },
    metrics,
    log.child({ component: 'ingest' }),
  );
  const sourceAuth = new SourceAuth(db);

  let closed = false;
  return {
    config, db, log, metrics, outbox, scheduler, routes, acceptor, sourceAuth, webhooks,
    async close() {
      if (closed) return;
      closed = true;
      acceptor.flush();
      await scheduler.stop(config.delivery.requestTimeoutMs + 1000);
      db.$client.close();
    },
  };
}
