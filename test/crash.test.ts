import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, waitFor } from './support/stack.js';
import { client, spawnHerald } from './support/process.js';

const ADMIN = 'crash-test-admin-token-0123456789';
let emulator: Emulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ channelCap: { limit: 30, windowMs: 1000 }, webhookBucket: { limit: 5, windowMs: 100 } });
  dir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 of the real process mid-storm', () => {
  it('delivers every accepted alert after a restart; duplicates only for sends in flight at the kill', async () => {
    const env = {
      HERALD_DB: join(dir, 'herald.db'),
      HERALD_ADMIN_TOKEN: ADMIN,
      DISCORD_API_URL: emulator.url,
      HERALD_CHANNEL_CAP: '30',
      HERALD_CHANNEL_WINDOW_MS: '1000',
      HERALD_LOG_LEVEL: 'info',
    };
    const first = await spawnHerald(env);
    const api = client(first.url, ADMIN);
    const source = (await api.admin('POST', '/v1/admin/sources', { name: 'crash' })).body.token as string;
    const emuChannel = emulator.createChannel({ name: 'crash' });
    const ch = (await api.admin('POST', '/v1/admin/channels', { name: 'crash', discord_channel_id: emuChannel.id })).body.id as number;
    for (let i = 0; i < 2; i++) {
      const hook = emulator.createWebhook(emuChannel.id);
      expect((await api.admin('POST', `/v1/admin/channels/${ch}/webhooks`, { url: hook.url })).status).toBe(201);
    }
    await api.admin('POST', '/v1/admin/routes', { channel_id: ch });

    // 20 senders post single alerts as fast as they can; the process is killed while they do.
    const accepted: number[] = [];
    let killed = false;
    const sender = async (k: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await api.post(source, alert(k * 10_000 + i));
          if (res.status === 202) accepted.push(...(res.body.ids as number[]));
        } catch {
          return; // connection reset by the kill: that alert was never acknowledged
        }
      }
    };
    const senders = Array.from({ length: 20 }, (_, k) => sender(k));
    await waitFor('a storm under way', () => accepted.length >= 600 && deliveredAlertIds(emulator, emuChannel.id).length > 50, 30_000, 5);
    first.proc.kill('SIGKILL');
    killed = true;
    await first.exited;
    await Promise.all(senders);
    const deliveredBeforeRestart = deliveredAlertIds(emulator, emuChannel.id).length;
    expect(deliveredBeforeRestart).toBeLessThan(accepted.length);

    const second = await spawnHerald(env);
    try {
      await waitFor(
        'every accepted alert delivered after restart',
        () => {
          const got = new Set(deliveredAlertIds(emulator, emuChannel.id));
          return accepted.every((id) => got.has(id));
        },
        60_000,
        100,
      );
      const delivered = deliveredAlertIds(emulator, emuChannel.id);
      const duplicates = delivered.length - new Set(delivered).size;
      // At most one packed message (≤10 alerts) per webhook can have been in flight at the kill.
      expect(duplicates).toBeLessThanOrEqual(20);
    } finally {
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
