import { Events, GatewayCloseCodes, Status, type Client } from 'discord.js';
import type { Logger } from 'pino';

/** Plain words for the close codes after which Discord's gateway will not take the bot back. */
const FATAL_REASONS: Record<number, string> = {
  [GatewayCloseCodes.AuthenticationFailed]: 'authentication failed: DISCORD_TOKEN is wrong or was reset',
  [GatewayCloseCodes.InvalidShard]: 'invalid shard',
  [GatewayCloseCodes.ShardingRequired]: 'sharding required: the bot is in too many servers for one connection',
  [GatewayCloseCodes.InvalidAPIVersion]: 'invalid API version',
  [GatewayCloseCodes.InvalidIntents]: 'invalid intents',
  [GatewayCloseCodes.DisallowedIntents]: 'disallowed intents: enable them in the Developer Portal',
};

export interface Health {
  healthy(): { ok: boolean; problem?: string };
  /** For a login that failed before the gateway was reached (e.g. 401 from GET /gateway/bot). */
  fail(problem: string): void;
  /** Herald is stopping the bot: the closes that follow are not drops. */
  closing(): void;
}

/**
 * Watches the shard, not client.isReady(): after a fatal close (4004) discord.js stops the shard for
 * good while isReady() still says true. Drops that resume are logged but are not a failure of Herald:
 * readiness reports them while they last.
 */
export function watchHealth(client: Client, log: Logger): Health {
  let fatal: string | undefined;
  let closing = false;
  client.on(Events.ShardDisconnect, (event, shardId) => {
    if (closing) return;
    fatal = `Discord gateway closed the bot's connection with code ${event.code} (${FATAL_REASONS[event.code] ?? 'not recoverable'}); the bot will not reconnect until Herald restarts. Webhook delivery goes on.`;
    log.error({ code: event.code, shardId }, fatal);
  });
  client.on(Events.ShardReconnecting, (shardId) => !closing && log.warn({ shardId }, 'Discord gateway connection lost; reconnecting (webhook delivery goes on)'));
  client.on(Events.ShardResume, (shardId, replayed) => log.info({ shardId, replayed }, 'Discord gateway session resumed'));
  client.on(Events.ShardReady, (shardId) => log.info({ shardId }, 'Discord gateway connected'));
  client.on(Events.ShardError, (err, shardId) => log.warn({ shardId, err: { message: err.message } }, 'Discord gateway connection error'));

  return {
    closing() {
      closing = true;
    },
    fail(problem) {
      fatal = problem;
    },
    healthy() {
      if (fatal) return { ok: false, problem: `bot: ${fatal}` };
      const shards = [...client.ws.shards.values()];
      if (shards.length === 0) return { ok: false, problem: 'bot: not connected to the Discord gateway yet' };
      const down = shards.filter((s) => s.status !== Status.Ready);
      if (down.length) return { ok: false, problem: `bot: not connected to the Discord gateway (${Status[down[0]!.status] ?? down[0]!.status}); reconnecting` };
      return { ok: true };
    },
  };
}
