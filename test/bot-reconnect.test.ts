import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/bot/connection.js';
import { botReadiness, startBot, type Bot } from '../src/bot/index.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, FAST, startStack, waitFor, type Stack } from './support/stack.js';

/** A port nothing listens on (yet): "Discord cannot be reached". */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const TOKEN = 'emu.reconnect-test-token-0123456789';

let stack: Stack | undefined;
let bot: Bot | undefined;
let discord: Emulator | undefined;
afterEach(async () => {
  await bot?.close();
  await stack?.close();
  await discord?.close();
  stack = bot = discord = undefined;
});

async function readyz(s: Stack): Promise<{ status: number; problems: string[] }> {
  const res = await fetch(`${s.url}/readyz`);
  return { status: res.status, problems: ((await res.json()) as { problems: string[] }).problems };
}

describe('the bot reconnects with backoff', () => {
  it('waits from doubling to a cap, with jitter in the upper half', () => {
    const b = { baseMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, b, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(30, b, () => 1)).toBe(60_000);
    expect(backoffDelay(3, b, () => 0)).toBe(2000);
    for (let k = 0; k < 50; k++) {
      const d = backoffDelay(2, b);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it('Discord unreachable at start, then lost later: /readyz says reconnecting (attempt, last error), delivery goes on, and the bot comes back each time', async () => {
    const port = await freePort();
    // Webhook delivery goes to one emulator; the bot's Discord is another, not running yet.
    stack = await startStack({ ...FAST, env: { ...FAST.env, DISCORD_TOKEN: TOKEN, DISCORD_GUILD_ID: '100000000000000001' } });
    const s = stack;
    s.herald.readiness.add(botReadiness(() => bot));
    bot = await startBot(s.herald, {
      token: TOKEN,
      apiUrl: `http://127.0.0.1:${port}/api`,
      guildId: '100000000000000001',
      adminRoleIds: [],
      oncallRoleIds: [],
      log: s.herald.log,
      reconnect: { baseMs: 100, maxMs: 400, connectTimeoutMs: 5000, resumeGraceMs: 2000 },
    });
    const b = bot;
    expect(b.healthy().ok).toBe(false);
    // Any attempt past the first (10 to 19 too); a loaded machine may take longer than the backoff's 400 ms cap suggests.
    await waitFor('a retry after the first attempt failed', async () => (await readyz(s)).problems.some((p) => /^bot: reconnecting, attempt (?:[2-9]|[1-9]\d+), last error: .+/.test(p)));
    const during = await readyz(s);
    expect(during.status).toBe(503);

    // Delivery does not wait for the bot.
    const token = await s.source();
    const ch = await s.channel({ webhooks: 1 });
    const id = (await s.post(token, alert(1))).body.ids[0] as number;
    await waitFor('delivered while the bot is away', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id));

    discord = await startEmulator({ port, botToken: TOKEN });
    await waitFor('the bot connected', () => b.healthy().ok, 20_000);
    expect(await readyz(s)).toEqual({ status: 200, problems: [] });
    expect(s.logs.join('')).toMatch(/bot reconnected to Discord/);

    // Discord goes away for good (no resume possible) and comes back as a new gateway.
    await discord.close();
    await waitFor('/readyz failing while the bot is away', async () => (await readyz(s)).status === 503, 10_000);
    expect((await readyz(s)).problems[0]).toMatch(/^bot: (reconnecting|not connected)/);
    await waitFor('backoff attempts after the connection did not come back', async () => (await readyz(s)).problems.some((p) => /reconnecting, attempt \d+, last error/.test(p)), 15_000);
    discord = await startEmulator({ port, botToken: TOKEN });
    await waitFor('the bot connected again', () => b.healthy().ok, 20_000);
    expect((await readyz(s)).status).toBe(200);
    expect(discord.gatewayStats().identifies).toBe(1);
    expect(s.logs.join('')).not.toContain(TOKEN);
  });
});
