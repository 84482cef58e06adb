import { config as loadDotenv } from 'dotenv';
import { loadConfig, unknownVariableWarnings } from './config.js';
import { isDbUnavailable, sqliteCode } from './store/sqlite/health.js';
import { DatabaseOpenError } from './store/sqlite/open.js';
import { createLogger, resolveLogFormat, type Logger } from './log.js';
import { createHerald, type Herald } from './herald.js';
import { buildServer } from './http/server.js';
import type { App } from './http/typed-app.js';
import { startEmulator, type Emulator } from './emulator/index.js';
import { demoAdminTokenFor, demoEnvPath, readDemoEnv, seedDemo } from './demo.js';
import type { Bot } from './bot/index.js';
import type { LoadedConfig } from './services/config/load.js';

/** The process: config → emulator (when Discord is not configured) → the app (src/herald.ts wires it) → HTTP → start → bot, and signals. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  const parsed = loadConfig();
  if (!parsed.ok) {
    for (const p of parsed.problems) process.stderr.write(`herald: config: ${p}\n`);
    process.exit(2);
  }
  const config = parsed.config;
  const log = createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat));
  handleStrayErrors(log);
  for (const warning of unknownVariableWarnings()) log.warn(warning);

  let emulator: Emulator | undefined;
  if (config.discord.emulated) {
    emulator = await startEmulator({ host: '127.0.0.1', port: config.discord.emulatorPort });
    config.discord.apiUrl = emulator.url;
    // The admin token of an earlier start is kept (demo.env): scripts and curl commands keep working.
    config.adminToken = demoAdminTokenFor(config.adminToken, readDemoEnv(demoEnvPath(config.dbPath)));
    // The emulator's gateway takes its own bot token only; the bot runs against it like against Discord.
    config.discord.token = emulator.botToken;
    config.discord.guildId = emulator.guildId;
    log.warn(
      { emulator: emulator.url },
      'Discord is not configured (no DISCORD_API_URL or DISCORD_TOKEN): using the built-in Discord emulator; nothing reaches real Discord',
    );
    log.warn({ guildId: emulator.guildId }, 'the bot runs against the emulator too: its slash commands are registered in the emulated guild');
  } else {
    log.info({ discordApi: config.discord.apiUrl }, 'delivering to Discord');
    if (!config.discord.token) log.info('DISCORD_TOKEN is not set: the bot (slash commands, buttons) is off; webhook delivery works without it');
  }

  let herald: Herald | undefined;
  let app: App | undefined;
  let bot: Bot | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new alerts; finishing deliveries in flight');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting (leases are recovered at next start)');
      process.exit(1);
    }, config.delivery.requestTimeoutMs + 15_000);
    force.unref();
    await bot?.close();
    await app?.close();
    await herald?.close();
    await emulator?.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    herald = createHerald(config, log, emulator ? { beforeConfigApply: (loaded) => giveToEmulator(emulator!, loaded) } : {});
  } catch (err) {
    // The operator's to fix (a path, a permission, a file that is not Herald's database): one line naming it, exit 2.
    if (!(err instanceof DatabaseOpenError)) throw err;
    process.stderr.write(`herald: ${err.message}\n`);
    await emulator?.close();
    process.exit(2);
  }
  // In emulator mode the console also shows the emulated Discord (its channels, buttons to press as a member).
  app = await buildServer(herald, { emulated: emulator });
  // Bind first: a start that fails (port in use, often because another Herald runs on this database)
  // must change nothing: no demo seeding, no lease recovery, no sends.
  await app.listen({ host: config.host, port: config.port });
  // Right after binding. A request handled meanwhile is stored; delivery waits for the recovery of the leases a previous
  // run left (the scheduler wakes no lane before it is done: src/delivery/scheduler.ts).
  await herald.start();
  if (emulator) {
    const demo = await seedDemo(herald, emulator, config.adminToken!, log);
    log.info(
      { readMessages: `curl -s http://127.0.0.1:${emulator.port}/_emulator/channels/${demo.discordChannelId}/messages` },
      'demo channel ready: POST an alert with the token in demo.env, then read what the channel received',
    );
  }
  // Key `address`, not `url`: `url` is a redacted path (webhook URLs carry tokens).
  log.info({ address: `http://${config.host}:${(app.server.address() as { port: number }).port}` }, 'Herald is listening');
  // The configuration file, after the demo seeding (in emulator mode that gives the emulator back the demo
  // channel's webhooks, which the file may name). A refused file is logged and shown by /readyz; Herald goes
  // on with the configuration in its database.
  const configFile = herald.configFile;
  if (configFile) {
    await configFile.reload('start');
    process.on('SIGHUP', () => void configFile.reload('SIGHUP'));
  } else {
    process.on('SIGHUP', () => log.warn('SIGHUP: there is no configuration file to reload (set HERALD_CONFIG, or put herald.yaml in the working directory)'));
  }
  log.info({ console: `http://${config.host}:${(app.server.address() as { port: number }).port}/console` }, 'web console: log in with the admin token');
  if (config.discord.token) {
    // Loaded only when a bot is configured: discord.js is some 25 MB of resident memory that a
    // webhook-only Herald does without.
    const { botReadiness, startBot } = await import('./bot/index.js');
    // Readiness counts the bot once it is configured (a fatal gateway close fails /readyz, plainly worded).
    herald.readiness.add(botReadiness(() => bot));
    bot = await startBot(herald, {
      token: config.discord.token,
      apiUrl: config.discord.apiUrl,
      applicationId: config.discord.applicationId,
      // Set whenever a token is (config refuses one without it; emulator mode sets it above).
      guildId: config.discord.guildId!,
      adminRoleIds: config.discord.adminRoleIds,
      oncallRoleIds: config.discord.oncallRoleIds,
      log,
      // With real Discord, commands are registered by `npm run register`; the emulator forgets them at each start.
      registerCommands: config.discord.emulated,
    });
  }
}

/**
 * Emulator mode: the emulator (which forgets everything at each start) is given the configuration file's
 * channels and webhooks, with the ids and tokens the file names, so a herald.yaml written for the local demo
 * works as it would with Discord. One it has already is left as it is.
 */
function giveToEmulator(emulator: Emulator, loaded: LoadedConfig): void {
  for (const c of loaded.file.channels) {
    emulator.createChannel({ name: c.name, id: c.discord_channel_id, ...(c.kind === 'forum' ? { type: 15 } : {}) });
    for (const w of loaded.webhooks.get(c.name) ?? []) {
      try {
        emulator.createWebhook(c.discord_channel_id, { name: 'Herald', applicationOwned: w.owner === 'app', restore: { id: w.discordWebhookId, token: w.token } });
      } catch {
        // Known already (the demo channel's, restored by the demo seeding), or not one the emulator can take.
      }
    }
  }
}

/**
 * The last net under errors nothing else caught (every timer and callback is guarded: src/guard.ts).
 * What can be recovered is logged as one line and Herald goes on: a database that cannot write right now
 * (busy, full), and a rejected promise nobody awaited (it left nothing half-done). Any other uncaught
 * exception may have left state half-changed: one line, exit 1, and the supervisor restarts Herald
 * (leases are recovered at start).
 */
function handleStrayErrors(log: Logger): void {
  const reason = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.on('unhandledRejection', (err) => {
    log.error({ err }, `unhandled promise rejection (${reason(err)}); Herald goes on`);
  });
  process.on('uncaughtException', (err) => {
    if (isDbUnavailable(err)) {
      log.error({ err }, `uncaught database error (${sqliteCode(err)}: ${err.message}); it passes when the database can write again, so Herald goes on`);
      return;
    }
    log.fatal({ err }, `uncaught exception (${reason(err)}); exiting, as Herald's state may be inconsistent`);
    process.exit(1);
  });
}

main().catch((err: NodeJS.ErrnoException) => {
  // Start-up failures are the user's to fix (port in use, unwritable database path): one plain line.
  const hint = err.code === 'EADDRINUSE' ? ' (is another Herald or emulator running? set HERALD_PORT / HERALD_EMULATOR_PORT)' : '';
  process.stderr.write(`herald: cannot start: ${err.message}${hint}\n`);
  process.exit(1);
});
