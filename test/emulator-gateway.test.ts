import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type Interaction,
  type TextChannel,
} from 'discord.js';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../src/emulator/index.js';

/**
 * The emulator's bot half against a REAL discord.js v14 client: login over the gateway, slash commands and
 * buttons acted out by a person, the bot's answers read back. One client for the file; each test installs
 * the bot's behaviour in `bot.handle`.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: Emulator;
let client: Client;
let channelId: string;
let oncall: { id: string };
let alice: { id: string };
let bob: { id: string };
const bot: { handle: (i: Interaction) => Promise<void> } = { handle: async () => {} };
const handlerErrors: unknown[] = [];

const pingDef = new SlashCommandBuilder()
  .setName('ping')
  .setDescription('Answers pong')
  .addStringOption((o) => o.setName('text').setDescription('what to echo').setRequired(true))
  .addIntegerOption((o) => o.setName('times').setDescription('how often').setAutocomplete(true));
const adminDef = new SlashCommandBuilder().setName('admin').setDescription('Admins only').setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild);

async function startClient(e: Emulator): Promise<Client> {
  const c = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: e.url } });
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(e.botToken);
  await ready;
  return c;
}

beforeAll(async () => {
  emu = await startEmulator({ heartbeatIntervalMs: 300, webhookBucket: { limit: 1000, windowMs: 1000 }, channelCap: { limit: 1000, windowMs: 1000 } });
  channelId = emu.createChannel({ name: 'alerts' }).id;
  oncall = emu.createRole({ name: 'oncall', permissions: ['ManageGuild'] });
  alice = emu.createMember({ username: 'alice', roles: [oncall.id] });
  bob = emu.createMember({ username: 'bob' });
  client = await startClient(emu);
  client.on(Events.InteractionCreate, (i) => {
    bot.handle(i).catch((err: unknown) => handlerErrors.push(err));
  });
  await client.application!.commands.set([pingDef.toJSON(), adminDef.toJSON()], emu.guildId);
});

afterAll(async () => {
  await client?.destroy();
  await emu?.close();
});

describe('gateway', () => {
  it('a discord.js client logs in, gets READY and the guild with its channels, roles and members', () => {
    expect(client.isReady()).toBe(true);
    expect(client.user!.id).toBe(emu.applicationId);
    expect(client.application!.id).toBe(emu.applicationId);
    const guild = client.guilds.cache.get(emu.guildId)!;
    expect(guild.available).toBe(true);
    expect(guild.channels.cache.get(channelId)?.name).toBe('alerts');
    expect(guild.roles.everyone.id).toBe(emu.guildId);
    expect(guild.roles.cache.get(oncall.id)?.permissions.has('ManageGuild')).toBe(true);
    expect(guild.members.cache.has(emu.applicationId)).toBe(true);
    expect(emu.gatewayStats()).toMatchObject({ connections: 1, identifies: 1, sessions: 1 });
  });

  it('announces a channel created later (CHANNEL_CREATE)', async () => {
    const c = emu.createChannel({ name: 'late' });
    await vi.waitFor(() => expect((client.channels.cache.get(c.id) as TextChannel | undefined)?.name).toBe('late'));
  });

  it('HELLO, heartbeat ACK, and a bad token closed with 4004 (raw WebSocket)', async () => {
    const ws = new WebSocket(`${emu.gatewayUrl}?v=10&encoding=json`);
    const got: any[] = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data) => {
      const p = JSON.parse(data.toString());
      got.push(p);
      if (p.op === 10) ws.send(JSON.stringify({ op: 1, d: null }));
      if (p.op === 11) ws.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 1, properties: {} } }));
    });
    expect(await closed).toBe(4004);
    expect(got[0]).toMatchObject({ op: 10, d: { heartbeat_interval: 300 } });
    expect(got[1]).toMatchObject({ op: 11 });
  });

  it('discord.js refuses to log in with a wrong token (401 from GET /gateway/bot)', async () => {
    const c = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: emu.url } });
    await expect(c.login('emu.not-the-token')).rejects.toThrow(/401|Unauthorized|TokenInvalid|invalid/i);
    await c.destroy();
  });

  it('RESUME with an unknown session gets op 9; with a known one replays what was missed, then RESUMED', async () => {
    const frames = (ws: WebSocket) => {
      const list: any[] = [];
      ws.on('message', (d) => list.push(JSON.parse(d.toString())));
      return list;
    };
    const open = async () => {
      const ws = new WebSocket(`${emu.gatewayUrl}?v=10&encoding=json`);
      const list = frames(ws);
      await vi.waitFor(() => expect(list[0]?.op).toBe(10));
      return { ws, list };
    };
    const a = await open();
    a.ws.send(JSON.stringify({ op: 6, d: { token: emu.botToken, session_id: 'nope', seq: 1 } }));
    await vi.waitFor(() => expect(a.list.at(-1)).toMatchObject({ op: 9, d: false }));

    a.ws.send(JSON.stringify({ op: 2, d: { token: emu.botToken, intents: 1, properties: {} } }));
    await vi.waitFor(() => expect(a.list.find((f) => f.t === 'GUILD_CREATE')).toBeDefined());
    const ready = a.list.find((f) => f.t === 'READY');
    expect(ready.d).toMatchObject({ user: { id: emu.applicationId, bot: true }, application: { id: emu.applicationId }, guilds: [{ id: emu.guildId, unavailable: true }] });
    expect(ready.d.resume_gateway_url).toBe(emu.gatewayUrl);
    const guildCreate = a.list.find((f) => f.t === 'GUILD_CREATE');
    expect(guildCreate.d.unavailable).toBe(false);
    expect(guildCreate.d.channels.map((c: any) => c.id)).toContain(channelId);
    const lastSeq = guildCreate.s;

    // Drop (both this raw session and the discord.js one), create a channel while disconnected, resume.
    a.ws.terminate();
    await vi.waitFor(() => expect(emu.gatewayStats().connections).toBe(1));
    const missed = emu.createChannel({ name: 'missed' });
    const b = await open();
    b.ws.send(JSON.stringify({ op: 6, d: { token: emu.botToken, session_id: ready.d.session_id, seq: lastSeq } }));
    await vi.waitFor(() => expect(b.list.at(-1)?.t).toBe('RESUMED'));
    const replayed = b.list.filter((f) => f.op === 0);
    expect(replayed[0]).toMatchObject({ t: 'CHANNEL_CREATE', s: lastSeq + 1, d: { id: missed.id } });
    expect(replayed.at(-1).s).toBe(lastSeq + 2);
    b.ws.close(1000);
    await vi.waitFor(() => expect(emu.gatewayStats().connections).toBe(1));
  });
});

describe('slash commands', () => {
  it('registration through client.application.commands.set shows in emulator.commands()', () => {
    const cmds = emu.commands({ guildId: emu.guildId });
    expect(cmds.map((c) => c.name).sort()).toEqual(['admin', 'ping']);
    const ping = cmds.find((c) => c.name === 'ping')!;
    expect(ping).toMatchObject({ description: 'Answers pong', guildId: emu.guildId, defaultMemberPermissions: null });
    expect(ping.options).toHaveLength(2);
    expect(cmds.find((c) => c.name === 'admin')!.defaultMemberPermissions).toBe(String(PermissionFlagsBits.ManageGuild));
    expect(emu.commands()).toEqual([]); // none global
  });

  it('a bulk overwrite keeps the id of a command that keeps its name, and refuses bad definitions whole', async () => {
    const before = emu.commands({ guildId: emu.guildId }).find((c) => c.name === 'ping')!.id;
    await client.application!.commands.set([pingDef.toJSON(), adminDef.toJSON()], emu.guildId);
    expect(emu.commands({ guildId: emu.guildId }).find((c) => c.name === 'ping')!.id).toBe(before);
    await expect(client.application!.commands.set([{ name: 'Bad Name', description: 'x' }], emu.guildId)).rejects.toThrow(/Invalid Form Body/);
    expect(emu.commands({ guildId: emu.guildId })).toHaveLength(2);
  });

  it('a member runs /ping: the bot sees the options, the member, its roles and permissions; reply() comes back', async () => {
    let seen: Record<string, unknown> = {};
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      seen = {
        name: i.commandName,
        text: i.options.getString('text'),
        times: i.options.getInteger('times'),
        user: i.user.id,
        username: i.user.username,
        roles: i.member && 'cache' in i.member.roles ? [...i.member.roles.cache.keys()] : undefined,
        manageGuild: i.memberPermissions?.has('ManageGuild'),
        channel: i.channelId,
        guild: i.guildId,
      };
      await i.reply({ content: `pong ${i.options.getString('text')}` });
    };
    const result = await emu.runCommand({
      userId: alice.id,
      channelId,
      name: 'ping',
      options: [
        { name: 'text', type: 3, value: 'hello' },
        { name: 'times', type: 4, value: 2 },
      ],
    });
    expect(seen).toMatchObject({ name: 'ping', text: 'hello', times: 2, user: alice.id, username: 'alice', manageGuild: true, channel: channelId, guild: emu.guildId });
    expect(seen.roles).toContain(oncall.id);
    expect(result).toMatchObject({ type: 4, content: 'pong hello', ephemeral: false, followups: [] });
    // A non-ephemeral reply is a message in the channel, authored by the bot.
    const stored = emu.message(result.messageId!)!;
    expect(stored).toMatchObject({ kind: 'interaction', channelId, content: 'pong hello', deleted: false });
    expect(emu.messages(channelId).map((m) => m.id)).toContain(stored.id);
  });

  it('a member without the role lacks the permission, and cannot run a command needing it', async () => {
    let manageGuild: boolean | undefined;
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      manageGuild = i.memberPermissions?.has('ManageGuild');
      await i.reply('ok');
    };
    await emu.runCommand({ userId: bob.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] });
    expect(manageGuild).toBe(false);
    await expect(emu.runCommand({ userId: bob.id, channelId, name: 'admin' })).rejects.toThrow(/may not use \/admin/);
    await expect(emu.runCommand({ userId: alice.id, channelId, name: 'admin' })).resolves.toMatchObject({ content: 'ok' });
  });

  it('rejects what a person could not type: unknown command, unknown option, missing required option', async () => {
    await expect(emu.runCommand({ userId: alice.id, channelId, name: 'nope' })).rejects.toThrow(/no command \/nope is registered/);
    await expect(emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'txt', type: 3, value: 'x' }] })).rejects.toThrow(/no option "txt"/);
    await expect(emu.runCommand({ userId: alice.id, channelId, name: 'ping' })).rejects.toThrow(/required option "text"/);
    await expect(emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text' }] })).rejects.toThrow(/invalid options: 0\.type/);
    await expect(emu.runCommand({ userId: alice.id, channelId: '1', name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] })).rejects.toThrow(/unknown channel/);
  });

  it('deferReply + editReply: resolves at the first edit, with the edited content', async () => {
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await sleep(200);
      await i.editReply({ content: 'done after thinking', embeds: [{ title: 'result' }] });
    };
    const result = await emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] });
    expect(result).toMatchObject({ type: 5, content: 'done after thinking', embeds: [{ title: 'result' }], ephemeral: false });
    expect(emu.message(result.messageId!)!.flags & 128).toBe(0); // no longer "thinking"
  });

  it('ephemeral replies and follow-ups: flagged, not in the channel, follow-ups collected in the live result', async () => {
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.reply({ content: 'only you', flags: MessageFlags.Ephemeral });
      await i.followUp({ content: 'also for all' });
      await i.followUp({ content: 'secret too', flags: MessageFlags.Ephemeral });
    };
    const before = emu.messages(channelId).length;
    const result = await emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] });
    expect(result).toMatchObject({ type: 4, content: 'only you', ephemeral: true });
    await vi.waitFor(() => expect(result.followups).toHaveLength(2));
    expect(result.followups).toMatchObject([
      { content: 'also for all', ephemeral: false },
      { content: 'secret too', ephemeral: true },
    ]);
    // Only the public follow-up is a channel message.
    expect(emu.messages(channelId).slice(before).map((m) => m.content)).toEqual(['also for all']);
  });

  it('a deferred ephemeral reply answered with followUp fills the thinking message', async () => {
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply({ flags: MessageFlags.Ephemeral });
      await i.followUp({ content: 'here you go' });
    };
    const result = await emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] });
    expect(result).toMatchObject({ type: 5, content: 'here you go', ephemeral: true, followups: [] });
  });

  it('autocomplete: the focused option reaches the bot and its choices come back', async () => {
    bot.handle = async (i) => {
      if (!i.isAutocomplete()) return;
      const focused = i.options.getFocused(true);
      await i.respond([1, 2, 3].map((n) => ({ name: `${focused.name}=${focused.value}${n}`, value: n })));
    };
    const choices = await emu.autocomplete({
      userId: alice.id,
      channelId,
      name: 'ping',
      options: [
        { name: 'text', type: 3, value: 'a' },
        { name: 'times', type: 4, value: '1', focused: true },
      ],
    });
    expect(choices).toEqual([
      { name: 'times=11', value: 1 },
      { name: 'times=12', value: 2 },
      { name: 'times=13', value: 3 },
    ]);
  });

  it('a second answer to the same interaction gets 40060', async () => {
    let second: unknown;
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.reply('first');
      // Bypass discord.js's own guard: post a second callback as a buggy bot would.
      second = await client.rest.post(`/interactions/${i.id}/${i.token}/callback`, { body: { type: 4, data: { content: 'again' } }, auth: false }).catch((e: unknown) => e);
    };
    await emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] });
    await vi.waitFor(() => expect(second).toBeDefined());
    expect(second).toMatchObject({ code: 40060, status: 400 });
  });
});

describe('buttons', () => {
  const row = (label = 'Ack') =>
    new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId('herald:ack:1').setLabel(label).setStyle(ButtonStyle.Primary)).toJSON();

  /** An alert card posted through an application-owned webhook, as Herald posts them. */
  async function postCard(): Promise<string> {
    const hook = emu.createWebhook(channelId, { name: 'Herald', applicationOwned: true });
    const res = await fetch(`${hook.url}?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: 'disk full', components: [row()] }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { id: string }).id;
  }

  it('interaction.update() edits the message the button was on (type 7)', async () => {
    const messageId = await postCard();
    let seen: Record<string, unknown> = {};
    bot.handle = async (i) => {
      if (!i.isButton()) return;
      seen = { customId: i.customId, messageId: i.message.id, content: i.message.content, user: i.user.id };
      await i.update({ content: 'disk full (acknowledged by alice)', components: [] });
    };
    const result = await emu.pressButton({ userId: alice.id, channelId, messageId, customId: 'herald:ack:1' });
    expect(seen).toEqual({ customId: 'herald:ack:1', messageId, content: 'disk full', user: alice.id });
    expect(result).toMatchObject({ type: 7, content: 'disk full (acknowledged by alice)', components: [], messageId });
    const stored = emu.messages(channelId).find((m) => m.id === messageId)!;
    expect(stored).toMatchObject({ content: 'disk full (acknowledged by alice)', components: [], kind: 'webhook' });
    expect(stored.editedAt).toBeDefined();
    // The button is gone: pressing it again is not possible.
    await expect(emu.pressButton({ userId: alice.id, channelId, messageId, customId: 'herald:ack:1' })).rejects.toThrow(/no button/);
  });

  it('deferUpdate + editReply also edits it (type 6), and resolves at the edit', async () => {
    const messageId = await postCard();
    bot.handle = async (i) => {
      if (!i.isButton()) return;
      await i.deferUpdate();
      await sleep(100);
      await i.editReply({ content: 'resolved', components: [row('Done')] });
    };
    const result = await emu.pressButton({ userId: alice.id, channelId, messageId, customId: 'herald:ack:1' });
    expect(result).toMatchObject({ type: 6, content: 'resolved', messageId });
    expect(emu.message(messageId)).toMatchObject({ content: 'resolved' });
    expect(JSON.stringify(emu.message(messageId)!.components)).toContain('Done');
  });

  it('a button on a pasted (non-application) webhook message reaches no bot', async () => {
    const hook = emu.createWebhook(channelId, { name: 'Pasted' });
    const res = await fetch(`${hook.url}?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: 'x', components: [row()] }) });
    const { id } = (await res.json()) as { id: string };
    expect(emu.message(id)!.components).toEqual([]);
    await expect(emu.pressButton({ userId: alice.id, channelId, messageId: id, customId: 'herald:ack:1' })).rejects.toThrow(/does not own/);
  });
});

describe('bot REST', () => {
  it('channel.createWebhook() makes an application-owned webhook that keeps components', async () => {
    const channel = (await client.channels.fetch(channelId)) as TextChannel;
    const hook = await channel.createWebhook({ name: 'Herald alerts' });
    expect(hook.applicationId).toBe(emu.applicationId);
    expect(hook.token).toHaveLength(68);
    const stored = (await channel.fetchWebhooks()).get(hook.id);
    expect(stored?.name).toBe('Herald alerts');
    const res = await fetch(`${emu.url}/webhooks/${hook.id}/${hook.token}?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'with buttons', components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: 'herald:ack:9', label: 'Ack' }] }] }),
    });
    const body = (await res.json()) as { id: string; application_id?: string };
    expect(body.application_id).toBe(emu.applicationId);
    expect(emu.message(body.id)!.components).toHaveLength(1);
    await hook.delete();
    expect((await channel.fetchWebhooks()).has(hook.id)).toBe(false);
  });

  it('a 16th webhook in a channel is refused with 30007', async () => {
    const ch = emu.createChannel({ name: 'full' }).id;
    for (let n = 0; n < 15; n++) emu.createWebhook(ch, { name: `hook ${n}` });
    const res = await fetch(`${emu.url}/v10/channels/${ch}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bot ${emu.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'one too many' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(30007);
  });

  it('bot messages: post, edit own, delete any; GET /users/@me; 401 without the token', async () => {
    const channel = (await client.channels.fetch(channelId)) as TextChannel;
    const sent = await channel.send('from the bot');
    expect(emu.message(sent.id)).toMatchObject({ kind: 'bot', content: 'from the bot' });
    await sent.edit('edited by the bot');
    expect(emu.message(sent.id)!.content).toBe('edited by the bot');
    await sent.delete();
    expect(emu.message(sent.id)!.deleted).toBe(true);

    const me = await fetch(`${emu.url}/v10/users/@me`, { headers: { authorization: `Bot ${emu.botToken}` } });
    expect(((await me.json()) as { id: string }).id).toBe(emu.applicationId);
    const anon = await fetch(`${emu.url}/v10/users/@me`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ message: '401: Unauthorized', code: 0 });
  });

  it('the control API acts as a person too', async () => {
    bot.handle = async (i) => {
      if (i.isChatInputCommand()) await i.reply(`via control: ${i.options.getString('text')}`);
    };
    const base = emu.url.replace(/\/api$/, '/_emulator');
    const res = await fetch(`${base}/interactions/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: alice.id, channel_id: channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { content: string; interactionId: string };
    expect(result.content).toBe('via control: hi');
    const later = await fetch(`${base}/interactions/${result.interactionId}`);
    expect(((await later.json()) as { type: number }).type).toBe(4);
    const bad = await fetch(`${base}/interactions/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: alice.id, channel_id: channelId, name: 'nope' }) });
    expect(bad.status).toBe(404);
    expect(((await bad.json()) as { error: string }).error).toMatch(/no command \/nope/);

    const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const role = (await (await post('/roles', { name: 'sre', permissions: 'ManageWebhooks,ManageGuild' })).json()) as { id: string; permissions: string };
    expect(BigInt(role.permissions)).toBe(PermissionFlagsBits.ManageWebhooks | PermissionFlagsBits.ManageGuild);
    const member = (await (await post('/members', { username: 'carol', roles: [role.id] })).json()) as { id: string; roles: string[] };
    expect(member.roles).toEqual([role.id]);
    expect((await post('/roles', { name: 'x', permissions: 'ManageEverything' })).status).toBe(400);
    const commands = (await (await fetch(`${base}/commands?guild_id=${emu.guildId}`)).json()) as { name: string }[];
    expect(commands.map((c) => c.name).sort()).toEqual(['admin', 'ping']);
    expect(await (await fetch(`${base}/gateway`)).json()).toMatchObject({ connections: 1, sessions: 1 });
    expect(((await (await fetch(`${base}/messages/${result.interactionId}`)).json()) as { error: string }).error).toMatch(/unknown message/);
  });
});

describe('people and servers through the control API: role grants, command permissions, another guild', () => {
  it('gives a member a role, opens an admin-only command to a role, and sends interactions from a second guild with its id', async () => {
    const base = emu.url.replace(/\/api$/, '/_emulator');
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    // A fixed role id (what HERALD_ONCALL_ROLE_IDS names), given to a member afterwards.
    const fixed = '123456789012345678';
    expect((await call('POST', '/roles', { name: 'on-call', id: fixed })).status).toBe(201);
    expect((await call('POST', '/roles', { name: 'again', id: fixed })).status).toBe(409);
    const dave = (await (await call('POST', '/members', { username: 'dave' })).json()) as { id: string };
    const granted = await call('PUT', `/members/${dave.id}/roles/${fixed}`);
    expect(await granted.json()).toMatchObject({ id: dave.id, roles: [fixed] });
    expect((await call('PUT', `/members/${dave.id}/roles/999999999999999999`)).status).toBe(404);

    // /admin needs Manage Server (default_member_permissions) until a server admin opens it to the role.
    let seen: { guildId: string | null; roles: string[] } | undefined;
    bot.handle = async (i) => {
      if (!i.isChatInputCommand()) return;
      seen = { guildId: i.guildId, roles: i.member && 'cache' in i.member.roles ? [...i.member.roles.cache.keys()] : ((i.member?.roles as string[]) ?? []) };
      await i.reply({ content: 'ok' });
    };
    await expect(emu.runCommand({ userId: dave.id, channelId, name: 'admin' })).rejects.toThrow(/may not use \/admin/);
    expect((await call('PUT', '/commands/admin/permissions', { permissions: [{ id: fixed, type: 1, permission: true }] })).status).toBe(204);
    await expect(emu.runCommand({ userId: dave.id, channelId, name: 'admin' })).resolves.toMatchObject({ content: 'ok' });
    expect(seen?.guildId).toBe(emu.guildId);
    expect(seen?.roles).toContain(fixed);
    // A user override denies even a role that is allowed.
    emu.setCommandPermissions({ name: 'admin', permissions: [{ id: fixed, type: 1, permission: true }, { id: dave.id, type: 2, permission: false }] });
    await expect(emu.runCommand({ userId: dave.id, channelId, name: 'admin' })).rejects.toThrow(/command permissions deny it/);
    emu.setCommandPermissions({ name: 'admin', permissions: [] });

    // Another server: GUILD_CREATE reaches the bot; its interactions carry its own guild id and member.
    const other = (await (await call('POST', '/guilds', { name: 'Elsewhere' })).json()) as { id: string; name: string };
    expect(other.name).toBe('Elsewhere');
    await vi.waitFor(() => expect(client.guilds.cache.get(other.id)?.name).toBe('Elsewhere'), { timeout: 5000 });
    const room = (await (await call('POST', '/channels', { name: 'lobby', guild_id: other.id })).json()) as { id: string; guildId: string };
    expect(room.guildId).toBe(other.id);
    const eve = (await (await call('POST', '/members', { username: 'eve', guild_id: other.id })).json()) as { id: string };
    // Guild commands are registered for the home guild only: in the other one, only global ones exist.
    await expect(emu.runCommand({ userId: eve.id, channelId: room.id, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] })).rejects.toThrow(/no command \/ping is registered for guild/);
    await client.application!.commands.set([pingDef.toJSON()]);
    await expect(emu.runCommand({ userId: eve.id, channelId: room.id, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] })).resolves.toMatchObject({ content: 'ok' });
    expect(seen?.guildId).toBe(other.id);
    // A home member is no member there.
    await expect(emu.runCommand({ userId: alice.id, channelId: room.id, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] })).rejects.toThrow(/unknown member/);
    await client.application!.commands.set([]);
  });
});

describe('a dropped gateway', () => {
  for (const how of [{ code: 4000 }, { abrupt: true }, { reconnect: true }] as const) {
    it(`is resumed by discord.js (${JSON.stringify(how)}) and later interactions still arrive`, async () => {
      const before = emu.gatewayStats();
      emu.dropGateway(how);
      await vi.waitFor(() => expect(emu.gatewayStats()).toMatchObject({ resumes: before.resumes + 1, connections: 1 }), { timeout: 10_000 });
      expect(emu.gatewayStats().identifies).toBe(before.identifies); // resumed, not re-identified
      bot.handle = async (i) => {
        if (i.isChatInputCommand()) await i.reply('still here');
      };
      await expect(emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] })).resolves.toMatchObject({ content: 'still here' });
    });
  }

  it('an interaction dispatched while disconnected is replayed on resume', async () => {
    bot.handle = async (i) => {
      if (i.isChatInputCommand()) await i.reply('replayed');
    };
    emu.dropGateway();
    const result = emu.runCommand({ userId: alice.id, channelId, name: 'ping', options: [{ name: 'text', type: 3, value: 'x' }] });
    await expect(result).resolves.toMatchObject({ content: 'replayed' });
  });
});

describe('deadlines and limits (a second emulator with short windows)', () => {
  let e: Emulator;
  let c: Client | undefined;
  beforeAll(async () => {
    // Deadlines shorter than Discord's (3 s, 10 s) keep the test fast, with room for a loaded machine.
    e = await startEmulator({ heartbeatIntervalMs: 300, interactionDeadlineMs: 1000, deferredEditWaitMs: 1500, botGlobalLimit: { limit: 5, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await c?.destroy();
    await e.close();
  });

  it('runCommand rejects at once when no bot is connected', async () => {
    const ch = e.createChannel().id;
    const m = e.createMember();
    // The command is registered (over REST, no gateway): only the missing bot stands in the way.
    const put = await fetch(`${e.url}/v10/applications/${e.applicationId}/guilds/${e.guildId}/commands`, {
      method: 'PUT',
      headers: { authorization: `Bot ${e.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ name: 'x', description: 'x' }]),
    });
    expect(put.status).toBe(200);
    const started = Date.now();
    await expect(e.runCommand({ userId: m.id, channelId: ch, name: 'x' })).rejects.toThrow(/no bot is connected/);
    expect(Date.now() - started).toBeLessThan(500); // not after the 1 s deadline
  });

  it('a late answer is refused with 10062 and the promise rejects; a deferral never edited rejects too', async () => {
    const ch = e.createChannel().id;
    const m = e.createMember();
    c = await startClient(e);
    await c.application!.commands.set([{ name: 'slow', description: 'answers late' }], e.guildId);
    // Bot requests so far: the PUT above, GET /gateway/bot at login and this PUT: 3 of the 5 the global limit allows.
    let late: unknown;
    let mode: 'late' | 'defer' = 'late';
    // A test's handler: a failure in it shows as the test's own failure (an unhandled rejection vitest reports).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    c.on(Events.InteractionCreate, async (i) => {
      if (!i.isChatInputCommand()) return;
      if (mode === 'late') {
        await sleep(1300);
        late = await i.reply('too late').catch((err: unknown) => err);
      } else await i.deferReply();
    });
    await expect(e.runCommand({ userId: m.id, channelId: ch, name: 'slow' })).rejects.toThrow(/did not answer \/slow within 1000 ms/);
    await vi.waitFor(() => expect(late).toBeDefined());
    expect(late).toMatchObject({ code: 10062, status: 404 });
    mode = 'defer';
    await expect(e.runCommand({ userId: m.id, channelId: ch, name: 'slow' })).rejects.toThrow(/deferred \/slow .* showed nothing within 1500 ms/);
  });

  it('a close with 4004 stops discord.js for good: no reconnect, no resume', async () => {
    const before = e.gatewayStats();
    e.dropGateway({ code: 4004 });
    await vi.waitFor(() => expect(e.gatewayStats().connections).toBe(0));
    await sleep(1000); // discord.js would reconnect after 500 ms if it were going to
    expect(e.gatewayStats()).toMatchObject({ connections: 0, identifies: before.identifies, resumes: before.resumes });
  });

  it('the bot global limit answers 429 scope global', async () => {
    let last: Response | undefined;
    for (let n = 0; n < 6; n++) last = await fetch(`${e.url}/v10/users/@me`, { headers: { authorization: `Bot ${e.botToken}` } });
    expect(last!.status).toBe(429);
    expect(last!.headers.get('x-ratelimit-scope')).toBe('global');
    expect(last!.headers.get('x-ratelimit-global')).toBe('true');
    expect(((await last!.json()) as { global: boolean }).global).toBe(true);
  });
});

afterAll(() => {
  // A handler that threw would hide behind a timeout; make it visible.
  expect(handlerErrors).toEqual([]);
});
