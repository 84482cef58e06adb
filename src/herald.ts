import type { Logger } from 'pino';
import type { Config } from './config.js';
import { WriteHealth } from './store/sqlite/health.js';
import type { Db } from './store/sqlite/open.js';
import { openStore, type Store } from './store/index.js';
import { BotRest } from './discord/bot-rest.js';
import { ThreadPolicy } from './delivery/threads.js';
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
import { commitSignals, deliverySignals, type CommitSignals } from './delivery/signals.js';
import { ReadinessChecks } from './services/readiness.js';
import { Heartbeats } from './services/heartbeats.js';
import { resolveStaleAlerts } from './services/auto-resolve.js';
import { HeartbeatRunner } from './jobs/heartbeats.js';
import { ConfigReloader, diffConfigText, type DiffAnswer } from './services/config/reloader.js';
import type { LoadedConfig } from './services/config/load.js';

/**
 * Herald's parts, wired once by `createHerald`; main.ts and the HTTP server assembly take the whole of it,
 * every other module declares the narrow Deps it uses, which this satisfies structurally.
 */
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
  /** The one port through which whatever committed tells the workers (scheduler, outbound worker, escalation runner). */
  signals: CommitSignals;
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
  /** Escalation chains' durable timers: armed at ingest, steps posted through the outbox; started by `startDelivery`, after the scheduler. */
  escalation: EscalationRunner;
  /** The daily digests' cron tasks: started by `start()`, rescheduled when the digest settings store signals a change. */
  digests: DigestJobs;
  /** The daily retention job (deletes finished alerts and what refers to them): started by `start()`. */
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
  /** /readyz's checks beyond storage and delivery: the bot adds its own when it starts (after HTTP listens). */
  readiness: ReadinessChecks;
  /**
   * The configuration file (HERALD_CONFIG or ./herald.yaml), when there is one: applied by main after start,
   * on SIGHUP and on POST /v1/admin/config/reload; its status is part of /readyz.
   */
  configFile: ConfigReloader | undefined;
  /** What applying a configuration file's text would change here (with or without a file of Herald's own): POST /v1/admin/config/diff. */
  configDiff(text: string, env?: Record<string, string>): Promise<DiffAnswer>;
  /**
   * Starts delivery: recovers the leases of a previous run, starts every lane with work queued, then the
   * escalation timers. Call once HTTP listens (a start that fails to bind must send nothing).
   */
  startDelivery(): Promise<void>;
  /** `startDelivery`, then the outbound worker and the cron jobs (digests, retention): the whole process's start (main.ts). */
  start(): Promise<void>;
  /** Stops delivery (bounded wait for requests in flight) and closes the database. */
  close(): Promise<void>;
}

/**
 * The composition root. `clock`: the wall clock business hours are read against (tests shift it;
 * default the process clock); heartbeats and staleness are judged by it too.
 *
 * Every part is built once, in dependency order, with everything it needs passed to its constructor:
 * nothing is assigned after construction and no closure refers to a part not built yet. The order is
 * store → platform (guard, metrics) → delivery (scheduler) → the other workers (escalation runner,
 * outbound worker) → the commit signals that fan out to them → services (outbound targets, ingest
 * acceptor, digest and retention jobs). Starting is separate and explicit (`startDelivery`, `start`).
 */
export function createHerald(
  config: Config,
  log: Logger,
  opts: { clock?: () => number; env?: NodeJS.ProcessEnv; beforeConfigApply?: (loaded: LoadedConfig) => void } = {},
): Herald {
  const store = openStore(config.dbPath, { sync: config.dbSync, onWarning: (message) => log.warn(message), agingMs: config.delivery.agingMs });
  const { db, deliveries: outbox, webhooks, messageOps: ops, routes, mutes } = store;
  const writeHealth = new WriteHealth();
  const guard = new Guard(log, writeHealth);
  const readiness = new ReadinessChecks();
  const bot = config.discord.token ? new BotRest({ apiUrl: config.discord.apiUrl, token: config.discord.token, timeoutMs: config.delivery.requestTimeoutMs }) : undefined;
  const metrics = createMetrics({
    queueDepth: () => outbox.depthByPriority(),
    breakers: () => webhooks.breakerCounts(),
    oldestDue: async () => (await store.health.channels()).map((c) => ({ channel: c.name, oldestDue: c.oldestDue })),
    deadLettersPending: () => store.deadLetters.countPending(),
  });
  const transport = new DiscordTransport(config.discord.apiUrl, config.delivery.requestTimeoutMs);
  const scheduler = new Scheduler({
    transactions: store, guard, outbox, ops, bot, store: webhooks, storms: store.storms, incidents: store.incidents, transport, threads: new ThreadPolicy({ routes: store.routes, channels: store.channels }), config: config.delivery, metrics, log: log.child({ component: 'scheduler' }),
  });
  const toDelivery = deliverySignals(scheduler, guard);
  const escalation = new EscalationRunner({
    transactions: store,
    escalations: store.escalations,
    routes,
    outbox,
    signals: toDelivery,
    pollMs: config.escalationPollMs,
    log: log.child({ component: 'escalation' }),
    guard,
  });
  const outboundGuard = new OutboundAddressGuard(config.outboundAllowlist);
  const outbound = new OutboundWorker(store, config.delivery, log.child({ component: 'outbound' }), outboundGuard, guard);
  const signals = commitSignals({ delivery: toDelivery, outbound, escalation }, guard);
  const outboundTargets = new OutboundTargets(store.outbound, signals);
  // New, reopened or raised alerts tell the route's outbound targets it fires; resolves and
  // acknowledgements (a sender's, a person's) are follow-ups queued by the lifecycle change (services/lifecycle.ts).
  const acceptor = new Acceptor(
    store,
    buildPipeline({ routes, mutes, reopenWindowMs: config.reopenWindowMs, ...(opts.clock ? { clock: opts.clock } : {}) }),
    signals,
    metrics,
    log.child({ component: 'ingest' }),
    escalation,
    outboundTargets,
  );
  const digestDeps = { store, config, signals };
  const digests = new DigestJobs({
    settings: store.digests,
    runScheduled: (channelId, now) => runScheduledDigest(digestDeps, channelId, now),
    guard,
    log: log.child({ component: 'digest' }),
  });
  const retention = new RetentionJob(store.retention, config.retention, log.child({ component: 'retention' }));
  const sourceAuth = new SourceAuth(store.sources);

  const heartbeats = new Heartbeats({ store, acceptor, log: log.child({ component: 'heartbeats' }), ...(opts.clock ? { clock: opts.clock } : {}) });
  const heartbeatRunner = new HeartbeatRunner({
    heartbeats,
    resolveStale: async (now) => resolveStaleAlerts({ store, signals, outboundTargets }, now),
    pollMs: config.heartbeatPollMs,
    sweepMs: config.autoResolveSweepMs,
    guard,
    log: log.child({ component: 'heartbeats' }),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });

  // `${NAME}` references in the file are read from the process environment (tests pass their own).
  const configDeps = {
    store, config, bot, signals, outboundGuard, env: opts.env ?? process.env, log: log.child({ component: 'config' }),
    ...(opts.beforeConfigApply ? { beforeApply: opts.beforeConfigApply } : {}),
  };
  const configFile = config.configFile ? new ConfigReloader(configDeps, config.configFile) : undefined;
  const configDiff = (text: string, env?: Record<string, string>) => diffConfigText(configDeps, text, env);

  const startDelivery = async () => {
    // Awaited: the recovery of leases left by a previous run reads and writes the store.
    await scheduler.start();
    // Escalation steps queue deliveries: its timers run only once delivery has started (leases recovered),
    // so a lane never claims a row that the start-up recovery would then hand out a second time.
    escalation.start();
    // Heartbeats raise alerts through ingest, which wakes delivery: likewise after the recovery.
    heartbeatRunner.start();
  };
  let closed = false;
  const herald: Herald = {
    config, store, db, log, metrics, outbox, ops, scheduler, signals, routes, mutes, bot, acceptor, sourceAuth, webhooks, outboundTargets, outbound, outboundGuard, escalation, digests, retention, heartbeats, heartbeatRunner, guard, writeHealth, readiness, configFile, configDiff,
    startDelivery,
    async start() {
      await startDelivery();
      // Also at boot, not only at the first enqueue: rows left by a previous run go out.
      outbound.start();
      await digests.start();
      retention.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      await acceptor.flush();
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
