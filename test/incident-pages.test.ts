import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { SEVERITY_COLOR } from '../src/cards/alert-card.js';
import { startBotStack, type BotStack } from './support/bot.js';
import { alert, FAST, waitFor, type TestChannel } from './support/stack.js';
import { muteIncidentOnce } from '../src/services/mutes.js';

/**
 * Incident follow-ups (issue 10 §1) end to end, real HTTP server, SQLite and the emulator: an escalation step
 * pages with the incident (not its opening member's alert card), a member risen to P1 pages and is shown on the
 * card, and the card shows the group's mute (Mute 1h pressed) until it is lifted.
 */
let s: BotStack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

type Embed = { title?: string; description?: string; color?: number; footer?: { text: string } };
const live = (b: BotStack, ch: TestChannel) => b.emulator.messages(ch.discordChannelId).filter((m) => !m.deleted);
const embed = (m: { embeds: unknown[] }) => (m.embeds as Embed[])[0]!;
const customIds = (m: { components: unknown[] }): string[] => JSON.stringify(m.components).match(/herald:[a-z-]+:\d+/g) ?? [];
const isCard = (m: EmulatedMessage) => /^incident #\d+/.test(embed(m).footer?.text ?? '');
const isPage = (m: EmulatedMessage) => /^page for incident #\d+/.test(embed(m).footer?.text ?? '');
const ROLE = '777777777777777777';
const USER = '888888888888888888';

async function setup() {
  s = await startBotStack({ ...FAST, env: { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50' } });
  const token = await s.source();
  const ch = await s.channel({ webhooks: 1, applicationOwned: true });
  const routeId = ((await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!.id;
  expect((await s.admin('PATCH', `/v1/admin/routes/${routeId}`, { group_wait: '1s' })).status).toBe(200);
  return { b: s, token, ch, routeId };
}

/** `n` native alerts of one group, and their one card once it lists them all. */
async function incident(b: BotStack, ch: TestChannel, token: string, group: string, n: number, severity = 'P2') {
  const res = await b.post(token, { alerts: Array.from({ length: n }, (_, i) => alert(i, { group, severity, title: `${group} member ${i}`, service: `svc-${i}`, dedup_key: `${group}-${i}` })) });
  expect(res.status).toBe(202);
  const ids = res.body.ids as number[];
  let card: EmulatedMessage | undefined;
  await waitFor(`the card of ${group}`, () => {
    card = live(b, ch).find((m) => isCard(m) && ids.every((id) => embed(m).description?.includes(`#${id}`)));
    return card !== undefined;
  });
  return { ids, card: card!, incidentId: Number(/incident #(\d+)/.exec(embed(card!).footer!.text)![1]) };
}

describe('an incident pages as the incident', () => {
  it("an escalation step's mention names the incident's card in its channel, and shows the whole incident with its buttons in another; exactly the step's role or user may ping", async () => {
    const { b, token, ch, routeId } = await setup();
    // Another channel the alerts are not routed to (its catch-all route removed): only the step posts there.
    const other = await b.channel({ webhooks: 1, applicationOwned: true });
    const otherRoute = ((await b.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === other.id)!.id;
    expect((await b.admin('DELETE', `/v1/admin/routes/${otherRoute}`)).status).toBe(204);
    const chain = await b.admin('POST', '/v1/admin/escalation-chains', {
      name: 'db-page',
      steps: [
        { kind: 'role', delay_ms: 1500, target: ROLE },
        { kind: 'user', delay_ms: 200, target: USER, channel_id: other.id },
      ],
    });
    expect(chain.status).toBe(201);
    expect((await b.admin('PUT', `/v1/admin/routes/${routeId}/escalation-chain`, { chain_id: chain.body.id })).status).toBe(200);
    const { ids, card, incidentId } = await incident(b, ch, token, 'db-outage', 3, 'P1');

    // Step 1, in the card's channel: a short page naming the card, not a second card nor the opening member's alert card.
    let page: EmulatedMessage | undefined;
    await waitFor('the role page', () => (page = live(b, ch).find((m) => m.content === `<@&${ROLE}>`)) !== undefined, 10_000);
    expect(page!.allowedMentions).toEqual({ parse: [], roles: [ROLE] });
    expect(isPage(page!)).toBe(true);
    expect(embed(page!).title).toBe('[P1] db-outage');
    expect(embed(page!).description).toContain(`Escalation: incident #${incidentId}`);
    expect(embed(page!).description).toContain('**3** firing');
    expect(page!.components).toEqual([]);
    expect(live(b, ch).filter(isCard)).toEqual([expect.objectContaining({ id: card.id })]);

    // Step 2, in another channel with no card of the incident: the incident's card itself, every member, its buttons.
    let full: EmulatedMessage | undefined;
    await waitFor('the user page in the other channel', () => (full = live(b, other).find((m) => m.content === `<@${USER}>`)) !== undefined, 10_000);
    expect(full!.allowedMentions).toEqual({ parse: [], users: [USER] });
    expect(embed(full!).footer?.text).toBe(`incident #${incidentId} · 3 alerts · since`);
    for (const id of ids) expect(embed(full!).description).toContain(`#${id}`);
    expect(customIds(full!)).toEqual([`herald:incident-ack:${incidentId}`, `herald:incident-resolve:${incidentId}`, `herald:incident-mute:${incidentId}`]);

    // Its Acknowledge acts on the incident, and the page's answer is still the whole incident.
    const acked = await b.emulator.pressButton({ userId: b.oncall.id, channelId: other.discordChannelId, messageId: full!.id, customId: `herald:incident-ack:${incidentId}` });
    expect(acked.type).toBe(7);
    expect(embed(acked as unknown as EmulatedMessage).description).toMatch(/\*\*3\*\* acknowledged/);
    await waitFor('the card in the first channel shows the acknowledgement', () => /\*\*3\*\* acknowledged/.test(embed(b.emulator.message(card.id)!).description ?? ''), 10_000);
    // The page's edit keeps it a page (not the opening member's alert card) and pings nobody new.
    await waitFor('the short page edited', () => /\*\*3\*\* acknowledged/.test(embed(b.emulator.message(page!.id)!).description ?? ''), 10_000);
    expect(isPage(b.emulator.message(page!.id)!)).toBe(true);
    expect(b.emulator.message(page!.id)!.content).toBe(`<@&${ROLE}>`);
  });

  it('a member risen from P3 to P1 is shown on the card (its line, the worst severity and colour) and pages; a rise that is no page is an edit only', async () => {
    const { b, token, ch } = await setup();
    const { ids, card, incidentId } = await incident(b, ch, token, 'queue-lag', 3, 'P3');
    expect(embed(card).title).toBe('[P3] queue-lag');
    expect(card.flags).toBe(4096); // all P3: silent

    // P3 → P2: the card follows, nothing new is posted (the incident is still only P2/P3).
    expect((await b.post(token, alert(1, { group: 'queue-lag', severity: 'P2', title: 'queue-lag member 1', service: 'svc-1', dedup_key: 'queue-lag-1' }))).body.ids).toEqual([ids[1]]);
    await waitFor('the card at P2', () => embed(b.emulator.message(card.id)!).title === '[P2] queue-lag', 10_000);
    expect(live(b, ch)).toHaveLength(1);

    // P3 → P1: the card's line, title and colour follow, and a page is posted (a new message notifies; an edit would not).
    expect((await b.post(token, alert(2, { group: 'queue-lag', severity: 'P1', title: 'queue-lag member 2', service: 'svc-2', dedup_key: 'queue-lag-2' }))).body.ids).toEqual([ids[2]]);
    let page: EmulatedMessage | undefined;
    await waitFor('the page of the rise', () => (page = live(b, ch).find(isPage)) !== undefined, 10_000);
    expect(page!.flags & 4096).toBe(0);
    expect(page!.allowedMentions).toEqual({ parse: [] });
    expect(embed(page!).description).toContain(`#${ids[2]} rose to \`P1\``);
    expect(embed(page!).title).toBe('[P1] queue-lag');
    await waitFor('the card at P1', () => embed(b.emulator.message(card.id)!).title === '[P1] queue-lag', 10_000);
    const edited = b.emulator.message(card.id)!;
    expect(embed(edited).color).toBe(SEVERITY_COLOR.P1);
    expect(embed(edited).description).toMatch(new RegExp(`^\`P1\` \\*\\*svc-2\\*\\* · queue-lag member 2 · since <t:\\d+:R> · #${ids[2]}$`, 'm'));
    // Each member once on the card; no second card.
    expect(embed(edited).description!.match(/ · #\d+$/gm)).toHaveLength(3);
    expect(live(b, ch).filter(isCard)).toHaveLength(1);
    expect((await b.admin('GET', `/v1/admin/incidents/${incidentId}`)).body).toMatchObject({ severity: 'P1', firing: 3 });

    // A further repeat at P1 is no rise: no second page.
    await b.post(token, alert(2, { group: 'queue-lag', severity: 'P1', title: 'queue-lag member 2', service: 'svc-2', dedup_key: 'queue-lag-2' }));
    await waitFor('nothing left to send', () => (b.herald.db.$client.prepare("select count(*) n from deliveries where state in ('pending','leased')").get() as { n: number }).n === 0);
    expect(live(b, ch).filter(isPage)).toHaveLength(1);
  });
});

describe("an incident card shows its group's mute", () => {
  it('Mute 1h: the card says until when and loses its Mute button; lifted, the card is edited back; the end of the mute is queued as an edit', async () => {
    const { b, token, ch } = await setup();
    const { card, incidentId } = await incident(b, ch, token, 'cache-miss', 2);
    const pressed = await b.emulator.pressButton({ userId: b.oncall.id, channelId: ch.discordChannelId, messageId: card.id, customId: `herald:incident-mute:${incidentId}` });
    expect(pressed.type).toBe(7);
    const [mute] = (await b.admin('GET', '/v1/admin/mutes?active=true')).body as { id: number; expires_at: number }[];
    const until = `<t:${Math.floor(mute!.expires_at / 1000)}:f>`;
    expect(embed(pressed as unknown as EmulatedMessage).description).toContain(`Muted until ${until}`);
    expect(customIds(pressed as unknown as EmulatedMessage)).toEqual([`herald:incident-ack:${incidentId}`, `herald:incident-resolve:${incidentId}`]);
    expect(embed(b.emulator.message(card.id)!).description).toContain(`Muted until ${until}`);
    // The mute's end is an edit already queued (a row, kept across a restart), ready when the mute runs out.
    const ends = b.herald.db.$client.prepare("select available_at as at from message_ops where purpose = 'mute-end' and state = 'pending'").all() as { at: number }[];
    expect(ends).toEqual([{ at: mute!.expires_at + 1 }]);

    // A later change of a member still edits the card now (the waiting mute-end edit holds nothing back).
    const [first] = (await b.admin('GET', `/v1/admin/incidents/${incidentId}`)).body.alerts as { id: number }[];
    expect((await b.admin('POST', `/v1/admin/alerts/${first!.id}/ack`, { by: 'ops' })).status).toBe(200);
    await waitFor('the acknowledgement on the muted card', () => / · acked · /.test(embed(b.emulator.message(card.id)!).description ?? ''), 10_000);
    expect(embed(b.emulator.message(card.id)!).description).toContain('Muted until');

    // Lifted: the card is edited back, the Mute button with it.
    expect((await b.admin('DELETE', `/v1/admin/mutes/${mute!.id}`)).status).toBe(204);
    await waitFor('the card without the mute', () => !(embed(b.emulator.message(card.id)!).description ?? '').includes('Muted until'), 10_000);
    expect(customIds(b.emulator.message(card.id)!)).toEqual([`herald:incident-ack:${incidentId}`, `herald:incident-resolve:${incidentId}`, `herald:incident-mute:${incidentId}`]);
  });
  it('a mute made while the card is on its way to Discord: the card is edited to show it once sent, and its mute-end edit is queued', async () => {
    const { b, token, ch } = await setup();
    // Discord answers the card's post 3 s late: the card was rendered before the mute, and Herald has no message id yet.
    b.emulator.injectFault({ kind: 'slow', delayMs: 3000, count: 1, channelId: ch.discordChannelId });
    const res = await b.post(token, { alerts: [0, 1].map((i) => alert(i, { group: 'disk-full', title: `disk-full member ${i}`, service: `svc-${i}`, dedup_key: `disk-full-${i}` })) });
    expect(res.status).toBe(202);
    const leased = () => (b.herald.db.$client.prepare("select count(*) n from deliveries where state = 'leased'").get() as { n: number }).n > 0;
    await waitFor('the card on its way', leased, 10_000);
    const incidentId = (b.herald.db.$client.prepare('select incident_id as id from alerts where id = ?').get(res.body.ids[0]) as { id: number }).id;
    const { mute } = await muteIncidentOnce(b.herald, incidentId, 60, { kind: 'discord', name: 'oncall' });
    expect(leased()).toBe(true); // made while the post was still unanswered
    let card: EmulatedMessage | undefined;
    await waitFor('the card edited to show the mute', () => {
      card = live(b, ch).find(isCard);
      return card !== undefined && (embed(b.emulator.message(card.id)!).description ?? '').includes(`Muted until <t:${Math.floor(mute.expires_at / 1000)}:f>`);
    }, 15_000);
    expect(customIds(b.emulator.message(card!.id)!)).toEqual([`herald:incident-ack:${incidentId}`, `herald:incident-resolve:${incidentId}`]);
    const ends = b.herald.db.$client.prepare("select available_at as at from message_ops where purpose = 'mute-end' and state = 'pending' and discord_message_id = ?").all(card!.id) as { at: number }[];
    expect(ends).toEqual([{ at: mute.expires_at + 1 }]);
  });
  it('when the mute runs out, every card of the incident is edited back (the mute-end edit queued with the mute), with no one acting', async () => {
    const { b, token, ch } = await setup();
    const { card, incidentId } = await incident(b, ch, token, 'dns-flap', 2);
    // The same service call the button makes, dated so that its hour is over 20 s from now (no test waits an hour;
    // 20 s leaves a loaded machine time to show the muted card before the mute runs out).
    const { mute, created } = await muteIncidentOnce(b.herald, incidentId, 60, { kind: 'discord', name: 'oncall' }, {}, Date.now() - 60 * 60_000 + 20_000);
    expect(created).toBe(true);
    const muted = () => (embed(b.emulator.message(card.id)!).description ?? '').includes(`Muted until <t:${Math.floor(mute.expires_at / 1000)}:f>`);
    await waitFor('the card muted', () => muted() && !customIds(b.emulator.message(card.id)!).includes(`herald:incident-mute:${incidentId}`), Math.max(1000, mute.expires_at - Date.now()));
    await waitFor('the card edited back once the mute ran out', () => customIds(b.emulator.message(card.id)!).includes(`herald:incident-mute:${incidentId}`), 30_000);
    expect(Date.now()).toBeGreaterThan(mute.expires_at);
    expect(embed(b.emulator.message(card.id)!).description).not.toContain('Muted until');
  });
});
