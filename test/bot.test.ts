import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { commandBodies } from '../src/bot/register.js';
import { commandList } from '../src/bot/registry.js';
import { listDeadLetters } from '../src/services/dead-letters.js';
import { listRoutes } from '../src/services/routes.js';
import { focused, MANAGE_GUILD, opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { alert, deliveredAlertIds, FAST as SHARED_FAST, waitFor, type TestChannel } from './support/stack.js';

/** Shared fast limits; one attempt only, so a single injected 500 makes a dead letter. */
const FAST = { ...SHARED_FAST, env: { ...SHARED_FAST.env, HERALD_MAX_ATTEMPTS: '1' } };

describe('the bot: slash commands against the emulated gateway', () => {
  let s: BotStack;
  let token: string;
  /** A channel with a webhook and a catch-all route. */
  let ch: TestChannel;
  /** A channel set up in Herald (webhook) with no route. */
  let bare: { id: number; discordChannelId: string };

  beforeAll(async () => {
    s = await startBotStack(FAST);
    token = await s.source();
    ch = await s.channel({ webhooks: 1, applicationOwned: true });
    const emu = s.emulator.createChannel({ name: 'bare' });
    const created = await s.admin('POST', '/v1/admin/channels', { name: 'bare', discord_channel_id: emu.id });
    await s.admin('POST', `/v1/admin/channels/${created.body.id}/webhooks`, { url: s.emulator.createWebhook(emu.id).url });
    bare = { id: created.body.id, discordChannelId: emu.id };
  });
  afterAll(async () => s?.close());

  const run = (userId: string, channelId: string, name: string, ...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId, channelId, name, options });

  it('registers every command module in the guild, from the same modules the router runs', () => {
    const registered = s.emulator.commands({ guildId: s.emulator.guildId }).map((c) => c.name).sort();
    expect(registered).toEqual(commandBodies().map((c) => c.name).sort());
  });

  it('registers configuration commands with default_member_permissions (Manage Server), the others without', () => {
    const registered = s.emulator.commands({ guildId: s.emulator.guildId });
    for (const c of commandList()) {
      const perms = registered.find((r) => r.name === c.data.name)!.defaultMemberPermissions;
      expect(perms, `/${c.data.name}`).toBe(c.access === 'admin' ? MANAGE_GUILD : null);
    }
  });

  it('refuses configuration commands to a member without Manage Server, ephemerally, naming what is missing', async () => {
    // Discord hides them from such a member; a server admin who opens /route to everyone (Integrations) still gets the bot's refusal.
    await expect(run(s.member.id, ch.discordChannelId, 'route', sub('list'))).rejects.toThrow(/Discord does not show it/);
    s.emulator.setCommandPermissions({ name: 'route', permissions: [{ id: s.emulator.guildId, type: 1, permission: true }] });
    const r = await run(s.member.id, ch.discordChannelId, 'route', sub('list'));
    expect(r.type).toBe(4);
    expect(r.ephemeral).toBe(true);
    expect(r.content).toMatch(/You need the Manage Server permission to use \/route list/);

    // A configured admin role is enough.
    const role = s.emulator.createRole({ name: 'herald-admins' });
    s.herald.config.discord.adminRoleIds.push(role.id);
    const withRole = s.emulator.createMember({ username: 'ops', roles: [role.id] });
    const refused = await run(s.member.id, ch.discordChannelId, 'route', sub('list'));
    expect(refused.content).toContain(`<@&${role.id}>`);
    const ok = await run(withRole.id, ch.discordChannelId, 'route', sub('list'));
    expect(ok.content).toMatch(/#\d+ → /);
    s.herald.config.discord.adminRoleIds.length = 0;
    s.emulator.setCommandPermissions({ name: 'route', permissions: [] });
  });

  it('every configuration command refuses a plain member, ephemerally, naming Manage Server', async () => {
    const admin = commandList().filter((c) => c.access === 'admin');
    expect(admin.length).toBeGreaterThanOrEqual(5);
    // Set-up: a server admin opened every one of them to @everyone (Integrations); the bot still refuses.
    const everyone = (permission: boolean) => admin.forEach((c) => s.emulator.setCommandPermissions({ name: c.data.name, permissions: permission ? [{ id: s.emulator.guildId, type: 1, permission }] : [] }));
    everyone(true);
    onTestFinished(() => everyone(false));
    for (const c of admin) {
      const body = c.data.toJSON();
      type Def = { type: number; name: string; required?: boolean; options?: Def[] };
      const sample: Record<number, string | number | boolean> = { [T.STRING]: 'x', [T.INTEGER]: 1, [T.BOOLEAN]: true, [T.CHANNEL]: ch.discordChannelId };
      const fill = (defs: Def[] = []) => defs.filter((d) => d.required).map((d) => opt(d.name, d.type, sample[d.type]));
      const first = (body.options ?? [])[0] as Def | undefined;
      const options = first && first.type === T.SUB ? [sub(first.name, ...fill(first.options))] : fill(body.options as Def[]);
      const r = await s.emulator.runCommand({ userId: s.member.id, channelId: ch.discordChannelId, name: body.name, options });
      expect(r, `/${body.name}`).toMatchObject({ type: 4, ephemeral: true });
      expect(r.content, `/${body.name}`).toMatch(/^You need the Manage Server permission to use \//);
    }
  });

  it('/subscribe routes a service to this channel; bad input and unknown channels get specific ephemeral errors', async () => {
    const nowhere = s.emulator.createChannel({ name: 'not-in-herald' });
    const unknown = await run(s.admin_.id, nowhere.id, 'subscribe', opt('service', T.STRING, 'payments'));
    expect(unknown).toMatchObject({ ephemeral: true });
    expect(unknown.content).toMatch(/is not set up in Herald yet: run \/webhooks create/);

    const bad = await run(s.admin_.id, bare.discordChannelId, 'subscribe', opt('service', T.STRING, 'payments'), opt('severities', T.STRING, 'P0,P9'));
    expect(bad.ephemeral).toBe(true);
    expect(bad.content).toMatch(/severities: "P9" is not a severity; use P0, P1, P2 or P3/);

    const good = await run(s.admin_.id, bare.discordChannelId, 'subscribe', opt('service', T.STRING, 'payments-*'), opt('severities', T.STRING, 'p0 p1'));
    expect(good.ephemeral).toBe(false);
    expect(good.content).toMatch(/Alerts from \*\*payments-\*\*\* \(P0, P1\) now come to/);
    const r = (await listRoutes(s.herald)).find((x) => x.channel_id === bare.id)!;
    expect(r).toMatchObject({ service: 'payments-*', severities: ['P0', 'P1'] });

    const res = await s.post(token, alert(1, { service: 'payments-api', severity: 'P1' }));
    await waitFor('the subscribed alert in the channel', () => deliveredAlertIds(s.emulator, bare.discordChannelId).includes(res.body.ids[0]));
  });

  it('/unsubscribe removes this channel\'s routes for a service, and says so when there is none', async () => {
    const ok = await run(s.admin_.id, bare.discordChannelId, 'unsubscribe', opt('service', T.STRING, 'payments-*'));
    expect(ok.content).toMatch(/Removed 1 route to/);
    expect((await listRoutes(s.herald)).filter((x) => x.channel_id === bare.id)).toHaveLength(0);
    const again = await run(s.admin_.id, bare.discordChannelId, 'unsubscribe', opt('service', T.STRING, 'payments-*'));
    expect(again).toMatchObject({ ephemeral: true });
    expect(again.content).toMatch(/No route sends \*\*payments-\*\*\* to this channel/);
  });

  it('/route add|list|remove with the full matching', async () => {
    const add = await run(
      s.admin_.id,
      ch.discordChannelId,
      'route',
      sub('add', opt('channel', T.CHANNEL, bare.discordChannelId), opt('service', T.STRING, 'db'), opt('environment', T.STRING, 'prod'), opt('labels', T.STRING, 'team=core,region=eu')),
    );
    const id = Number(/route added: #(\d+)/i.exec(add.content)?.[1]);
    expect(id).toBeGreaterThan(0);
    expect((await listRoutes(s.herald)).find((r) => r.id === id)).toMatchObject({ environment: 'prod', labels: { team: 'core', region: 'eu' } });

    const badLabels = await run(s.admin_.id, ch.discordChannelId, 'route', sub('add', opt('channel', T.CHANNEL, bare.discordChannelId), opt('labels', T.STRING, 'team')));
    expect(badLabels.content).toMatch(/labels: "team" is not key=value/);

    const list = await run(s.admin_.id, ch.discordChannelId, 'route', sub('list'));
    expect(list.ephemeral).toBe(true);
    expect(list.content).toContain(`#${id} → <#${bare.discordChannelId}>: service db, env prod, team=core,region=eu`);

    const rm = await run(s.admin_.id, ch.discordChannelId, 'route', sub('remove', opt('route', T.INTEGER, id)));
    expect(rm.content).toBe(`Route #${id} removed.`);
    const gone = await run(s.admin_.id, ch.discordChannelId, 'route', sub('remove', opt('route', T.INTEGER, id)));
    expect(gone).toMatchObject({ ephemeral: true, content: `no route with id ${id}` });
  });

  it('/alert test goes through the whole pipeline; /status shows delivery', async () => {
    const r = await run(s.admin_.id, ch.discordChannelId, 'alert', sub('test', opt('severity', T.STRING, 'P1')));
    const id = Number(/Test alert #(\d+)/.exec(r.content)?.[1]);
    expect(id).toBeGreaterThan(0);
    await waitFor('the test alert delivered', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id));
    await expect(run(s.member.id, ch.discordChannelId, 'alert', sub('test'))).rejects.toThrow(/may not use \/alert: .*Discord does not show it/);

    const st = await run(s.member.id, ch.discordChannelId, 'status');
    expect(st.ephemeral).toBe(true);
    expect(st.content).toMatch(/\*\*Queue\*\* P0 \d+ · P1 \d+/);
    expect(st.content).toMatch(/\*\*Last delivery\*\* <t:\d+:R>/);
  });

  it('/deadletters list|replay', async () => {
    s.emulator.injectFault({ kind: 'error', status: 500, count: 1, channelId: ch.discordChannelId });
    const res = await s.post(token, alert(2, { title: 'Doomed once' }));
    const alertId = res.body.ids[0];
    await waitFor('a dead letter', async () => (await listDeadLetters(s.herald, { limit: 10, pending: true })).some((d) => d.alert_id === alertId));
    const dl = (await listDeadLetters(s.herald, { limit: 10, pending: true })).find((d) => d.alert_id === alertId)!;

    const list = await run(s.admin_.id, ch.discordChannelId, 'deadletters', sub('list'));
    expect(list.content).toContain(`#${dl.id} alert #${alertId} P2 "Doomed once"`);
    const choices = await s.emulator.autocomplete({ userId: s.admin_.id, channelId: ch.discordChannelId, name: 'deadletters', options: [{ name: 'replay', type: T.SUB, options: [focused('id', '', T.INTEGER)] }] });
    expect(choices.map((c) => c.value)).toContain(dl.id);

    const replay = await run(s.admin_.id, ch.discordChannelId, 'deadletters', sub('replay', opt('id', T.INTEGER, dl.id)));
    expect(replay.content).toMatch(new RegExp(`Dead letter #${dl.id} queued again`));
    await waitFor('the replayed alert delivered', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(alertId));
    const twice = await run(s.admin_.id, ch.discordChannelId, 'deadletters', sub('replay', opt('id', T.INTEGER, dl.id)));
    expect(twice).toMatchObject({ ephemeral: true, content: `dead letter ${dl.id} was already replayed` });
    const unknown = await run(s.admin_.id, ch.discordChannelId, 'deadletters', sub('replay', opt('id', T.INTEGER, 99999)));
    expect(unknown.content).toBe('no dead letter with id 99999');
  });

  it('autocompletes services (from recent alerts), routes and recent alerts', async () => {
    await s.post(token, alert(3, { service: 'search-indexer' }));
    const services = await s.emulator.autocomplete({ userId: s.admin_.id, channelId: ch.discordChannelId, name: 'subscribe', options: [focused('service', 'search')] });
    expect(services).toEqual([{ name: 'search-indexer', value: 'search-indexer' }]);
    const routes = await s.emulator.autocomplete({ userId: s.admin_.id, channelId: ch.discordChannelId, name: 'route', options: [{ name: 'remove', type: T.SUB, options: [focused('route', '', T.INTEGER)] }] });
    expect(routes.length).toBeGreaterThan(0);
    expect(routes[0]!.name).toMatch(/^#\d+ → /);
  });

  it('never shows an internal error\'s details or a token', async () => {
    for (const r of [await run(s.admin_.id, ch.discordChannelId, 'route', sub('remove', opt('route', T.INTEGER, 424242)))]) {
      expect(r.content).not.toContain(s.emulator.botToken);
      expect(r.content).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(s.logs.join('')).not.toContain(s.emulator.botToken);
  });
});
