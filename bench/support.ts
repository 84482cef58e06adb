import type { ChildProcess } from 'node:child_process';
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

export interface StartOptions {
  env?: Record<string, string>;
  /** Emulated webhooks in the channel (2 by default). */
  webhooks?: number;
  nodeFlags?: string[];
  /** The checkout to run (an older revision's worktree for `--against`); this repository by default. */
  root?: string;
}

/** Servers the bench started (Herald, Alertmanager) and that have not exited, so an interrupted bench can stop them. */
const running = new Set<ChildProcess>();

/** Remembers a server the bench started until it exits. */
export function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
}

/** Kills every server the bench started that is still running (on Ctrl-C or SIGTERM: none is left behind). */
export function killRunningServers(): void {
  for (const proc of running) proc.kill('SIGKILL');
}

/**
 * Herald in its own process (as `npm start` runs it) with one source, one channel of `webhooks` emulated
 * webhooks and a catch-all route, made through the admin API (the same paths and bodies since before issue 9,
 * so an older revision is set up the same way).
 */
export async function startHerald(emulator: Emulator, dbPath: string, opts: StartOptions = {}): Promise<BenchHerald> {
  const herald = await spawnHerald(
    { HERALD_DB: dbPath, HERALD_ADMIN_TOKEN: ADMIN, DISCORD_API_URL: emulator.url, HERALD_LOG_LEVEL: 'info', ...opts.env },
    { compiled: true, nodeFlags: opts.nodeFlags, root: opts.root },
  );
  track(herald.proc);
  const stop = async () => {
    herald.proc.kill('SIGTERM');
    await herald.exited;
  };
  const api = client(herald.url, ADMIN);
  try {
    const source = await created(api.admin('POST', '/v1/admin/sources', { name: 'bench' }), 'token');
    const emuChannel = emulator.createChannel({ name: 'bench' });
    const channelId = await created(api.admin('POST', '/v1/admin/channels', { name: 'bench', discord_channel_id: emuChannel.id }), 'id');
    for (let i = 0; i < (opts.webhooks ?? 2); i++) {
      const hook = emulator.createWebhook(emuChannel.id);
      await created(api.admin('POST', `/v1/admin/channels/${channelId}/webhooks`, { url: hook.url }), 'id');
    }
    await created(api.admin('POST', '/v1/admin/routes', { channel_id: channelId }), 'id');
    return { herald, api, source: source as string, channelId: channelId as number, discordChannelId: emuChannel.id, stop };
  } catch (err) {
    await stop(); // a Herald the bench could not set up is not left running
    throw err;
  }
}

/**
 * The field `field` of an admin answer, or an error naming the status: a revision whose admin API differs
 * fails here, plainly, rather than later as a bench that never sees a delivery.
 */
async function created(answer: ReturnType<ReturnType<typeof client>['admin']>, field: string): Promise<unknown> {
  const res = await answer;
  // Only the answer's error text goes into the message: a source's answer carries its token.
  if (res.status !== 201 || res.body?.[field] === undefined)
    throw new Error(`bench setup: the admin API answered ${res.status} without \`${field}\` (${String(res.body?.error ?? '')} ${String(res.body?.message ?? '')})`);
  return res.body[field];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A line saying what the bench is about to do (building, a storm that takes minutes), on stderr so the figures on stdout stay clean. */
export const progress = (line: string) => process.stderr.write(`… ${line}\n`);
