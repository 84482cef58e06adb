import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../src/bot/register.js';
import { loadConfig } from '../src/config.js';
import { wellFormed } from '../src/discord/text.js';
import { focused, opt, startBotStack, T, type BotStack } from './support/bot.js';
import { spawnHerald } from './support/process.js';
import { alert, FAST, waitFor, type TestChannel } from './support/stack.js';

type Msg = { id: string; embeds: unknown[]; components: unknown[] };

/**
 * The bot acts only for our server, on our messages, for our people (issue 8 §2): a stranger's server the
 * bot was invited to, a look-alike card posted through a leaked app-owned webhook, a member without the
 * on-call role, and a mute that would silence everything.
 */
describe('the bot acts only for our guild, our messages, our people', () => {
  let s: BotStack;
  let token: string;
  let ch: TestChannel;

  beforeAll(async () => {
    s = await startBotStack(FAST);
    token = await s.source();
    ch = await s.channel({ webhooks: 1, applicationOwned: true });
  });
  afterAll(async () => s?.close());

  const run = (userId: string, channelId: string, name: string, ...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId, channelId, name, options });
  const detail = async (id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;
  const mutes = async (): Promise<any[]> => (await s.admin('GET', '/v1/admin/mutes')).body;

  async function delivered(over: Record<string, unknown> = {}): Promise<{ alertId: number; message: Msg }> {
    const res = await s.post(token, alert(Math.floor(Math.random() * 1e6), over));
    const alertId = res.body.ids[0] as number;
    let message: Msg | undefined;
    await waitFor(`alert #${alertId} delivered`, () => {
      message = (s.emulator.messages(ch.discordChannelId) as unknown as Msg[]).find((m) => JSON.stringify(m.embeds).includes(`alert #${alertId}`));
      return message !== undefined;
    });
    return { alertId, message: message! };
  }

  it('a server the bot was invited to cannot /ack, /retract, /mute, press buttons or see alerts: a short ephemeral refusal, nothing changed', async () => {
    const { alertId, message } = await delivered({ dedup_key: 'foreign-target' });
    // A public bot whose commands were registered globally, added to a stranger's server by its owner.
    const foreign = s.emulator.createGuild({ name: 'Stranger Server' });
    const registered = await registerCommands({ token: s.emulator.botToken, apiUrl: s.herald.config.discord.apiUrl, applicationId: s.emulator.applicationId });
    expect(registered.scope).toBe('global');
    const there = s.emulator.createChannel({ name: 'general', guildId: foreign.id });
    const owner = s.emulator.createMember({ username: 'stranger', permissions: 'Administrator', guildId: foreign.id });
    await waitFor('the bot to see the other server', () => s.bot.client.guilds.cache.has(foreign.id));

    const refusal = { type: 4, ephemeral: true, content: 'Herald does not act for this server.' };
    expect(await run(owner.id, there.id, 'ack', opt('alert', T.STRING, String(alertId)))).toMatchObject(refusal);
    expect(await run(owner.id, there.id, 'retract', opt('alert', T.STRING, String(alertId)), opt('mode', T.STRING, 'delete'))).toMatchObject(refusal);
    expect(await run(owner.id, there.id, 'mute', opt('duration', T.STRING, '1d'), opt('service', T.STRING, 'checkout'))).toMatchObject(refusal);
    expect(await s.emulator.autocomplete({ userId: owner.id, channelId: there.id, name: 'ack', options: [focused('alert', '')] })).toEqual([]);

    // Our card's buttons, copied through an app-owned webhook of theirs.
    const hook = s.emulator.createWebhook(there.id, { applicationOwned: true });
    const copy = await fetch(`${hook.url}?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'copy', components: message.components }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    expect(await s.emulator.pressButton({ userId: owner.id, channelId: there.id, messageId: copy.id, customId: `herald:ack:${alertId}` })).toMatchObject(refusal);

    const after = await detail(alertId);
    expect(after).toMatchObject({ acknowledged_by: null, retracted_at: null });
    expect((await mutes()).filter((m) => m.service === 'checkout')).toEqual([]);
    expect(s.logs.join('')).not.toContain(s.emulator.botToken);
  });

  it('a button acts only on the message it was pressed on: a look-alike card or a custom_id naming another alert is refused', async () => {
    const a = await delivered();
    const b = await delivered();
    const hook = s.emulator.createWebhook(ch.discordChannelId, { applicationOwned: true });
    const row = (alertId: number) => [{ type: 1, components: [{ type: 2, style: 1, label: 'Acknowledge', custom_id: `herald:ack:${alertId}` }] }];

    // A look-alike posted through a leaked app-owned webhook URL, in our own channel.
    const fake = await fetch(`${hook.url}?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'totally alert #1', components: row(a.alertId) }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const onFake = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: fake.id, customId: `herald:ack:${a.alertId}` });
    expect(onFake).toMatchObject({ type: 4, ephemeral: true, content: `This button is not on a message Herald sent for alert #${a.alertId}; nothing was changed.` });

    // A's real message carrying a button that names B (edited through the webhook that posted it).
    const poster = s.emulator.message(a.message.id)!.webhookId!;
    const posterToken = ch.webhookTokens[ch.webhookIds.indexOf(poster)]!;
    const edited = await fetch(`${s.emulator.url}/webhooks/${poster}/${posterToken}/messages/${a.message.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ components: row(b.alertId) }),
    });
    expect(edited.status).toBe(200);
    const crossed = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: a.message.id, customId: `herald:ack:${b.alertId}` });
    expect(crossed).toMatchObject({ type: 4, ephemeral: true, content: `This button is not on a message Herald sent for alert #${b.alertId}; nothing was changed.` });

    expect((await detail(a.alertId)).acknowledged_by).toBeNull();
    expect((await detail(b.alertId)).acknowledged_by).toBeNull();
    // B's own card still works.
    const own = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: b.message.id, customId: `herald:ack:${b.alertId}` });
    expect(own.type).toBe(7);
    expect((await detail(b.alertId)).acknowledged_by).not.toBeNull();
  });

  it('on-call may mute narrowly; every service, a route without a service filter, or a P0 needs admin', async () => {
    const needAdmin = (purpose: string) => ({ ephemeral: true, content: `You need the Manage Server permission ${purpose}.` });
    const before = (await mutes()).length;
    for (const glob of ['*', '**', '*?*']) {
      const r = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '1h'), opt('service', T.STRING, glob));
      expect(r, glob).toMatchObject(needAdmin('to mute every service'));
    }
    const catchAll = (await s.admin('GET', '/v1/admin/routes')).body.find((r: { channel_id: number; service: string | null }) => r.channel_id === ch.id && r.service === null);
    const routeMute = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '1h'), opt('route', T.INTEGER, catchAll.id));
    expect(routeMute).toMatchObject(needAdmin('to mute a route without a service filter (that silences every service)'));

    const page = await delivered({ severity: 'P0', dedup_key: 'db-down' });
    const byCommand = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '1h'), opt('alert', T.STRING, String(page.alertId)));
    expect(byCommand).toMatchObject(needAdmin('to mute a P0 alert'));
    const byButton = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: page.message.id, customId: `herald:mute:${page.alertId}` });
    expect(byButton).toMatchObject({ type: 4, ...needAdmin('to mute a P0 alert') });
    expect((await mutes()).length).toBe(before);

    const narrow = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '1h'), opt('service', T.STRING, 'batch-*'));
    expect(narrow.content).toMatch(/^Muted: #\d+ service batch-\*/);
    const admin = await run(s.admin_.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '30m'), opt('service', T.STRING, '*'), opt('reason', T.STRING, 'maintenance'));
    expect(admin.content).toMatch(/^Muted: #\d+ service \*/);
    expect((await mutes()).length).toBe(before + 2);
    // The rest of the file needs its alerts delivered.
    const all = Number(/#(\d+)/.exec(admin.content)![1]);
    expect((await run(s.admin_.id, ch.discordChannelId, 'unmute', opt('mute', T.INTEGER, all))).content).toMatch(/ended/);
  });

  it('autocomplete checks permission first (no choices on refusal) and lists only alerts of channels in this server', async () => {
    const ours = await delivered({ title: 'Ours to see', service: 'suggest-me' });
    // A Herald channel fed by a webhook pasted from another server: its alerts are none of this server's business.
    const elsewhere = s.emulator.createGuild({ name: 'Partner Server' });
    const theirs = s.emulator.createChannel({ name: 'partner-alerts', guildId: elsewhere.id });
    const created = await s.admin('POST', '/v1/admin/channels', { name: 'partner', discord_channel_id: theirs.id });
    await s.admin('POST', `/v1/admin/channels/${created.body.id}/webhooks`, { url: s.emulator.createWebhook(theirs.id).url });
    await s.admin('POST', '/v1/admin/routes', { channel_id: created.body.id, service: 'partner-only' });
    // Our channel's catch-all route would take the partner alert too (and then it would be ours to see).
    const routes = (await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number; service: string | null }[];
    const catchAll = routes.find((r) => r.channel_id === ch.id && r.service === null)!;
    await s.admin('DELETE', `/v1/admin/routes/${catchAll.id}`);
    await s.admin('POST', '/v1/admin/routes', { channel_id: ch.id, service: 'suggest-*' });
    const partner = (await s.post(token, alert(5, { title: 'Partner secret', service: 'partner-only' }))).body.ids[0] as number;
    await waitFor('the partner alert delivered', () => s.emulator.messages(theirs.id).some((m) => JSON.stringify(m.embeds).includes(`alert #${partner}`)));

    const typed = (userId: string, text: string) => s.emulator.autocomplete({ userId, channelId: ch.discordChannelId, name: 'ack', options: [focused('alert', text)] });
    expect(await typed(s.member.id, '')).toEqual([]);
    const mine = await typed(s.oncall.id, '');
    expect(mine.map((c) => c.value)).toContain(String(ours.alertId));
    expect(mine.map((c) => c.value)).not.toContain(String(partner));
    expect(await typed(s.oncall.id, 'Partner secret')).toEqual([]);
  });

  it("autocomplete choice names show sender text cleaned (no bidi or control characters) and cut to Discord's 100", async () => {
    // A right-to-left override would make this read as another alert; the emoji make a careless cut split a pair.
    const title = `\u202Etxet desrever\u0007 ${'🔥'.repeat(80)}`;
    const long = await delivered({ service: 'suggest-autocomplete', title, dedup_key: 'k\u2066ey' });
    const choices = await s.emulator.autocomplete({ userId: s.oncall.id, channelId: ch.discordChannelId, name: 'ack', options: [focused('alert', String(long.alertId))] });
    const mine = choices.find((c) => c.value === String(long.alertId))!;
    expect(mine.name).toMatch(new RegExp(`^#${long.alertId} P\\d suggest-autocomplete: txet desrever (?:🔥)+…$`, 'u'));
    expect(mine.name.length).toBeLessThanOrEqual(100);
    expect(mine.name).not.toMatch(/[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/);
    expect(wellFormed(mine.name)).toBe(mine.name);
    // A service too long to be a choice's value is left out rather than failing every suggestion.
    await delivered({ service: `suggest-${'x'.repeat(120)}`, title: 'long service' });
    const services = await s.emulator.autocomplete({ userId: s.oncall.id, channelId: ch.discordChannelId, name: 'mute', options: [opt('duration', T.STRING, '1h'), focused('service', 'suggest-')] });
    expect(services.map((c) => c.value)).toContain('suggest-autocomplete');
    expect(services.every((c) => String(c.value).length <= 100)).toBe(true);
  });

  it('a bot token without DISCORD_GUILD_ID is a configuration error: exit 2, one line', async () => {
    const r = loadConfig({ DISCORD_TOKEN: 'bot-token', HERALD_ADMIN_TOKEN: 'k3y-Adm1n-t0ken-xyz' });
    expect(r).toMatchObject({ ok: false, problems: [expect.stringMatching(/^DISCORD_GUILD_ID is required with DISCORD_TOKEN/)] });
    const p = await spawnHerald({ DISCORD_TOKEN: 'bot-token', HERALD_ADMIN_TOKEN: 'k3y-Adm1n-t0ken-xyz', HERALD_DB: `${s.dir}/never.db` }, { expectExit: true });
    expect(await p.exited).toBe(2);
    const lines = p.output().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^herald: config: DISCORD_GUILD_ID is required with DISCORD_TOKEN: the id of the one server Herald's bot acts for/)]);
    expect(p.output()).not.toContain('bot-token');
  });
});
