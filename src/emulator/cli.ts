/**
 * The emulator on its own: `npm run emulator` (tsx src/emulator/cli.ts). Configured by environment;
 * prints one line with its API URL (what Herald takes as DISCORD_API_URL) and stops cleanly on SIGINT/SIGTERM.
 */
import { startEmulator, type Emulator } from './index.js';

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n`);
  process.exit(2);
}

function int(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function bool(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  fail(`${name} must be true or false, got "${process.env[name]}"`);
}

const host = process.env.EMULATOR_HOST?.trim() || '127.0.0.1';
const port = int('EMULATOR_PORT', 8081, 0, 65535);
const channelCap = { limit: int('EMULATOR_CHANNEL_CAP', 30, 1, 1_000_000), windowMs: int('EMULATOR_CHANNEL_WINDOW_MS', 60_000, 1, 86_400_000) };
const webhookBucket = { limit: int('EMULATOR_WEBHOOK_LIMIT', 5, 1, 1_000_000), windowMs: int('EMULATOR_WEBHOOK_WINDOW_MS', 2000, 1, 86_400_000) };
const heartbeatIntervalMs = int('EMULATOR_HEARTBEAT_MS', 41_250, 100, 600_000);
const threadMessagesCountAgainstParent = bool('EMULATOR_THREAD_MESSAGES_COUNT_AGAINST_PARENT', true);
const givenToken = process.env.EMULATOR_BOT_TOKEN?.trim() || undefined;

let emulator: Emulator;
try {
  emulator = await startEmulator({ host, port, channelCap, webhookBucket, heartbeatIntervalMs, threadMessagesCountAgainstParent, ...(givenToken ? { botToken: givenToken } : {}) });
} catch (err) {
  const code = (err as { code?: string }).code;
  const why = code === 'EADDRINUSE' ? `port ${port} is in use (set EMULATOR_PORT)` : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? `cannot listen on host "${host}" (set EMULATOR_HOST)` : (err as Error).message;
  fail(why);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  emulator.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`emulator: error while closing: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// Printed once the signal handlers are in place: whoever waits for this line may stop us right away.
// A generated bot token is printed (it opens nothing but this emulator); a given one is not repeated.
process.stdout.write(
  `Discord emulator listening: DISCORD_API_URL=${emulator.url} (control API http://${host.includes(':') ? `[${host}]` : host}:${emulator.port}/_emulator; webhook bucket ${webhookBucket.limit}/${webhookBucket.windowMs} ms, channel cap ${channelCap.limit}/${channelCap.windowMs} ms${threadMessagesCountAgainstParent ? '' : ', threads capped apart'})\n` +
    `  bot: DISCORD_APPLICATION_ID=${emulator.applicationId} DISCORD_GUILD_ID=${emulator.guildId} ${givenToken ? 'DISCORD_TOKEN=(EMULATOR_BOT_TOKEN)' : `DISCORD_TOKEN=${emulator.botToken}`} gateway ${emulator.gatewayUrl}\n`,
);
