import type { Logger } from 'pino';
import type { Config } from './config.js';
import { WriteHealth } from './store/sqlite/health.js';
import type { Db } from './store/sqlite/open.js';
import { openStore, type Store } from './store/index.js';
import { BotRest } from './discord/bot-rest.js';
import type { MessageOps } from './store/message-ops.js';
import type { Outbox } from './store/deliveries.js';
import { Scheduler } from './delivery/scheduler.js';
import { DiscordTransport } from './delivery/transport.js';
import type { WebhookStore } from './store/webhooks.js';
import { SourceAuth } from './ingest/auth.js';
import { Guard } from './guard.js';
import { createMetrics, type Metrics } from './metrics.js';
import { EscalationRunner } from './escalation/runner.js';
import { DigestJobs } from './jobs/digest.js';
import { RetentionJob } from './jobs/retention.js';
import { runScheduledDigest } from './services/digest.js';
import { Acceptor, buildPipeline } from './pipeline/index.js';
import type { MuteStore } from './store/mutes.js';
import type { RouteStore } from './store/routes.js';
import { OutboundAddressGuard } from './outbound/address-policy.js';
import { OutboundTargets } from './outbound/targets.js';
import { OutboundWorker } from './outbound/worker.js';
import { Heartbeats } from './services/heartbeats.js';
import { resolveStaleAlerts } from './services/auto-resolve.js';
import { HeartbeatRunner } from './jobs/heartbeats.js';

/** Herald's services, wired once; every entry point (HTTP hook, admin API, later the bot and cron) uses these. */
export interface Herald {
  config: Config;
  /** Every table, behind one interface (src/store/): services reach the database only through it. */
  store: Store;
  /** The SQLite handle (= store.db), kept for tests that inspect tables. */
  db: Db;
  log: Logger;
  metrics: Metrics;
  outbox: Outbox;
  /** Edits and deletes of messages already sent (acknowledge, resolve, retract). */
  ops: MessageOps;
  scheduler: Scheduler;
  routes: RouteStore;
  mutes: MuteStore;
  /** The bot's REST client, present when DISCORD_TOKEN is set: creates webhooks, deletes messages whose webhook is gone. */
  bot: BotRest | undefined;
  acceptor: Acceptor;
  sourceAuth: SourceAuth;
  webhooks: WebhookStore;
  /** Outbound targets beyond Discord (Slack-compatible, signed generic webhooks) per route, and their sender. */
  outboundTargets: OutboundTargets;
  outbound: OutboundWorker;
  /** Which addresses outbound targets may reach (SSRF; HERALD_OUTBOUND_ALLOWLIST), at creation and at each send. */
  outboundGuard: OutboundAddressGuard;
  /** Escalation chains' durable timers: armed at ingest, steps posted through the outbox; started with the scheduler. */
  escalation: EscalationRunner;
  /** The daily digests' cron tasks: started by main.ts (`digests.start()`), rescheduled when the digest settings store signals a change. */
  digests: DigestJobs;
  /** The daily retention job (deletes finished alerts and what refers to them): started by main.ts (`retention.start()`). */
  retention: RetentionJob;
  /** Heartbeats (dead man's switches): declarations and beats; a miss raises an alert through the acceptor. */
  heartbeats: Heartbeats;
  /** Raises missed heartbeats and auto-resolves stale alerts: started with delivery, stopped in close. */
  heartbeatRunner: HeartbeatRunner;
  /**
   * Guards every timer, interval, cron task and callback that touches the database:
   * `guard.wrap(what, body, { retry? })` returns a function that never throws (see src/guard.ts).
   */
  guard: Guard;
  /** The last database write failure seen (for /readyz). */
  writeHealth: WriteHealth;
  /** Stops delivery (bounded wait for requests in flight) and closes the database. */
  close(): Promise<void>;
}

/** `clock`: the wall clock business hours, heartbeats and staleness are judged by (tests shift it; default the process clock). */
export function createHerald(config: Config, log: Logger, opts: { clock?: () => number } = {}): Herald {
  const store = openStore(config.dbPath, { sync: config.dbSync, onWarning: (message) => log.warn(message), agingMs: config.delivery.agingMs });
  const { db, deliveries: outbox, webhooks, messageOps: ops, routes, mutes } = store;
  const writeHealth = new WriteHealth();
  const guard = new Guard(log, writeHealth);
  const bot = config.discord.token ? new BotRest({ apiUrl: config.discord.apiUrl, token: config.discord.token, timeoutMs: config.delivery.requestTimeoutMs }) : undefined;
  const metrics = createMetrics({ queueDepth: () => outbox.depthByPriority(), breakers: () => webhooks.breakerCounts() });
  const transport = new DiscordTransport(config.discord.apiUrl, config.delivery.requestTimeoutMs);
  const scheduler = new Scheduler({
    transactions: store, guard, outbox, ops, bot, store: webhooks, transport, config: config.delivery, metrics, log: log.child({ component: 'scheduler' }),
    // Escalation steps queue deliveries: its timers run only once delivery has started (leases recovered),
    // so a lane never claims a row that the start-up recovery would then hand out a second time.
    onStarted: () => {
      escalation.start();
      heartbeatRunner.start();
    },
  });
  const escalation = new EscalationRunner({
    transactions: store,
    escalations: store.escalations,
    routes,
    outbox,
    wake: (channelId, n) => scheduler.wake(channelId, n),
    pollMs: config.escalationPollMs,
    log: log.child({ component: 'escalation' }),
    guard,
  });
  const acceptor = new Acceptor(
    store,
    buildPipeline({ routes, mutes, lookup: store.alerts, reopenWindowMs: config.reopenWindowMs, ...(opts.clock ? { clock: opts.clock } : {}) }),
    guard.wrap('waking delivery after an ingest commit', (counts: Map<number, number>, opsChannels: Set<number>) => {
      for (const [channelId, n] of counts) scheduler.wake(channelId, n);
      escalation.afterCommit();
      for (const channelId of opsChannels) scheduler.wakeOps(channelId);
    }),
    metrics,
    log.child({ component: 'ingest' }),
    escalation,
  );
  const digestDeps = { store, config, scheduler };
  const digests = new DigestJobs({
    settings: store.digests,
    runScheduled: (channelId, now) => runScheduledDigest(digestDeps, channelId, now),
    guard,
    log: log.child({ component: 'digest' }),
  });
  const retention = new RetentionJob(store.retention, config.retention, log.child({ component: 'retention' }));
  const sourceAuth = new SourceAuth(store.sources);
  const outboundTargets = new OutboundTargets(store.outbound);
  const outboundGuard = new OutboundAddressGuard(config.outboundAllowlist);
  const outbound = new OutboundWorker(store, config.delivery, log.child({ component: 'outbound' }), outboundGuard, guard);
  // The worker starts at the first enqueue (main.ts also starts it at boot, for rows left by a restart).
  outboundTargets.onEnqueued = () => outbound.start();
  // New, reopened or raised alerts tell the route's targets it fires; resolves and acknowledgements
  // (a sender's, a person's) are follow-ups queued by the lifecycle change (services/lifecycle.ts).
  acceptor.afterInsert = (alertId, a) => {
    if (a.mutedBy === null) outboundTargets.enqueue(alertId, a.routeIds, 'alert.firing', a.receivedAt);
  };
  acceptor.followUps = outboundTargets;

  const heartbeats = new Heartbeats({ store, acceptor, log: log.child({ component: 'heartbeats' }), ...(opts.clock ? { clock: opts.clock } : {}) });
  const heartbeatRunner = new HeartbeatRunner({
    heartbeats,
    resolveStale: (now) => resolveStaleAlerts({ store, scheduler, outboundTargets }, now),
    pollMs: config.heartbeatPollMs,
    sweepMs: config.autoResolveSweepMs,
    guard,
    log: log.child({ component: 'heartbeats' }),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });

  let closed = false;
  const herald: Herald = {
    config, store, db, log, metrics, outbox, ops, scheduler, routes, mutes, bot, acceptor, sourceAuth, webhooks, outboundTargets, outbound, outboundGuard, escalation, digests, retention, heartbeats, heartbeatRunner, guard, writeHealth,
    async close() {
      if (closed) return;
      closed = true;
      acceptor.flush();
      escalation.stop();
      heartbeatRunner.stop();
      digests.stop();
      retention.stop();
      await scheduler.stop(config.delivery.requestTimeoutMs + 1000);
      await outbound.stop();
      store.close();
    },
  };
  return herald;
}
