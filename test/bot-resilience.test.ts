import { afterEach, describe, expect, it } from 'vitest';
import { startBot } from '../src/bot/index.js';
import { startBotStack, type BotStack } from './support/bot.js';
import { alert, deliveredAlertIds, FAST, waitFor } from './support/stack.js';

let s: BotStack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function storm(stack: BotStack, token: string, n: number, from = 0): Promise<number[]> {
  const ids: number[] = [];
  await Promise.all(
    Array.from({ length: n }, (_, k) =>
      stack.post(token, alert(from + k)).then((res) => {
        expect(res.status).toBe(202);
        ids.push(res.body.ids[0]);
      }),
    ),
  );
  return ids;
}

describe('the bot: gateway drops and fatal closes', () => {
  it('a gateway drop in the middle of a storm: delivery goes on, the bot resumes and answers again', async () => {
    s = await startBotStack(FAST);
    const token = await s.source();
    const ch = await s.channel({ webhooks: 2 });
    expect((await s.readyz()).status).toBe(200);

    const first = await storm(s, token, 100);
    s.emulator.dropGateway();
    const second = await storm(s, token, 100, 100);
    const all = [...first, ...second];
    await waitFor('the whole storm delivered', () => deliveredAlertIds(s!.emulator, ch.discordChannelId).length >= all.length, 60_000);
    const delivered = deliveredAlertIds(s.emulator, ch.discordChannelId);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect([...delivered].sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));

    await waitFor('the bot back on the gateway', () => s!.bot.healthy().ok, 20_000);
    expect(s.emulator.gatewayStats().resumes).toBeGreaterThanOrEqual(1);
    const status = await s.emulator.runCommand({ userId: s.member.id, channelId: ch.discordChannelId, name: 'status' });
    expect(status.content).toMatch(/\*\*Queue\*\*/);
    expect((await s.readyz()).status).toBe(200);
    expect(s.logs.join('')).toMatch(/Discord gateway connection lost; reconnecting \(webhook delivery goes on\)/);
  });

  it('a fatal close (4004) fails /readyz with a plain reason, is logged plainly, and delivery goes on', async () => {
    s = await startBotStack(FAST);
    const token = await s.source();
    const ch = await s.channel({ webhooks: 1 });
    s.emulator.dropGateway({ code: 4004 });
    await waitFor('/readyz failing', async () => (await s!.readyz()).status === 503, 10_000);
    const ready = await s.readyz();
    expect(ready.body.ok).toBe(false);
    expect(ready.body.problems).toEqual([
      "bot: Discord gateway closed the bot's connection with code 4004 (authentication failed: DISCORD_TOKEN is wrong or was reset); the bot will not reconnect until Herald restarts. Webhook delivery goes on.",
    ]);
    // discord.js still says ready: the shard status is what tells.
    expect(s.bot.client.isReady()).toBe(true);
    const line = s.logs.find((l) => l.includes('code 4004'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 50, component: 'bot', code: 4004 });
    expect(line).not.toMatch(/stack|at .*\.js:\d+/);

    const ids = await storm(s, token, 20);
    await waitFor('alerts delivered without the bot', () => ids.every((id) => deliveredAlertIds(s!.emulator, ch.discordChannelId).includes(id)), 30_000);
  });

  it('a wrong token: startBot does not throw, says so plainly, and Herald goes on', async () => {
    s = await startBotStack(FAST);
    const d = s.herald.config.discord;
    const wrong = await startBot(s.herald, { token: 'emu.not-the-token', apiUrl: d.apiUrl, guildId: s.emulator.guildId, adminRoleIds: [], oncallRoleIds: [], log: s.herald.log });
    try {
      expect(wrong.healthy()).toEqual({
        ok: false,
        problem: 'bot: Discord refused the bot token (401): check DISCORD_TOKEN; the bot is not running. Webhook delivery goes on.',
      });
      expect(s.logs.join('')).not.toContain('emu.not-the-token');
    } finally {
      await wrong.close();
    }
  });
});
