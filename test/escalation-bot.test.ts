import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { getChain, listChains, listEscalations } from '../src/services/escalation.js';
import { listRoutes } from '../src/services/routes.js';
import { opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { alert, FAST, waitFor, type TestChannel } from './support/stack.js';

const USER_OPT = 6;
const ROLE_OPT = 8;

describe('/escalation create|add-step|show|delete', () => {
  let s: BotStack;
  let ch: TestChannel;
  let token: string;

  beforeAll(async () => {
    s = await startBotStack({ ...FAST, env: { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50' } });
    token = await s.source();
    ch = await s.channel({ webhooks: 1, applicationOwned: true });
  });
  afterAll(async () => s?.close());

  const run = (userId: string, ...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId, channelId: ch.discordChannelId, name: 'escalation', options });

  it('refuses a member without Manage Server, naming what is missing', async () => {
    // Discord hides /escalation from such a member (default_member_permissions); a server admin opened it to everyone.
    s.emulator.setCommandPermissions({ name: 'escalation', permissions: [{ id: s.emulator.guildId, type: 1, permission: true }] });
    onTestFinished(() => s.emulator.setCommandPermissions({ name: 'escalation', permissions: [] }));
    const r = await run(s.member.id, sub('create', opt('name', T.STRING, 'nope')));
    expect(r).toMatchObject({ type: 4, ephemeral: true });
    expect(r.content).toMatch(/You need the Manage Server permission to use \/escalation create/);
    expect(await listChains(s.herald)).toEqual([]);
  });

  it('builds a chain on a route, shows it, runs it on an alert, and deletes it', async () => {
    const route = (await listRoutes(s.herald)).find((r) => r.channel_id === ch.id)!;
    const created = await run(s.admin_.id, sub('create', opt('name', T.STRING, 'payments-oncall'), opt('repeats', T.INTEGER, 0), opt('rearm_after', T.STRING, '30m'), opt('route', T.INTEGER, route.id)));
    expect(created.ephemeral).toBe(false);
    expect(created.content).toMatch(/Escalation chain created\.\n\*\*payments-oncall\*\* \(#\d+\): runs 1 time, re-armed 30m after an acknowledgement without resolve; armed by route #\d+/);
    const chain = (await listChains(s.herald))[0]!;
    expect(chain).toMatchObject({ name: 'payments-oncall', repeats: 0, rearm_after_ms: 1_800_000, route_ids: [route.id] });

    const role = s.emulator.createRole({ name: 'payments-oncall' });
    const person = s.emulator.createMember({ username: 'pat' });
    const step1 = await run(s.admin_.id, sub('add-step', opt('chain', T.STRING, 'payments-oncall'), opt('delay', T.STRING, '0'), opt('role', ROLE_OPT, role.id)));
    expect(step1.content).toMatch(/Step added\.[\s\S]*1\. at once: mention <@&\d+> in the alert's channels/);
    const step2 = await run(s.admin_.id, sub('add-step', opt('chain', T.STRING, String(chain.id)), opt('delay', T.STRING, '2h'), opt('user', USER_OPT, person.id), opt('channel', T.CHANNEL, ch.discordChannelId)));
    expect(step2.content).toMatch(new RegExp(`2\\. after 120m: mention <@${person.id}> in <#${ch.discordChannelId}>`));
    expect((await getChain(s.herald, chain.id)).steps.map((x) => [x.kind, x.delay_ms, x.target])).toEqual([
      ['role', 0, role.id],
      ['user', 7_200_000, person.id],
    ]);

    // Refusals: a bad delay, two mentions at once, nothing to do, an unknown chain.
    const badDelay = await run(s.admin_.id, sub('add-step', opt('chain', T.STRING, 'payments-oncall'), opt('delay', T.STRING, 'soon'), opt('role', ROLE_OPT, role.id)));
    expect(badDelay).toMatchObject({ ephemeral: true });
    expect(badDelay.content).toMatch(/delay: "soon" is not a delay/);
    const both = await run(s.admin_.id, sub('add-step', opt('chain', T.STRING, 'payments-oncall'), opt('delay', T.STRING, '5m'), opt('role', ROLE_OPT, role.id), opt('user', USER_OPT, person.id)));
    expect(both.content).toMatch(/give a role or a user, not both/);
    const nothing = await run(s.admin_.id, sub('add-step', opt('chain', T.STRING, 'payments-oncall'), opt('delay', T.STRING, '5m')));
    expect(nothing.content).toMatch(/give a role or a user to mention, or a channel/);
    const unknown = await run(s.admin_.id, sub('show', opt('chain', T.STRING, 'nobody')));
    expect(unknown).toMatchObject({ ephemeral: true });
    expect(unknown.content).toMatch(/no escalation chain with id nobody/);
    const dup = await run(s.admin_.id, sub('create', opt('name', T.STRING, 'payments-oncall')));
    expect(dup.content).toMatch(/already exists/);
    expect((await getChain(s.herald, chain.id)).steps).toHaveLength(2);

    const shown = await run(s.admin_.id, sub('show', opt('chain', T.STRING, 'payments-oncall')));
    expect(shown.ephemeral).toBe(true);
    expect(shown.content.split('\n')).toHaveLength(3);

    // The first step runs at once: the card with the role mention, exactly that role allowed to ping.
    const res = await s.post(token, alert(1, { severity: 'P0' }));
    const id = res.body.ids[0] as number;
    await waitFor('the role mention', () => s.emulator.messages(ch.discordChannelId).some((m) => m.content === `<@&${role.id}>`), 5000);
    const m = s.emulator.messages(ch.discordChannelId).find((x) => x.content === `<@&${role.id}>`)!;
    expect(m.allowedMentions).toEqual({ parse: [], roles: [role.id] });
    expect((await listEscalations(s.herald, { alertId: id }))[0]).toMatchObject({ state: 'active', step_index: 1 });

    const deleted = await run(s.admin_.id, sub('delete', opt('chain', T.STRING, 'payments-oncall')));
    expect(deleted.content).toBe('Escalation chain **payments-oncall** deleted.');
    expect(await listChains(s.herald)).toEqual([]);
    expect((await listRoutes(s.herald)).find((r) => r.id === route.id)).toBeDefined();
    expect(await listEscalations(s.herald, { alertId: id })).toEqual([]);
  });
});
