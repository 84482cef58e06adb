import { Events, GatewayCloseCodes, Status, type Client } from 'discord.js';
import type { Logger } from 'pino';

/** Where the gateway connection stands (kept by bot/connection.ts, described for /readyz here). */
export type ConnectionState =
  /** `lastError`: why the previous attempt failed (absent on the first). */
  | { kind: 'connecting'; attempt: number; lastError?: string }
  /** Between attempts: `attempt` is the next one. */
  | { kind: 'waiting'; attempt: number; lastError: string }
  | { kind: 'connected' }
  | { kind: 'fatal'; problem: string }
  | { kind: 'closed' };

/** Plain words for the close codes after which Discord's gateway will not take the bot back. */
const FATAL_REASONS: Record<number, string> = {
  [GatewayCloseCodes.AuthenticationFailed]: 'authentication failed: DISCORD_TOKEN is wrong or was reset',
  [GatewayCloseCodes.InvalidShard]: 'invalid shard',
  [GatewayCloseCodes.ShardingRequired]: 'sharding required: the bot is in too many servers for one connection',
  [GatewayCloseCodes.InvalidAPIVersion]: 'invalid API version',
  [GatewayCloseCodes.InvalidIntents]: 'invalid intents',
  [GatewayCloseCodes.DisallowedIntents]: 'disallowed intents: enable them in the Developer Portal',
};

export interface ShardEvents {
  /** discord.js closed the shard for good (4004 and the like): no reconnect will help. */
  fatal(problem: string): void;
  /** The connection dropped; discord.js is reconnecting (resume or identify). */
  lost(): void;
  /** The shard is ready again (first connect, resume or re-identify). */
  ready(): void;
}

/**
 * Logs one client's shard events plainly and reports the ones that matter to the connection. Watches the
 * shard, not client.isReady(): after a fatal close (4004) discord.js stops the shard for good while
 * isReady() still says true.
 */
export function watchShards(client: Client, log: Logger, on: ShardEvents, closing: () => boolean): void {
  client.on(Events.ShardDisconnect, (event, shardId) => {
    if (closing()) return;
    const problem = `Discord gateway closed the bot's connection with code ${event.code} (${FATAL_REASONS[event.code] ?? 'not recoverable'}); the bot will not reconnect until Herald restarts. Webhook delivery goes on.`;
    log.error({ code: event.code, shardId }, problem);
    on.fatal(problem);
  });
  client.on(Events.ShardReconnecting, (shardId) => {
    if (closing()) return;
    log.warn({ shardId }, 'Discord gateway connection lost; reconnecting (webhook delivery goes on)');
    on.lost();
  });
  client.on(Events.ShardResume, (shardId, replayed) => {
    log.info({ shardId, replayed }, 'Discord gateway session resumed');
    on.ready();
  });
  client.on(Events.ShardReady, (shardId) => {
    log.info({ shardId }, 'Discord gateway connected');
    on.ready();
  });
  client.on(Events.ShardError, (err, shardId) => log.warn({ shardId, err: { message: err.message } }, 'Discord gateway connection error'));
}

/** The bot's line for /readyz: ok only when connected and every shard is ready; otherwise why not, in plain words. */
export function describeHealth(state: ConnectionState, client: Client): { ok: boolean; problem?: string } {
  switch (state.kind) {
    case 'fatal':
      return { ok: false, problem: `bot: ${state.problem}` };
    case 'closed':
      return { ok: false, problem: 'bot: stopped' };
    case 'connecting':
    case 'waiting':
      return state.lastError === undefined
        ? { ok: false, problem: `bot: connecting to the Discord gateway (attempt ${state.attempt})` }
        : { ok: false, problem: `bot: reconnecting, attempt ${state.attempt}, last error: ${state.lastError}. Webhook delivery goes on.` };
    case 'connected': {
      const shards = [...client.ws.shards.values()];
      if (shards.length === 0) return { ok: false, problem: 'bot: not connected to the Discord gateway yet' };
      const down = shards.filter((s) => s.status !== Status.Ready);
      if (down.length) return { ok: false, problem: `bot: not connected to the Discord gateway (${Status[down[0]!.status] ?? down[0]!.status}); reconnecting` };
      return { ok: true };
    }
  }
}
