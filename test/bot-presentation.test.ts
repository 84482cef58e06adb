import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { focused, opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { alert, FAST, waitFor, type TestChannel } from './support/stack.js';

type Msg = { id: string; deleted: boolean; content: string; embeds: unknown[]; components: unknown[] };

/**
 * Issue 10 §5, as a new user tried the commands and buttons: a second resolve, acknowledge or mute says
 * so to that person alone; the Mute button goes once muted; autocomplete offers only what a command can
 * act on; answers name channels and webhooks as Discord shows them, echo a bad option as typed, and
 * state every option that was set. Through the real bot, HTTP server, SQLite and the emulator.
 */
describe('the bot as a new user tries it: no double announcements, no double mutes, answers in Discord terms', () => {
  let s: BotStack;
  let token: string;
  let ch: TestChannel;
  let other: TestChannel;

  beforeAll(async () => {
    s = await startBotStack(FAST);
    token = await s.source();
    ch = await s.channel({ webhooks: 1, applicationOwned: true });
    other = await s.channel({ webhooks: 1, applicationOwned: true });
  });
  afterAll(async () => s?.close());

  const run = (userId: string, channelId: string, name: string, ...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId, channelId, name, options });
  const messageOf = (discordChannelId: string, alertId: number) =>
    (s.emulator.messages(discordChannelId) as unknown as Msg[]).find((m) => !m.deleted && JSON.stringify(m.embeds).includes(`alert #${alertId}`));
  const customIds = (m: { components: unknown[] }): string[] => JSON.stringify(m.components).match(/herald:[a-z]+:\d+/g) ?? [];
  /** Holds the next request to the other channel's webhook for a while: its card stays stale meanwhile, as when Discord is slow. */
  const holdOtherChannelEdit = () => s.emulator.injectFault({ kind: 'slow', delayMs: 800, count: 1, channelId: other.discordChannelId });
  const alertDetail = async (id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;
  const mutesOfKey = async (key: string): Promise<any[]> => (await s.admin('GET', '/v1/admin/mutes')).body.filter((m: any) => m.dedup_key === key);

  /** Posts one alert and waits for its card in both channels (each has a catch-all route). */
  async function delivered(over: Record<string, unknown> = {}): Promise<{ alertId: number; here: Msg; there: Msg }> {
    const res = await s.post(token, alert(Math.floor(Math.random() * 1e6), over));
    const alertId = res.body.ids[0] as number;
    await waitFor(`alert #${alertId} delivered to both channels`, () => !!messageOf(ch.discordChannelId, alertId) && !!messageOf(other.discordChannelId, alertId));
    return { alertId, here: messageOf(ch.discordChannelId, alertId)!, there: messageOf(other.discordChannelId, alertId)! };
  }

  it('/resolve of a resolved alert says "already resolved" to that person alone; a stale Resolve button is brought up to date and says the same', async () => {
    const { alertId, there } = await delivered({ dedup_key: 'resolve-twice' });
    holdOtherChannelEdit();
    const first = await run(s.oncall.id, ch.discordChannelId, 'resolve', opt('alert', T.STRING, String(alertId)));
    expect(first.ephemeral).toBe(false);
    expect(first.content).toMatch(new RegExp(`^Alert #${alertId} ".*" resolved by <@${s.oncall.id}>\\.$`));
    const resolvedAt = (await alertDetail(alertId)).resolved_at;

    const again = await run(s.admin_.id, ch.discordChannelId, 'resolve', opt('alert', T.STRING, `#${alertId}`));
    expect(again.ephemeral).toBe(true);
    expect(again.content).toMatch(new RegExp(`^Alert #${alertId} ".*" is already resolved by <@${s.oncall.id}> <t:\\d+:R>; nothing was changed\\.$`));
    expect((await alertDetail(alertId)).resolved_at).toBe(resolvedAt);

    // The other channel's card still shows its buttons (its edit is held): pressing Resolve there.
    const pressed = await s.emulator.pressButton({ userId: s.admin_.id, channelId: other.discordChannelId, messageId: there.id, customId: `herald:resolve:${alertId}` });
    expect(pressed.type).toBe(7);
    expect(pressed.components).toEqual([]);
    expect(JSON.stringify(pressed.embeds)).toContain(`Resolved by <@${s.oncall.id}>`);
    await waitFor('the ephemeral follow-up', () => pressed.followups.length > 0);
    expect(pressed.followups).toEqual([expect.objectContaining({ ephemeral: true, content: expect.stringMatching(new RegExp(`is already resolved by <@${s.oncall.id}>`)) })]);
    expect((await alertDetail(alertId)).resolved_at).toBe(resolvedAt);
  });

  it('/ack of an acknowledged alert says "already acknowledged" to that person alone', async () => {
    const { alertId } = await delivered();
    const first = await run(s.oncall.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, String(alertId)));
    expect(first).toMatchObject({ ephemeral: false });
    const again = await run(s.oncall.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, String(alertId)));
    expect(again.ephemeral).toBe(true);
    expect(again.content).toMatch(new RegExp(`is already acknowledged by <@${s.oncall.id}> <t:\\d+:R>; nothing was changed`));
  });

  it('Mute 1h: the button goes from every card of the alert; a second press from a stale card makes no second mute and says "already muted"; /unmute brings it back', async () => {
    const { alertId, here, there } = await delivered({ dedup_key: 'mute-twice' });
    expect(customIds(there)).toContain(`herald:mute:${alertId}`);
    holdOtherChannelEdit();
    const pressed = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: here.id, customId: `herald:mute:${alertId}` });
    expect(pressed.type).toBe(7);
    expect(pressed.content).toMatch(/Muted for 1 hour by/);
    expect(customIds(pressed)).toEqual([`herald:ack:${alertId}`, `herald:resolve:${alertId}`]);
    expect(JSON.stringify(pressed.embeds)).toMatch(/Muted until <t:\d+:f>/);
    const [mute] = await mutesOfKey('mute-twice');
    expect(mute).toBeDefined();

    // Pressed again from the other channel's card before its edit lands (the press comes first).
    const stale = await s.emulator.pressButton({ userId: s.oncall.id, channelId: other.discordChannelId, messageId: there.id, customId: `herald:mute:${alertId}` });
    expect(stale.type).toBe(7);
    expect(customIds(stale)).toEqual([`herald:ack:${alertId}`, `herald:resolve:${alertId}`]);
    await waitFor('the ephemeral follow-up', () => stale.followups.length > 0);
    expect(stale.followups[0]).toMatchObject({ ephemeral: true, content: expect.stringContaining(`is already muted by mute #${mute.id} until <t:`) });
    expect(await mutesOfKey('mute-twice')).toHaveLength(1);

    // /mute alert: on it: the same answer, still one mute.
    const byCommand = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '2h'), opt('alert', T.STRING, String(alertId)));
    expect(byCommand.ephemeral).toBe(true);
    expect(byCommand.content).toContain(`is already muted by mute #${mute.id}`);
    expect(await mutesOfKey('mute-twice')).toHaveLength(1);

    // Every card of the alert loses the button (edited through the outbox), and gets it back when unmuted.
    await waitFor('the Mute button gone from both cards', () =>
      [ch.discordChannelId, other.discordChannelId].every((c) => !customIds(messageOf(c, alertId)!).includes(`herald:mute:${alertId}`)),
    );
    const un = await run(s.oncall.id, ch.discordChannelId, 'unmute', opt('mute', T.INTEGER, mute.id));
    expect(un.content).toMatch(new RegExp(`Mute #${mute.id} ended`));
    await waitFor('the Mute button back on both cards', () =>
      [ch.discordChannelId, other.discordChannelId].every((c) => customIds(messageOf(c, alertId)!).includes(`herald:mute:${alertId}`)),
    );
    expect(JSON.stringify(messageOf(ch.discordChannelId, alertId)!.embeds)).not.toContain('Muted until');
  });

  it('autocomplete offers only alerts the command can act on', async () => {
    const firing = await delivered({ title: 'ac-firing' });
    const acked = await delivered({ title: 'ac-acked' });
    const resolved = await delivered({ title: 'ac-resolved' });
    await run(s.oncall.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, String(acked.alertId)));
    await run(s.oncall.id, ch.discordChannelId, 'resolve', opt('alert', T.STRING, String(resolved.alertId)));
    const offered = async (userId: string, name: string, extra: ReturnType<typeof opt>[] = []) =>
      (await s.emulator.autocomplete({ userId, channelId: ch.discordChannelId, name, options: [...extra, focused('alert', 'ac-')] })).map((c) => c.value);

    expect(await offered(s.oncall.id, 'resolve')).toEqual([String(acked.alertId), String(firing.alertId)]);
    expect(await offered(s.oncall.id, 'ack')).toEqual([String(firing.alertId)]);
    expect(await offered(s.oncall.id, 'mute', [opt('duration', T.STRING, '1h')])).toEqual([String(acked.alertId), String(firing.alertId)]);
    expect(await offered(s.admin_.id, 'retract')).toEqual([String(resolved.alertId), String(acked.alertId), String(firing.alertId)]);
    await run(s.admin_.id, ch.discordChannelId, 'retract', opt('alert', T.STRING, String(firing.alertId)));
    expect(await offered(s.admin_.id, 'retract')).toEqual([String(resolved.alertId), String(acked.alertId)]);
    expect(await offered(s.oncall.id, 'resolve')).toEqual([String(acked.alertId)]);
  });

  it('answers name channels as <#id> mentions and webhooks by the name Discord shows', async () => {
    const emuChannel = s.emulator.createChannel({ name: 'pager-room' });
    const created = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('create', opt('name', T.STRING, 'Pager Hook')));
    expect(created.content).toMatch(new RegExp(`^Created webhook #\\d+ app-owned \\(buttons\\) named \\*\\*Pager Hook\\*\\* · active · .* in <#${emuChannel.id}>`));
    const list = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('list'));
    expect(list.content).toMatch(new RegExp(`^Webhooks of <#${emuChannel.id}>:\\n• #\\d+ app-owned \\(buttons\\) named \\*\\*Pager Hook\\*\\*`));
    const id = Number(/#(\d+)/.exec(created.content)![1]);

    const route = await run(s.admin_.id, ch.discordChannelId, 'route', sub('add', opt('channel', T.CHANNEL, emuChannel.id), opt('service', T.STRING, 'pager-*')));
    expect(route.content).toMatch(new RegExp(`^Route added: #\\d+ → <#${emuChannel.id}>: service pager-\\*\\.$`));
    const routes = await run(s.admin_.id, ch.discordChannelId, 'route', sub('list'));
    expect(routes.content).toContain(`→ <#${emuChannel.id}>: service pager-*`);
    expect(routes.content).not.toMatch(/→ pager-room/);

    const removed = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('remove', opt('webhook', T.INTEGER, id)));
    expect(removed.content).toBe(`Webhook #${id} removed from the pool of <#${emuChannel.id}> (it was **Pager Hook**).`);
  });

  it('a bad option is echoed as typed; a confirmation states every option that was set', async () => {
    const severities = await run(s.admin_.id, ch.discordChannelId, 'subscribe', opt('service', T.STRING, 'x'), opt('severities', T.STRING, 'p1, p9'));
    expect(severities).toMatchObject({ ephemeral: true, content: 'severities: "p9" is not a severity; use P0, P1, P2 or P3, e.g. "P0,P1"' });
    const time = await run(s.admin_.id, ch.discordChannelId, 'digest', sub('set', opt('time', T.STRING, '9am')));
    expect(time).toMatchObject({ ephemeral: true, content: 'time: a time as HH:MM (24 h), e.g. 09:00, not "9am"' });
    const hours = await run(s.admin_.id, ch.discordChannelId, 'route', sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('hours', T.STRING, 'weekdays 9-5')));
    expect(hours.content).toContain('"weekdays 9-5"');

    const add = await run(
      s.admin_.id,
      ch.discordChannelId,
      'route',
      sub(
        'add',
        opt('channel', T.CHANNEL, other.discordChannelId),
        opt('service', T.STRING, 'shop-*'),
        opt('severities', T.STRING, 'P2,P3'),
        opt('environment', T.STRING, 'staging'),
        opt('labels', T.STRING, 'team=shop'),
        opt('hours', T.STRING, 'mon-fri 09:00-17:00'),
        opt('timezone', T.STRING, 'Europe/Paris'),
        opt('outside_hours', T.STRING, 'wait'),
      ),
    );
    expect(add.content).toMatch(
      new RegExp(`^Route added: #\\d+ → <#${other.discordChannelId}>: service shop-\\*, P2/P3, env staging, team=shop, hours mon,tue,wed,thu,fri 09:00-17:00 Europe/Paris, P2/P3 wait outside\\.$`),
    );

    const test = await run(s.admin_.id, ch.discordChannelId, 'alert', sub('test', opt('severity', T.STRING, 'P2'), opt('service', T.STRING, 'shop-web'), opt('title', T.STRING, 'Checkout smoke')));
    expect(test.content).toMatch(/^Test alert #\d+ \(P2, service \*\*shop-web\*\*, title "Checkout smoke"\) accepted/);
  });
});
