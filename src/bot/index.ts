import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { Logger } from 'pino';
import type { Herald } from '../herald.js';
import { buttonHandlers } from './buttons.js';
import { watchHealth } from './health.js';
import { registerCommands } from './register.js';
import { commandRegistry } from './registry.js';
import { createRouter } from './router.js';
import type { BotContext } from './types.js';

export interface BotOptions {
  token: string;
  /** e.g. https://discord.com/api: REST goes there, and the gateway URL comes from its GET /gateway/bot. */
  apiUrl: string;
  applicationId?: string;
  guildId?: string;
  adminRoleIds: string[];
  oncallRoleIds: string[];
  log: Logger;
  /** Register the commands for `guildId` once connected (emulator mode; with real Discord use npm run register). */
  registerCommands?: boolean;
}

export interface Bot {
  client: Client;
  /** Configured but not connected (or closed for good, e.g. 4004): not ok, with a plain reason for /readyz. */
  healthy(): { ok: boolean; problem?: string };
  close(): Promise<void>;
}

/**
 * Starts the gateway bot. It never stops Herald from starting: a failed login is logged plainly and
 * reported by healthy() (and so /readyz), while webhook delivery, which does not need the bot, goes on.
 */
export async function startBot(herald: Herald, o: BotOptions): Promise<Bot> {
  const log = o.log.child({ component: 'bot' });
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: o.apiUrl } });
  const health = watchHealth(client, log);
  const ctx: BotContext = {
    herald,
    log,
    actor: (i) => ({ kind: 'discord', userId: i.user.id, name: i.user.username }),
  };
  const commands = commandRegistry();
  client.on(Events.InteractionCreate, createRouter({ commands, buttons: buttonHandlers, access: o, ctx }));
  client.once(Events.ClientReady, async (c) => {
    log.info({ user: c.user.tag, applicationId: c.application.id, commands: commands.size }, 'bot connected to Discord');
    if (o.registerCommands && o.guildId) {
      try {
        const r = await registerCommands({ token: o.token, apiUrl: o.apiUrl, applicationId: o.applicationId ?? c.application.id, guildId: o.guildId });
        log.info({ scope: r.scope, commands: r.names.length }, 'slash commands registered');
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'could not register slash commands');
      }
    }
  });

  try {
    await client.login(o.token);
  } catch (err) {
    const message = (err as Error).message;
    const problem = /401|Unauthorized|TokenInvalid|invalid token/i.test(message)
      ? 'Discord refused the bot token (401): check DISCORD_TOKEN; the bot is not running. Webhook delivery goes on.'
      : `the bot could not connect to Discord (${message}); it is not running. Webhook delivery goes on.`;
    health.fail(problem);
    log.error(problem);
    await client.destroy().catch(() => undefined);
  }

  return {
    client,
    healthy: () => health.healthy(),
    async close() {
      health.closing();
      await client.destroy();
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
