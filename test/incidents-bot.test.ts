import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { alert, FAST, waitFor, type TestChannel } from './support/stack.js';
import { muteIncidentOnce } from '../src/services/mutes.js';

let s: BotStack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

type Embed = { title?: string; description?: string; footer?: { text: string } };
const live = (b: BotStack, ch: TestChannel) => b.emulator.messages(ch.discordChannelId).filter((m) => !m.deleted);
const embed = (m: { embeds: unknown[] }) => (m.embeds as Embed[])[0]!;
const customIds = (m: { components: unknown[] }) => JSON.stringify(m.components).match(/herald:[a-z-]+:\d+/g) ?? [];
const incidentIdOf = (m: EmulatedMessage) => Number(/incident #(\d+)/.exec(embed(m).footer?.text ?? '')![1]);
const ROLE = '777777777777777777';

/** Posts `n` native alerts of group `group` at once and waits for their one card (group_wait 1 s on the route). */
async function incident(b: BotStack, ch: TestChannel, token: string, group: string, n: number, severity = 'P2') {
  const res = await b.post(token, { alerts: Array.from({ length: n }, (_, i) => alert(i, { group, severity, title: `${group} member ${i}`, service: `svc-${i}` })) });
  expect(res.status).toBe(202);
  const ids = res.body.ids as number[];
  let card: EmulatedMessage | undefined;
  await waitFor(`the card of ${group}`, () => {
    card = live(b, ch).find((m) => embed(m).footer?.text?.startsWith('incident #') && ids.every((id) => embed(m).description?.includes(`#${id}`)));
    return card !== undefined;
  });
  return { ids, card: card!, incidentId: incidentIdOf(card!) };
}

async function setup(env: Record<string, string> = {}) {
  s = await startBotStack({ ...FAST, env: { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50', ...env } });
  const token = await s.source();
  const ch = await s.channel({ webhooks: 1, applicationOwned: true });
  const routeId = ((await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!.id;
  expect((await s.admin('PATCH', `/v1/admin/routes/${routeId}`, { group_wait: '1s' })).status).toBe(200);
  return { b: s, token, ch, routeId };
}

const detail = async (b: BotStack, id: number) => (await b.admin('GET', `/v1/admin/alerts/${id}`)).body;

describe('acting on an incident from its card', () => {
  it('Acknowledge by a stranger is refused and changes nothing; by on-call it acknowledges every firing member and stops the incident\'s one escalation', async () => {
    const { b, token, ch, routeId } = await setup();
    const chain = await b.admin('POST', '/v1/admin/escalation-chains', { name: 'page', steps: [{ kind: 'role', delay_ms: 4000, target: ROLE }] });
    expect((await b.admin('PUT', `/v1/admin/routes/${routeId}/escalation-chain`, { chain_id: chain.body.id })).status).toBe(200);

    const { ids, card, incidentId } = await incident(b, ch, token, 'db-outage', 3, 'P1');
    expect(customIds(card)).toEqual([`herald:incident-ack:${incidentId}`, `herald:incident-resolve:${incidentId}`, `herald:incident-mute:${incidentId}`]);
    // One chain armed for the incident, on the member that opened it; none per other member.
    const armed = await Promise.all(ids.map(async (id) => (await b.admin('GET', `/v1/admin/escalations?alert_id=${id}`)).body as unknown[]));
    expect(armed.map((e) => e.length)).toEqual([1, 0, 0]);

    const refused = await b.emulator.pressButton({ userId: b.member.id, channelId: ch.discordChannelId, messageId: card.id, customId: `herald:incident-ack:${incidentId}` });
    expect(refused.content).toMatch(/permission|role/i);
    for (const id of ids) expect((await detail(b, id)).acknowledged_at).toBeNull();

    const acked = await b.emulator.pressButton({ userId: b.oncall.id, channelId: ch.discordChannelId, messageId: card.id, customId: `herald:incident-ack:${incidentId}` });
    expect(acked.type).toBe(7);
    expect(embed(acked as unknown as EmulatedMessage).description).toMatch(/\*\*3\*\* acknowledged/);
    expect(customIds(acked as unknown as EmulatedMessage)).toEqual([`herald:incident-resolve:${incidentId}`, `herald:incident-mute:${incidentId}`]);
    for (const id of ids) expect((await detail(b, id)).acknowledged_by).toBe('oncall');
    await waitFor('the escalation stopped by the acknowledgement', async () => {
      const [e] = (await b.admin('GET', `/v1/admin/escalations?alert_id=${ids[0]}`)).body as { state: string; reason: string | null }[];
      return e?.state === 'done' && e.reason === 'acknowledged';
    });
    expect(live(b, ch).filter((m) => m.content.includes(ROLE))).toHaveLength(0);
  });

  it('Resolve resolves every firing member and the card says the incident is resolved', async () => {
    const { b, token, ch } = await setup();
    const { ids, card, incidentId } = await incident(b, ch, token, 'queue-backlog', 4);
    const pressed = await b.emulator.pressButton({ userId: b.oncall.id, channelId: ch.discordChannelId, messageId: card.id, customId: `herald:incident-resolve:${incidentId}` });
    expect(pressed.type).toBe(7);
    expect(embed(pressed as unknown as EmulatedMessage).title).toBe('[RESOLVED] queue-backlog');
    expect(pressed.components).toEqual([]);
    for (const id of ids) expect((await detail(b, id)).status).toBe('resolved');
    expect((await b.admin('GET', `/v1/admin/incidents/${incidentId}`)).body).toMatchObject({ status: 'resolved', firing: 0, resolved: 4 });
    // `/alert show` of a member names its incident.
    const shown = await b.emulator.runCommand({ userId: b.admin_.id, channelId: ch.discordChannelId, name: 'alert', options: [sub('show', opt('alert', T.STRING, String(ids[1])))] });
    expect(shown.content).toContain(`Part of incident #${incidentId} "queue-backlog" (resolved: 0 firing, 4 resolved of 4 alerts`);
    // Nothing is left to resolve: the admin API's resolve of it changes nothing.
    const again = await b.admin('POST', `/v1/admin/incidents/${incidentId}/resolve`, { by: 'ops' });
    expect(again.body.changed).toEqual([]);
    await waitFor('the stored card shows the resolve', () => embed(b.emulator.message(card.id)!).title === '[RESOLVED] queue-backlog');
  });

  it('Mute mutes the later members of that group only: recorded, not delivered', async () => {
    const { b, token, ch } = await setup();
    const { card, incidentId } = await incident(b, ch, token, 'cache-miss', 2);
    const pressed = await b.emulator.pressButton({ userId: b.oncall.id, channelId: ch.discordChannelId, messageId: card.id, customId: `herald:incident-mute:${incidentId}` });
    expect(pressed.type).toBe(7);
    expect(pressed.content).toMatch(/muted for 1 hour/);
    const mutes = (await b.admin('GET', '/v1/admin/mutes?active=true')).body as { id: number; incident_key?: string }[];
    expect(mutes).toHaveLength(1);
    expect(mutes[0]!.incident_key).toBe('group:cache-miss');

    const later = (await b.post(token, alert(7, { group: 'cache-miss', title: 'cache-miss later' }))).body.ids[0] as number;
    expect((await detail(b, later)).muted_by_mute_id).toBe(mutes[0]!.id);
    expect((await detail(b, later)).deliveries).toEqual([]);
    // Another group, and the same group name from another source, are not muted.
    const other = (await b.post(token, alert(8, { group: 'other-group' }))).body.ids[0] as number;
    expect((await detail(b, other)).muted_by_mute_id).toBeNull();
    const token2 = await b.source();
    const foreign = (await b.post(token2, alert(9, { group: 'cache-miss' }))).body.ids[0] as number;
    expect((await detail(b, foreign)).muted_by_mute_id).toBeNull();
    // A second press makes no second mute. The card no longer offers the button (it says until when the group is
    // muted), so the second press is one from a card not yet edited: the same service call the button makes.
    expect(customIds(b.emulator.message(card.id)!)).not.toContain(`herald:incident-mute:${incidentId}`);
    const again = await muteIncidentOnce(b.herald, incidentId, 60, { kind: 'discord', name: 'oncall' });
    expect(again.created).toBe(false);
    expect((await b.admin('GET', '/v1/admin/mutes?active=true')).body).toHaveLength(1);
  });

  it("with threads on, the incident card gets one thread named as the incident; its Acknowledge is one note there, not one per member", async () => {
    const { b, token, ch, routeId } = await setup();
    expect((await b.admin('PATCH', `/v1/admin/routes/${routeId}`, { threads: true })).status).toBe(200);
    const { card, incidentId } = await incident(b, ch, token, 'edge-5xx', 4);
    await waitFor('the thread of the incident card', () => b.emulator.threads(ch.discordChannelId).length === 1, 10_000);
    const thread = b.emulator.threads(ch.discordChannelId)[0]!;
    expect(thread.id).toBe(card.id);
    expect(thread.name).toBe('edge-5xx');
    // Herald has recorded the thread on every member's delivery (a change before that has no thread to tell).
    await waitFor('the thread recorded', () => (b.herald.db.$client.prepare('select count(*) n from deliveries where thread_id = ?').get(thread.id) as { n: number }).n === 4);
    const acked = await b.emulator.pressButton({ userId: b.oncall.id, channelId: ch.discordChannelId, messageId: card.id, customId: `herald:incident-ack:${incidentId}` });
    expect(acked.type).toBe(7);
    const notes = () => b.emulator.messages(thread.id).filter((m) => !m.deleted && m.content.startsWith('👀 Acknowledged'));
    await waitFor('the acknowledgement in the thread', () => notes().length > 0, 10_000);
    // Every member's change was recorded; the one waiting note covered them all.
    await waitFor('the card and every member acknowledged', async () => ((await b.admin('GET', `/v1/admin/incidents/${incidentId}`)).body.acknowledged as number) === 4);
    await waitFor('nothing left to send in the channel', () => (b.herald.db.$client.prepare("select count(*) n from deliveries where state in ('pending','leased')").get() as { n: number }).n === 0);
    expect(notes()).toHaveLength(1);
  });

  it('/route add takes group_by and group_wait, and says so in its confirmation', async () => {
    const { b, ch } = await setup();
    const run = (...options: ReturnType<typeof opt>[]) => b.emulator.runCommand({ userId: b.admin_.id, channelId: ch.discordChannelId, name: 'route', options: [sub('add', ...options)] });
    const added = await run(opt('channel', T.CHANNEL, ch.discordChannelId), opt('service', T.STRING, 'kube-*'), opt('group_by', T.STRING, 'cluster, alertname'), opt('group_wait', T.STRING, '30s'));
    expect(added.content).toMatch(/^Route added: #\d+ → .*: service kube-\*, incidents by cluster,alertname, group_wait 30 s\.$/);
    const bad = await run(opt('channel', T.CHANNEL, ch.discordChannelId), opt('group_wait', T.STRING, 'later'));
    expect(bad.content).toContain('"later" is not a duration');
    const alone = await run(opt('channel', T.CHANNEL, ch.discordChannelId), opt('group_by', T.STRING, '...,team'));
    expect(alone.content).toContain('"..." (every label) stands alone');
  });
});
