import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Socket } from 'node:net';
import { controlRoutes } from './control.js';
import { Faults } from './faults.js';
import { ChannelCap, WebhookBuckets } from './ratelimit.js';
import { EmulatorState } from './state.js';
import { StatsRecorder } from './stats.js';
import { discordWebhookRoutes, type DiscordDeps } from './webhooks.js';

/** Everything one emulator instance holds; the gateway/bot half will add its own parts here. */
export interface EmulatorCore {
  app: FastifyInstance;
  state: EmulatorState;
  faults: Faults;
  stats: StatsRecorder;
  /** Answers nothing more: aborts slow faults, destroys held (hanging) and idle connections, closes the server. */
  shutdown(): Promise<void>;
}

export interface CoreOptions {
  webhookBucket: { limit: number; windowMs: number };
  channelCap: { limit: number; windowMs: number };
  logger: Logger | false;
  /** Base of webhook URLs (`http://host:port/api`), known once listening. */
  apiUrl: () => string;
}

/** Discord's REST API prefixes: clients pin a version (Herald, discord.js: v10) or use the unversioned path. */
export const API_PREFIXES = ['/api/v10', '/api'] as const;

/** Assembles the fastify app: the Discord-shaped routes under each API prefix, the control API under /_emulator. */
export function buildEmulator(opts: CoreOptions): EmulatorCore {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    // close() must not wait for keep-alive or hanging connections.
    forceCloseConnections: true,
    // Discord ids are long digit strings; keep the default router limits but allow long webhook tokens.
    routerOptions: { maxParamLength: 200 },
  });
  const state = new EmulatorState(opts.apiUrl);
  const faults = new Faults();
  const stats = new StatsRecorder();
  const closing = new AbortController();
  const held = new Set<Socket>();

  const deps: DiscordDeps = {
    state,
    buckets: new WebhookBuckets(opts.webhookBucket),
    channelCap: new ChannelCap(opts.channelCap),
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

  for (const prefix of API_PREFIXES) void app.register(discordWebhookRoutes, { prefix, deps });
  void app.register(controlRoutes, { prefix: '/_emulator', deps: { state, faults, stats } });

  return {
    app,
    state,
    faults,
    stats,
    async shutdown() {
      closing.abort();
      for (const socket of held) socket.destroy();
      held.clear();
      await app.close();
    },
  };
}
