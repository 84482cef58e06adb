import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRoutes } from '../src/services/routes.js';
import { opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { FAST, type TestChannel } from './support/stack.js';

describe('/route add with business hours', () => {
  let s: BotStack;
  let ch: TestChannel;
  beforeAll(async () => {
    s = await startBotStack(FAST);
    ch = await s.channel({ webhooks: 1, applicationOwned: true });
  });
  afterAll(async () => s?.close());

  const run = (...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId: s.admin_.id, channelId: ch.discordChannelId, name: 'route', options });

  it('stores hours, time zone and the outside-hours choice, and lists them', async () => {
    const add = await run(
      sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('service', T.STRING, 'batch-*'), opt('hours', T.STRING, 'mon-fri 08:30-18:00'), opt('timezone', T.STRING, 'Europe/Berlin'), opt('outside_hours', T.STRING, 'digest')),
    );
    const id = Number(/route added: #(\d+)/i.exec(add.content)?.[1]);
    expect(id, add.content).toBeGreaterThan(0);
    expect(add.content).toContain('hours mon,tue,wed,thu,fri 08:30-18:00 Europe/Berlin, digest only outside');
    expect((await listRoutes(s.herald)).find((r) => r.id === id)!.business_hours).toEqual({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:30', end: '18:00', timezone: 'Europe/Berlin', outside: 'digest' });

    const utc = await run(sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('hours', T.STRING, 'weekdays 9:00-17:00')));
    expect(utc.content).toContain('09:00-17:00 UTC');
  });

  it('refuses a bad time zone or hours, saying what is wrong', async () => {
    const tz = await run(sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('hours', T.STRING, 'mon 09:00-17:00'), opt('timezone', T.STRING, 'Berlin')));
    expect(tz).toMatchObject({ ephemeral: true });
    expect(tz.content).toMatch(/timezone: "Berlin" is not a known IANA time zone/);
    const hours = await run(sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('hours', T.STRING, 'someday 09:00-17:00')));
    expect(hours.content).toMatch(/hours: "someday" is not a day/);
  });
});
