import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { Logger } from 'pino';
import { alertButtons } from './alert-buttons.js';
import { incidentButtons } from './incident-buttons.js';
import { BotConnection, DEFAULT_RECONNECT, type ReconnectOptions } from './connection.js';
import { describeHealth } from './health.js';
import { registerCommands } from './register.js';
import { commandRegistry } from './registry.js';
import { createRouter } from './router.js';
import type { BotContext, BotServices } from './types.js';

export interface BotOptions {
  token: string;
  /** e.g. https://discord.com/api: REST goes there, and the gateway URL comes from its GET /gateway/bot. */
  apiUrl: string;
  applicationId?: string | undefined;
  /** The one server the bot acts for (DISCORD_GUILD_ID); interactions from anywhere else change nothing. */
  guildId: string;
  adminRoleIds: string[];
  oncallRoleIds: string[];
  log: Logger;
  /** Register the commands for `guildId` once connected (emulator mode; with real Discord use npm run register). */
  registerCommands?: boolean;
  /** Backoff and timeouts of (re)connecting; tests shrink them. */
  reconnect?: Partial<ReconnectOptions>;
}

export interface Bot {
  /** The discord.js client of the current connection attempt (a new one after each failed attempt). */
  readonly client: Client;
  /** Configured but not connected (reconnecting, or closed for good, e.g. 4004): not ok, with a plain reason for /readyz. */
  healthy(): { ok: boolean; problem?: string };
  close(): Promise<void>;
}

/**
 * Starts the gateway bot. It never stops Herald from starting: it resolves after the first connection
 * attempt, connected or not; a failed attempt is logged plainly, reported by healthy() (and so /readyz)
 * and retried with backoff, while webhook delivery, which does not need the bot, goes on.
 */
export async function startBot(herald: BotServices, o: BotOptions): Promise<Bot> {
  const log = o.log.child({ component: 'bot' });
  const ctx: BotContext = {
    herald,
    log,
    // The same arrays as the configuration's: what a test (or a reload) puts there counts at once.
    access: { guildId: o.guildId, adminRoleIds: o.adminRoleIds, oncallRoleIds: o.oncallRoleIds },
    actor: (i) => ({ kind: 'discord', userId: i.user.id, name: i.user.username }),
  };
  const commands = commandRegistry();
  const route = createRouter({ commands, buttons: { ...alertButtons, ...incidentButtons }, ctx });

  const makeClient = () => {
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: o.apiUrl } });
    // The router answers every interaction and catches its own failures: its promise never rejects.
    client.on(Events.InteractionCreate, (i) => void route(i));
    client.once(Events.ClientReady, (c) => void onReady(c));
    return client;
  };
  // Catches its own failures too (a registration Discord refuses is logged): never a rejection nobody handles.
  const onReady = async (c: Client<true>) => {
    log.info({ user: c.user.tag, applicationId: c.application.id, commands: commands.size }, 'bot connected to Discord');
    if (!o.registerCommands) return;
    try {
      const r = await registerCommands({ token: o.token, apiUrl: o.apiUrl, applicationId: o.applicationId ?? c.application.id, guildId: o.guildId });
      log.info({ scope: r.scope, commands: r.names.length }, 'slash commands registered');
    } catch (err) {
      log.error({ err: { message: (err as Error).message } }, 'could not register slash commands');
    }
  };

  const connection = new BotConnection({ token: o.token, log, makeClient, reconnect: { ...DEFAULT_RECONNECT, ...o.reconnect } });
  await connection.start();

  return {
    get client() {
      return connection.client;
    },
    healthy: () => describeHealth(connection.status(), connection.client),
    async close() {
      await connection.close();
      log.info('bot disconnected from Discord');
    },
  };
}
/** The /readyz check for a configured bot (undefined while it is starting). */
export function botReadiness(bot: () => Bot | undefined): () => { ok: boolean; problems: string[] } {
  return () => {
    const h = bot()?.healthy() ?? { ok: false, problem: 'bot: starting' };
    return { ok: h.ok, problems: h.ok ? [] : [h.problem ?? 'bot: not connected to the Discord gateway'] };
  };
}
