import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Emulator } from './emulator/index.js';
import type { Herald } from './herald.js';
import { createChannel, listChannels } from './services/channels.js';
import { createSource, deleteSource, listSources } from './services/sources.js';
import { addWebhook, listWebhooks, removeWebhook } from './services/webhooks.js';

export const DEMO = 'demo';

/** A random admin token for the local demo, when the user set none. */
export const demoAdminToken = (): string => randomBytes(24).toString('base64url');

/**
 * Local demo against the built-in emulator, made through the same services as the admin API: a default
 * channel "demo" with an emulated webhook, and a source "demo" whose fresh token is written (with the
 * admin token) to `demo.env` beside the database, not to the log. The emulator keeps nothing across
 * restarts, so its channel and webhook are made again at each start.
 */
export function seedDemo(herald: Herald, emulator: Emulator, adminToken: string, log: Logger): { envFile: string; discordChannelId: string } {
  const existing = listChannels(herald).find((c) => c.name === DEMO);
  const emuChannel = emulator.createChannel({ name: DEMO, ...(existing ? { id: existing.discord_channel_id } : {}) });
  const channelId = existing?.id ?? createChannel(herald, { name: DEMO, discord_channel_id: emuChannel.id, default: true }).id;
  for (const w of listWebhooks(herald, channelId)) removeWebhook(herald, w.id);
  // Application-owned, as /webhooks create makes it: its alerts carry the Acknowledge / Resolve / Mute 1h buttons.
  addWebhook(herald, channelId, { url: emulator.createWebhook(emuChannel.id, { name: 'Herald demo', applicationOwned: true }).url, owner: 'app' });

  const oldSource = listSources(herald).find((s) => s.name === DEMO);
  if (oldSource) deleteSource(herald, oldSource.id);
  const { token } = createSource(herald, { name: DEMO });

  const envFile = join(dirname(resolve(herald.config.dbPath)), 'demo.env');
  writeFileSync(
    envFile,
    `# Written by Herald's emulator mode at each start: local credentials for the built-in emulator only.\n` +
      `HERALD_DEMO_SOURCE_TOKEN=${token}\nHERALD_ADMIN_TOKEN=${adminToken}\nHERALD_DEMO_CHANNEL=${emuChannel.id}\n` +
      `HERALD_EMULATOR_URL=http://127.0.0.1:${emulator.port}\n`,
    { mode: 0o600 },
  );
  log.info({ envFile }, 'demo credentials written (source token, admin token); see README "Try it"');
  return { envFile, discordChannelId: emuChannel.id };
}
