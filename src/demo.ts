import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Emulator } from './emulator/index.js';
import type { Config } from './config.js';
import type { SourceAuth } from './ingest/auth.js';
import type { Store } from './store/index.js';
import type { DepsOf } from './services/deps-of.js';
import { createChannel, listChannels } from './services/channels.js';
import { createSource, listSources, reissueSourceToken } from './services/sources.js';
import { addWebhook, listWebhooks, removeWebhook } from './services/webhooks.js';

export const DEMO = 'demo';

/**
 * What seeding the demo uses of the app: the channel, source and webhook services it calls, the stored
 * webhooks' tokens (given back to the fresh emulator), where demo.env goes, and the source-token check.
 */
export type DemoDeps = DepsOf<typeof createChannel> &
  DepsOf<typeof createSource> &
  DepsOf<typeof reissueSourceToken> &
  DepsOf<typeof addWebhook> &
  DepsOf<typeof removeWebhook> & {
    store: Pick<Store, 'webhooks'>;
    config: Pick<Config, 'dbPath'>;
    sourceAuth: Pick<SourceAuth, 'sourceFor'>;
  };

/** A random admin token for the local demo, when the user set none. */
export const demoAdminToken = (): string => randomBytes(24).toString('base64url');

/** `demo.env` lives beside the database. */
export const demoEnvPath = (dbPath: string): string => join(dirname(resolve(dbPath)), 'demo.env');

/** What an earlier emulator-mode start wrote to demo.env (KEY=value lines); empty when there is none. */
export function readDemoEnv(envFile: string): Record<string, string> {
  if (!existsSync(envFile)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * The admin token of emulator mode: HERALD_ADMIN_TOKEN when set, else the one an earlier start wrote to
 * demo.env (so curl commands and scripts keep working across restarts), else a new one.
 */
export function demoAdminTokenFor(configured: string | undefined, previous: Record<string, string>): string {
  if (configured) return configured;
  const kept = previous.HERALD_ADMIN_TOKEN;
  return kept && kept.length >= 16 ? kept : demoAdminToken();
}

/**
 * Local demo against the built-in emulator, made through the same services as the admin API: a channel
 * "demo" (the default one, unless another channel already is) with an application-owned webhook, and a
 * source "demo" whose token is written with the admin token to `demo.env` beside the database, not to
 * the log. A restart keeps what is still valid: the source token of demo.env while it is the demo
 * source's (else the same source gets a new token, so old alerts keep their source), and the stored
 * webhooks of the demo channel, which the emulator (it forgets everything) is given back with the same
 * id and token. Call only once Herald listens: a start that fails changes nothing.
 */
export async function seedDemo(
  herald: DemoDeps,
  emulator: Emulator,
  adminToken: string,
  log: Logger,
): Promise<{ envFile: string; discordChannelId: string }> {
  const envFile = demoEnvPath(herald.config.dbPath);
  const previous = readDemoEnv(envFile);

  const existing = (await listChannels(herald)).find((c) => c.name === DEMO);
  const emuChannel = emulator.createChannel({ name: DEMO, ...(existing ? { id: existing.discord_channel_id } : {}) });
  const noDefault = !(await listChannels(herald)).some((c) => c.default);
  const channelId = existing?.id ?? (await createChannel(herald, { name: DEMO, discord_channel_id: emuChannel.id, default: noDefault })).id;
  const kept = await restoreWebhooks(herald, emulator, channelId, emuChannel.id);
  if (kept === 0) {
    // Application-owned, as /webhooks create makes it: its alerts carry the Acknowledge / Resolve / Mute 1h buttons.
    const hook = emulator.createWebhook(emuChannel.id, { name: 'Herald demo', applicationOwned: true });
    await addWebhook(herald, channelId, { url: hook.url, owner: 'app' });
  }

  const source = (await listSources(herald)).find((s) => s.name === DEMO);
  const previousToken = previous.HERALD_DEMO_SOURCE_TOKEN;
  let token: string;
  if (source && previousToken && (await herald.sourceAuth.sourceFor(previousToken)) === source.id) token = previousToken;
  else token = source ? (await reissueSourceToken(herald, source.id)).token : (await createSource(herald, { name: DEMO })).token;

  writeFileSync(
    envFile,
    `# Written by Herald's emulator mode: local credentials for the built-in emulator only. Kept across restarts while valid.\n` +
      `HERALD_DEMO_SOURCE_TOKEN=${token}\nHERALD_ADMIN_TOKEN=${adminToken}\nHERALD_DEMO_CHANNEL=${emuChannel.id}\n` +
      `HERALD_EMULATOR_URL=http://127.0.0.1:${emulator.port}\n`,
    { mode: 0o600 },
  );
  // `mode` applies only when the file is created; one left by an older Herald may be looser.
  chmodSync(envFile, 0o600);
  log.info({ envFile, kept: { sourceToken: token === previousToken, webhooks: kept } }, 'demo credentials written (source token, admin token); see README "Try it"');
  return { envFile, discordChannelId: emuChannel.id };
}

/**
 * Gives the fresh emulator back the demo channel's webhooks that Herald stores (same id and token), so
 * they keep working; one the emulator cannot take back is removed from the pool. Returns how many active ones remain.
 */
async function restoreWebhooks(herald: DemoDeps, emulator: Emulator, channelId: number, discordChannelId: string): Promise<number> {
  let active = 0;
  const stored = new Map((await herald.store.webhooks.activeFor(channelId)).map((w) => [w.id, w]));
  for (const w of await listWebhooks(herald, channelId)) {
    const hook = stored.get(w.id);
    try {
      if (!hook) throw new Error('not active');
      emulator.createWebhook(discordChannelId, { name: 'Herald demo', applicationOwned: hook.owner === 'app', restore: { id: hook.discordWebhookId, token: hook.token } });
      active++;
    } catch {
      await removeWebhook(herald, w.id);
    }
  }
  return active;
}
