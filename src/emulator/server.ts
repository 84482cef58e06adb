import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Socket } from 'node:net';
import { botRoutes, type BotDeps } from './bot.js';
import { CommandRegistry } from './commands.js';
import { controlRoutes } from './control.js';
import { Faults } from './faults.js';
import { Gateway } from './gateway.js';
import { GuildDirectory, Guilds } from './guild.js';
import { Interactions } from './interactions.js';
import { ChannelCap, GlobalLimit, WebhookBuckets } from './ratelimit.js';
import { EmulatorState } from './state.js';
import { StatsRecorder } from './stats.js';
import { discordWebhookRoutes, type DiscordDeps } from './webhooks.js';

/** Everything one emulator instance holds. */
export interface EmulatorCore {
  app: FastifyInstance;
  state: EmulatorState;
  guild: GuildDirectory;
  /** The home guild and any other the bot was added to. */
  guilds: Guilds;
  commands: CommandRegistry;
  gateway: Gateway;
  interactions: Interactions;
  faults: Faults;
  stats: StatsRecorder;
  /** Answers nothing more: aborts slow faults, drops gateway connections, destroys held and idle connections, closes the server. */
  shutdown(): Promise<void>;
}

export interface CoreOptions {
  webhookBucket: { limit: number; windowMs: number };
  channelCap: { limit: number; windowMs: number };
  /** See EmulatorOptions.threadMessagesCountAgainstParent (default true). */
  threadMessagesCountAgainstParent?: boolean;
  botGlobalLimit: { limit: number; windowMs: number };
  botToken: string;
  heartbeatIntervalMs: number;
  interactionDeadlineMs: number;
  deferredEditWaitMs: number;
  logger: Logger | false;
  /** Base of webhook URLs (`http://host:port/api`), known once listening. */
  apiUrl: () => string;
  /** ws://host:port/gateway, known once listening. */
  gatewayUrl: () => string;
}

/** Discord's REST API prefixes: clients pin a version (Herald, discord.js: v10) or use the unversioned path. */
export const API_PREFIXES = ['/api/v10', '/api'] as const;

/** Assembles the fastify app: the Discord-shaped routes under each API prefix, the gateway, the control API under /_emulator. */
export function buildEmulator(opts: CoreOptions): EmulatorCore {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    // close() must not wait for keep-alive or hanging connections.
    forceCloseConnections: true,
    // Discord ids are long digit strings; keep the default router limits but allow long webhook and interaction tokens.
    routerOptions: { maxParamLength: 200 },
  });
  const state = new EmulatorState(opts.apiUrl);
  // The bot user's id is the application's id, as for Discord bots.
  const guild = new GuildDirectory(state.guildId, state.applicationId);
  const guilds = new Guilds(guild);
  const commands = new CommandRegistry(state.applicationId);
  const gateway = new Gateway({ botToken: opts.botToken, heartbeatIntervalMs: opts.heartbeatIntervalMs, url: opts.gatewayUrl, state, guild, guilds });
  guilds.onGuildCreated = (g) => {
    state.addGuild(g.guildId);
    gateway.guildJoined(g);
  };
  const interactions = new Interactions({ state, guilds, commands, gateway, deadlineMs: opts.interactionDeadlineMs, editWaitMs: opts.deferredEditWaitMs });
  const faults = new Faults();
  const stats = new StatsRecorder();
  const closing = new AbortController();
  const held = new Set<Socket>();
  gateway.attach(app.server);

  const deps: DiscordDeps = {
    state,
    guild,
    interactions,
    buckets: new WebhookBuckets(opts.webhookBucket),
    channelCap: new ChannelCap(opts.channelCap),
    threadMessagesCountAgainstParent: opts.threadMessagesCountAgainstParent ?? true,
    faults,
    stats,
    closing: closing.signal,
    hold(req: FastifyRequest, reply: FastifyReply) {
      reply.hijack();
      const socket = req.raw.socket;
      if (closing.signal.aborted) return void socket.destroy();
      held.add(socket);
      socket.once('close', () => held.delete(socket));
    },
  };
  const botDeps: BotDeps = {
    botToken: opts.botToken,
    state,
    guild,
    commands,
    interactions,
    globalLimit: new GlobalLimit(opts.botGlobalLimit),
    stats,
    gatewayUrl: opts.gatewayUrl,
  };

  for (const prefix of API_PREFIXES) {
    void app.register(
      async (api) => {
        discordApiSetup(api, stats);
        await api.register(discordWebhookRoutes, { deps });
        await api.register(botRoutes, { deps: botDeps });
      },
      { prefix },
    );
  }
  void app.register(controlRoutes, { prefix: '/_emulator', deps: { state, guild, guilds, commands, gateway, interactions, faults, stats } });

  return {
    app,
    state,
    guild,
    guilds,
    commands,
    gateway,
    interactions,
    faults,
    stats,
    async shutdown() {
      closing.abort();
      interactions.close();
      gateway.close();
      for (const socket of held) socket.destroy();
      held.clear();
      await app.close();
    },
  };
}

/**
 * What every Discord-shaped route under one prefix shares: bodies read as text (so invalid JSON gets
 * Discord's 50109, not the framework's error), request counting, Discord-shaped 404/413/500 answers.
 */
function discordApiSetup(api: FastifyInstance, stats: StatsRecorder): void {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 8 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  api.addHook('onRequest', async () => stats.request());
  api.addHook('onResponse', async (_req, reply) => {
    const scope = reply.getHeader('x-ratelimit-scope');
    stats.response(reply.statusCode, typeof scope === 'string' ? scope : undefined, Date.now());
  });
  api.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: '404: Not Found', code: 0 }));
  api.setErrorHandler((err: { statusCode?: number }, req, reply) => {
    if (err.statusCode === 413) return reply.code(413).send({ message: 'Request entity too large', code: 40005 });
    req.log.error({ err }, 'emulator route failed');
    return reply.code(500).send({ message: 'Internal Server Error', code: 0 });
  });
}
