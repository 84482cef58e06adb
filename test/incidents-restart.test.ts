import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { alert, waitFor } from './support/stack.js';
import { client, spawnHerald } from './support/process.js';

const ADMIN = 'incident-restart-admin-token-0123456789';
let emulator: Emulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ channelCap: { limit: 30, windowMs: 1000 }, webhookBucket: { limit: 5, windowMs: 100 } });
  dir = mkdtempSync(join(tmpdir(), 'herald-incident-restart-'));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

type Embed = { description?: string; footer?: { text?: string } };

describe("an incident's group_wait is durable", () => {
  it('kill -9 during the wait: after the restart the card is still posted, once, with every member', async () => {
    const env = { HERALD_DB: join(dir, 'herald.db'), HERALD_ADMIN_TOKEN: ADMIN, DISCORD_API_URL: emulator.url, HERALD_LOG_LEVEL: 'info' };
    const first = await spawnHerald(env);
    const api = client(first.url, ADMIN);
    const source = (await api.admin('POST', '/v1/admin/sources', { name: 'grouped' })).body.token as string;
    const emuChannel = emulator.createChannel({ name: 'incidents' });
    const ch = (await api.admin('POST', '/v1/admin/channels', { name: 'incidents', discord_channel_id: emuChannel.id })).body.id as number;
    expect((await api.admin('POST', `/v1/admin/channels/${ch}/webhooks`, { url: emulator.createWebhook(emuChannel.id).url })).status).toBe(201);
    expect((await api.admin('POST', '/v1/admin/routes', { channel_id: ch, group_wait: '4s' })).status).toBe(201);

    const res = await api.post(source, { alerts: [0, 1, 2].map((i) => alert(i, { group: 'payments-down', title: `payments member ${i}` })) });
    expect(res.status).toBe(202);
    const ids = res.body.ids as number[];
    // Killed while the incident waits for more members: nothing has been posted yet.
    first.proc.kill('SIGKILL');
    await first.exited;
    expect(emulator.messages(emuChannel.id)).toHaveLength(0);

    const second = await spawnHerald(env);
    try {
      await waitFor('the incident card after the restart', () => emulator.messages(emuChannel.id).length > 0, 20_000);
      const messages = emulator.messages(emuChannel.id);
      expect(messages).toHaveLength(1);
      const e = (messages[0]!.embeds as Embed[])[0]!;
      expect(e.footer?.text).toMatch(/^incident #\d+ · 3 alerts/);
      for (const id of ids) expect(e.description).toContain(`· #${id}`);
    } finally {
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
