import { readFileSync } from 'node:fs';
import { client, spawnHerald, type HeraldProcess } from '../test/support/process.js';
import type { Emulator } from '../src/emulator/index.js';

export const ADMIN = 'bench-admin-token-0123456789abcdef';

/** Resident memory of a process, from /proc (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface BenchHerald {
  herald: HeraldProcess;
  api: ReturnType<typeof client>;
  source: string;
  channelId: number;
  discordChannelId: string;
  stop(): Promise<void>;
}

/** Herald in its own process (as `npm start` runs it) with one source, one channel of `webhooks` emulated webhooks and a catch-all route. */
export async function startHerald(
  emulator: Emulator,
  dbPath: string,
  env: Record<string, string> = {},
  webhooks = 2,
  nodeFlags: string[] = [],
): Promise<BenchHerald> {
  const herald = await spawnHerald({ HERALD_DB: dbPath, HERALD_ADMIN_TOKEN: ADMIN, DISCORD_API_URL: emulator.url, HERALD_LOG_LEVEL: 'info', ...env }, { compiled: true, nodeFlags });
  const api = client(herald.url, ADMIN);
  const source = (await api.admin('POST', '/v1/admin/sources', { name: 'bench' })).body.token as string;
  const emuChannel = emulator.createChannel({ name: 'bench' });
  const channelId = (await api.admin('POST', '/v1/admin/channels', { name: 'bench', discord_channel_id: emuChannel.id })).body.id as number;
  for (let i = 0; i < webhooks; i++) {
    const hook = emulator.createWebhook(emuChannel.id);
    await api.admin('POST', `/v1/admin/channels/${channelId}/webhooks`, { url: hook.url });
  }
  await api.admin('POST', '/v1/admin/routes', { channel_id: channelId });
  return {
    herald,
    api,
    source,
    channelId,
    discordChannelId: emuChannel.id,
    async stop() {
      herald.proc.kill('SIGTERM');
      await herald.exited;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
