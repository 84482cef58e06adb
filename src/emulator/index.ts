import { randomBytes } from 'node:crypto';
import { GATEWAY_PATH } from './gateway.js';
import { buildEmulator } from './server.js';
import { EmulatorError } from './state.js';
import { parseFault } from './faults.js';
import { setCommandPermissions, startThreadAsPerson } from './control.js';
import type { Emulator, EmulatorOptions } from './types.js';

export type {
  AutoArchiveDuration,
  CommandOption,
  EmulatedChannel,
  EmulatedCommand,
  EmulatedMember,
  EmulatedMessage,
  EmulatedRole,
  EmulatedThread,
  EmulatedWebhook,
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  Fault,
  GatewayStats,
  GuildChannelType,
  InteractionResult,
} from './types.js';
export { CHANNEL_TYPE } from './types.js';
export { EmulatorError } from './state.js';

export const DEFAULT_WEBHOOK_BUCKET = { limit: 5, windowMs: 2000 } as const;
export const DEFAULT_CHANNEL_CAP = { limit: 30, windowMs: 60_000 } as const;
export const DEFAULT_BOT_GLOBAL_LIMIT = { limit: 50, windowMs: 1000 } as const;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250;

/**
 * Starts an emulated Discord on `host:port` (default 127.0.0.1, an ephemeral port): the webhook REST API
 * with its limits, the bot's REST API and gateway (for discord.js), and people to act as. Everything lives
 * in memory and is gone after close().
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const webhookBucket = checkWindow('webhookBucket', opts.webhookBucket ?? DEFAULT_WEBHOOK_BUCKET);
  const channelCap = checkWindow('channelCap', opts.channelCap ?? DEFAULT_CHANNEL_CAP);
  const botGlobalLimit = checkWindow('botGlobalLimit', opts.botGlobalLimit ?? DEFAULT_BOT_GLOBAL_LIMIT);
  const threadMessagesCountAgainstParent = opts.threadMessagesCountAgainstParent ?? true;
  const botToken = opts.botToken ?? `emu.${randomBytes(30).toString('base64url')}`;
  if (!/^[\x21-\x7e]{8,200}$/.test(botToken)) throw new EmulatorError(400, 'emulator: botToken must be 8 to 200 printable characters without spaces');
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
  const interactionDeadlineMs = positive('interactionDeadlineMs', opts.interactionDeadlineMs ?? 3000);
  const deferredEditWaitMs = positive('deferredEditWaitMs', opts.deferredEditWaitMs ?? 10_000);
  let url = '';
  let gatewayUrl = '';
  const core = buildEmulator({
    webhookBucket,
    channelCap,
    threadMessagesCountAgainstParent,
    botGlobalLimit,
    botToken,
    heartbeatIntervalMs,
    interactionDeadlineMs,
    deferredEditWaitMs,
    logger: opts.logger ?? false,
    apiUrl: () => url,
    gatewayUrl: () => gatewayUrl,
  });
  await core.app.listen({ host, port: opts.port ?? 0 });
  const address = core.app.server.address();
  if (!address || typeof address === 'string') throw new Error('emulator: the server has no TCP address');
  const port = address.port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  url = `http://${hostPart}:${port}/api`;
  gatewayUrl = `ws://${hostPart}:${port}${GATEWAY_PATH}`;

  const { state, guild, guilds, commands, gateway, interactions, faults, stats } = core;
  const guildNamed = (id: string | undefined) => (id === undefined ? guild : guilds.of(id));
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    createChannel: (o) => state.createChannel(o),
    createWebhook: (channelId, o) => state.createWebhook(channelId, o),
    deleteWebhook(webhookId) {
      if (!state.deleteWebhook(webhookId)) throw new EmulatorError(404, `unknown webhook ${webhookId}`);
    },
    createThread: (o) => startThreadAsPerson(state, guildNamed(state.channel(o.channelId)?.guildId), o),
    updateThread: (threadId, patch) => state.updateThread(threadId, patch),
    threads(channelId) {
      if (!state.hasChannel(channelId)) throw new EmulatorError(404, `unknown channel ${channelId}`, 10003);
      return state.threads(channelId);
    },
    thread: (threadId) => state.thread(threadId),
    channels: () => state.channels(),
    messages: (channelId) => state.messages(channelId),
    injectFault: (f) => faults.inject(parseFault(f)),
    clearFaults: () => faults.clear(),
    stats: () => stats.snapshot(Date.now()),
    resetStats: () => stats.reset(),
    close: () => (closed ??= core.shutdown()),

    botToken,
    applicationId: state.applicationId,
    guildId: state.guildId,
    gatewayUrl,
    createRole: ({ guildId, ...o }) => guildNamed(guildId).createRole(o),
    createMember: ({ guildId, ...o } = {}) => guildNamed(guildId).createMember(o),
    members: (o = {}) => guildNamed(o.guildId).members(),
    addMemberRole: (o) => guildNamed(o.guildId).addMemberRole(o.userId, o.roleId),
    createGuild(o = {}) {
      const g = guilds.create(o.name);
      return { id: g.guildId, name: g.name };
    },
    setCommandPermissions: (o) => setCommandPermissions(commands, guildNamed(o.guildId).guildId, o.name, o.permissions),
    commands: (scope) => commands.list(scope?.guildId),
    runCommand: (o) => interactions.runCommand(o),
    pressButton: (o) => interactions.pressButton(o),
    autocomplete: (o) => interactions.autocomplete(o),
    dropGateway: (o) => gateway.drop(o),
    gatewayStats: () => gateway.stats(),
    message(id) {
      const m = state.message(id);
      return m && structuredClone(m);
    },
  };
}

function checkWindow(name: string, w: { limit: number; windowMs: number }) {
  if (!Number.isInteger(w.limit) || w.limit < 1 || !Number.isInteger(w.windowMs) || w.windowMs < 1) {
    throw new EmulatorError(400, `emulator: ${name} needs a positive integer limit and windowMs, got ${JSON.stringify(w)}`);
  }
  return { limit: w.limit, windowMs: w.windowMs };
}

function positive(name: string, ms: number): number {
  if (!Number.isInteger(ms) || ms < 1) throw new EmulatorError(400, `emulator: ${name} must be a positive whole number of ms, got ${String(ms)}`);
  return ms;
}
