import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { createHerald, type Herald } from '../../src/herald.js';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/http/typed-app.js';
import { createLogger } from '../../src/log.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** Shrunk windows keep the suite fast; the ratios (30 per window, 5 per webhook bucket) are Discord's. */
export const FAST = {
  env: { HERALD_CHANNEL_CAP: '30', HERALD_CHANNEL_WINDOW_MS: '1000', HERALD_RETRY_BASE_MS: '50', HERALD_REQUEST_TIMEOUT_MS: '1000' },
  emulator: { channelCap: { limit: 30, windowMs: 1000 }, webhookBucket: { limit: 5, windowMs: 100 } },
};

export interface Stack {
  emulator: Emulator;
  herald: Herald;
  app: App;
  url: string;
  dir: string;
  /** Every log line Herald wrote, as text (for the redaction test and for debugging). */
  logs: string[];
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Creates a source, a channel with `webhooks` emulated webhooks and a catch-all route to it. */
  channel(opts?: { webhooks?: number; name?: string; applicationOwned?: boolean }): Promise<TestChannel>;
  source(name?: string): Promise<string>;
  post(token: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface TestChannel {
  id: number;
  discordChannelId: string;
  webhookIds: string[];
  /** The emulated webhooks' tokens: credentials that must never show up in logs or answers. */
  webhookTokens: string[];
  heraldWebhookIds: number[];
}

/**
 * A real Herald (SQLite file, HTTP server on loopback, delivery engine) against a real emulator,
 * in this process. `env` overrides Herald's configuration; `emulator` its limits (tests shrink windows);
 * `clock` the wall clock business hours are read against; `emulatedConsole`: the web console shows the
 * emulator (emulator mode).
 */
export async function startStack(
  opts: { env?: Record<string, string>; emulator?: EmulatorOptions; dir?: string; emulatorInstance?: Emulator; clock?: () => number; emulatedConsole?: boolean; configEnv?: NodeJS.ProcessEnv } = {},
): Promise<Stack> {
  const emulator = opts.emulatorInstance ?? (await startEmulator(opts.emulator));
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
  const parsed = loadConfig({
    HERALD_DB: join(dir, 'herald.db'),
    HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
    DISCORD_API_URL: emulator.url,
    HERALD_LOG_LEVEL: 'info',
    HERALD_DB_SYNC: 'normal',
    ...opts.env,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  // `configEnv`: where the configuration file's ${NAME} references are looked up (default: this process's environment).
  const herald = createHerald(parsed.config, createLogger(parsed.config.logLevel, sink), { ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.configEnv ? { env: opts.configEnv } : {}) });
  // `emulatedConsole`: the console shows the emulator's channels, as in emulator mode (src/main.ts).
  const app = await buildServer(herald, opts.emulatedConsole ? { emulated: emulator } : {});
  await app.listen({ host: '127.0.0.1', port: 0 });
  await herald.startDelivery();
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  const request = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsedBody: any = text;
    try {
      parsedBody = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsedBody };
  };

  const stack: Stack = {
    emulator,
    herald,
    app,
    url,
    dir,
    logs,
    admin: (method, path, body) => request(method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}` }),
    post: (token, body, headers = {}) => request('POST', '/v1/alerts', body, { authorization: `Bearer ${token}`, ...headers }),
    async source(name = `src-${Math.random().toString(36).slice(2, 8)}`) {
      const res = await stack.admin('POST', '/v1/admin/sources', { name });
      if (res.status !== 201) throw new Error(`source: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token as string;
    },
    async channel({ webhooks = 1, name = `ch-${Math.random().toString(36).slice(2, 8)}`, applicationOwned = false } = {}) {
      const emuChannel = emulator.createChannel({ name });
      const ch = await stack.admin('POST', '/v1/admin/channels', { name, discord_channel_id: emuChannel.id });
      if (ch.status !== 201) throw new Error(`channel: ${ch.status} ${JSON.stringify(ch.body)}`);
      const webhookIds: string[] = [];
      const webhookTokens: string[] = [];
      const heraldWebhookIds: number[] = [];
      for (let i = 0; i < webhooks; i++) {
        const hook = emulator.createWebhook(emuChannel.id, { applicationOwned });
        const res = await stack.admin('POST', `/v1/admin/channels/${ch.body.id}/webhooks`, { url: hook.url, owner: applicationOwned ? 'app' : 'external' });
        if (res.status !== 201) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
        webhookIds.push(hook.id);
        webhookTokens.push(hook.token);
        heraldWebhookIds.push(res.body.id);
      }
      const route = await stack.admin('POST', '/v1/admin/routes', { channel_id: ch.body.id });
      if (route.status !== 201) throw new Error(`route: ${route.status} ${JSON.stringify(route.body)}`);
      return { id: ch.body.id, discordChannelId: emuChannel.id, webhookIds, webhookTokens, heraldWebhookIds };
    },
    async close() {
      await app.close();
      await herald.close();
      if (!opts.emulatorInstance) await emulator.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Alert ids found in a channel's messages (each embed's footer `alert #id`, or each line of a compact storm message), in order, repeats included. */
export function deliveredAlertIds(emulator: Emulator, discordChannelId: string): number[] {
  return emulator.messages(discordChannelId).flatMap((m) => (m.deleted ? [] : alertIdsOf(m)));
}

/** The alerts one message shows: a card's (its footer's `alert #id`), or each line's `#id` of a compact storm message. */
export function alertIdsOf(m: { embeds: unknown }): number[] {
  const ids: number[] = [];
  const embeds = m.embeds as { description?: string; footer?: { text?: string } }[];
  // A compact storm message: one line per alert, each ending with its `#id` (src/cards/storm.ts).
  const compact = embeds.at(-1)?.footer?.text?.startsWith('Storm mode') ?? false;
  for (const e of embeds) {
    if (compact) {
      for (const line of (e.description ?? '').split('\n')) {
        const id = / · #(\d+)$/.exec(line);
        if (id) ids.push(Number(id[1]));
      }
      continue;
    }
    const match = /alert #(\d+)/.exec(e.footer?.text ?? '');
    if (match) ids.push(Number(match[1]));
  }
  return ids;
}

/** Polls until `check` returns true or the time is up (then fails with `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function alert(i: number, over: Record<string, unknown> = {}) {
  return { service: 'checkout', severity: 'P2', title: `Alert ${i}`, description: `Something happened (${i})`, ...over };
}
