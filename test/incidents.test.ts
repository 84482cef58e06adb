import { afterEach, describe, expect, it, vi } from 'vitest';
import { embedLength, MESSAGE_LIMITS } from '../src/discord/limits.js';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Embed = { title?: string; description?: string; color?: number; footer?: { text: string } };
const live = (s: Stack, ch: TestChannel) => s.emulator.messages(ch.discordChannelId).filter((m) => !m.deleted);
const embed = (m: EmulatedMessage) => (m.embeds as Embed[])[0]!;
/** The member ids an incident card lists (each line ends with `#id`). */
const memberIds = (m: EmulatedMessage) => [...(embed(m).description ?? '').matchAll(/ · #(\d+)$/gm)].map((x) => Number(x[1]));
const isIncidentCard = (m: EmulatedMessage) => /^incident #\d+/.test(embed(m).footer?.text ?? '');

/** An Alertmanager notification of one group with `n` alerts (fingerprints `fp-<group>-<i>`). */
export function amGroup(group: string, ids: number[], over: { status?: 'firing' | 'resolved'; severity?: (i: number) => string } = {}) {
  const status = over.status ?? 'firing';
  return {
    version: '4',
    groupKey: `{}:{alertname="${group}"}`,
    status,
    receiver: 'herald',
    groupLabels: { alertname: group },
    commonLabels: { alertname: group },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
    alerts: ids.map((i) => ({
      status,
      labels: { alertname: group, service: `svc-${i}`, severity: over.severity?.(i) ?? 'warning', instance: `host-${i}` },
      annotations: { summary: `host-${i} is unhappy` },
      startsAt: '2026-11-24T20:41:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: `fp-${group}-${i}`,
    })),
  };
}

async function amSource(s: Stack, name = 'am') {
  return (await s.admin('POST', '/v1/admin/sources', { name, format: 'alertmanager' })).body.token as string;
}

/** The catch-all route `startStack`'s channel() made, with this group_wait (and group_by). */
async function setRoute(s: Stack, ch: TestChannel, patch: Record<string, unknown>) {
  const route = ((await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!;
  const res = await s.admin('PATCH', `/v1/admin/routes/${route.id}`, patch);
  expect(res.status).toBe(200);
  return route.id;
}

describe('incidents: one live card per incident per channel', () => {
  it('an Alertmanager group of 5 posts ONE card listing the 5 after group_wait; a 6th member and a resolve edit that message', async () => {
    stack = await startStack(FAST);
    const s = stack;
    const token = await amSource(s);
    const ch = await s.channel({ webhooks: 1, applicationOwned: true });
    await setRoute(s, ch, { group_wait: '1s' });

    const sentAt = Date.now();
    const first = await s.post(token, amGroup('DiskFull', [1, 2, 3]));
    expect(first.status).toBe(202);
    const second = await s.post(token, amGroup('DiskFull', [4, 5]));
    const ids = [...first.body.ids, ...second.body.ids] as number[];
    await waitFor('the incident card', () => live(s, ch).length > 0);
    // Nothing went before the group_wait was over.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000);
    await waitFor('the card lists 5 members', () => memberIds(live(s, ch)[0]!).length === 5);
    const [card] = live(s, ch);
    expect(live(s, ch)).toHaveLength(1);
    expect(isIncidentCard(card!)).toBe(true);
    expect(memberIds(card!).sort()).toEqual([...ids].sort());
    expect(embed(card!).title).toBe('[P2] alertname=DiskFull');
    expect(embed(card!).description).toMatch(/^\*\*5\*\* firing · \*\*0\*\* resolved/);
    const incidentId = Number(/incident #(\d+)/.exec(embed(card!).footer!.text)![1]);
    expect(JSON.stringify(card!.components)).toContain(`herald:incident-ack:${incidentId}`);

    // A 6th member joins: the same message is edited, nothing new is posted.
    const sixth = (await s.post(token, amGroup('DiskFull', [6]))).body.ids[0] as number;
    await waitFor('the 6th member on the card', () => memberIds(live(s, ch)[0]!).includes(sixth));
    expect(live(s, ch)).toHaveLength(1);
    expect(live(s, ch)[0]!.id).toBe(card!.id);

    // A resolve of one member: the card counts it resolved, still one message.
    await s.post(token, amGroup('DiskFull', [2], { status: 'resolved' }));
    await waitFor('the card counts a resolved member', () => /\*\*5\*\* firing · \*\*1\*\* resolved/.test(embed(live(s, ch)[0]!).description ?? ''));
    expect(live(s, ch)).toHaveLength(1);

    // A member retracted (struck through): its line says so and it counts apart; acknowledged by id: its line says acked.
    const retracted = await s.admin('POST', `/v1/admin/alerts/${ids[0]}/retract`, { mode: 'strike', reason: 'test alert' });
    expect(retracted.status).toBe(200);
    expect((await s.admin('POST', `/v1/admin/alerts/${ids[2]}/ack`, { by: 'bob' })).status).toBe(200);
    await waitFor('the card shows the retraction and the ack', () => {
      const d = embed(live(s, ch)[0]!).description ?? '';
      return d.startsWith('**4** firing · **1** acknowledged · **1** resolved · 1 retracted') && d.includes(`retracted · #${ids[0]}`) && d.includes(`acked · #${ids[2]}`);
    });
    expect(live(s, ch)).toHaveLength(1);

    const detail = (await s.admin('GET', `/v1/admin/incidents/${incidentId}`)).body;
    expect(detail).toMatchObject({ id: incidentId, status: 'firing', members: 6, firing: 4, acknowledged: 1, resolved: 1, retracted: 1 });
    expect(detail.alerts.map((a: { id: number }) => a.id)).toEqual([...ids, sixth]);
    expect((await s.admin('GET', '/v1/admin/incidents?status=firing')).body.map((i: { id: number }) => i.id)).toEqual([incidentId]);
    expect((await s.admin('GET', '/v1/admin/incidents?status=resolved')).body).toEqual([]);
    // Every message operation went through the webhook that posted the card: edits, never a second post.
    expect(s.herald.db.$client.prepare("select count(distinct discord_message_id) n from deliveries where state = 'sent'").get()).toEqual({ n: 1 });
  });

  it('a native alert\'s group and a route\'s group_by group too, each within its own source', async () => {
    stack = await startStack(FAST);
    const s = stack;
    const token = await s.source();
    const other = await s.source();
    const ch = await s.channel({ webhooks: 1, applicationOwned: true });
    await setRoute(s, ch, { group_wait: '1s' });

    // Native `group`: two of one source make one card; the same group name from another source is another incident.
    const a = (await s.post(token, { alerts: [alert(1, { group: 'checkout-down' }), alert(2, { group: 'checkout-down' })] })).body.ids as number[];
    const b = (await s.post(other, alert(3, { group: 'checkout-down' }))).body.ids as number[];
    await waitFor('both incidents posted', () => live(s, ch).length === 2);
    const grouped = live(s, ch).find(isIncidentCard)!;
    expect(memberIds(grouped).sort()).toEqual([...a].sort());
    expect(embed(grouped).title).toBe('[P2] checkout-down');
    // The other source's lone member is its own alert card, as an ungrouped alert's.
    expect(live(s, ch).some((m) => !isIncidentCard(m) && JSON.stringify(m.embeds).includes(`alert #${b[0]}`))).toBe(true);
    const da = (await s.admin('GET', `/v1/admin/alerts/${a[0]}`)).body;
    const db = (await s.admin('GET', `/v1/admin/alerts/${b[0]}`)).body;
    expect(da.incident_id).toBeDefined();
    expect(db.incident_id).not.toBe(da.incident_id);

    // A route's group_by: alerts with the same values of its labels are one incident.
    const ch2 = await s.channel({ webhooks: 1, applicationOwned: true });
    const routeId = await setRoute(s, ch2, { group_by: ['cluster', 'alertname'], group_wait: '1s' });
    expect((await s.admin('GET', '/v1/admin/routes')).body.find((r: { id: number }) => r.id === routeId)).toMatchObject({ group_by: ['cluster', 'alertname'], group_wait_ms: 1000 });
    const labelled = (i: number, cluster: string) => alert(i, { service: `node-${i}`, labels: { cluster, alertname: 'NodeDown', instance: `n${i}` } });
    const eu = (await s.post(token, { alerts: [labelled(10, 'eu1'), labelled(11, 'eu1'), labelled(12, 'eu1')] })).body.ids as number[];
    const us = (await s.post(token, { alerts: [labelled(13, 'us1'), labelled(14, 'us1')] })).body.ids as number[];
    await waitFor('two incident cards in the second channel', () => live(s, ch2).filter(isIncidentCard).length === 2);
    const cards = live(s, ch2).filter(isIncidentCard);
    expect(cards.map((m) => memberIds(m).sort()).sort()).toEqual([[...eu].sort(), [...us].sort()].sort());
    expect(cards.map((m) => embed(m).title).sort()).toEqual(['[P2] alertname=NodeDown, cluster=eu1', '[P2] alertname=NodeDown, cluster=us1']);
    expect(live(s, ch2)).toHaveLength(2);
    // A bad group_wait is refused with a one-line error naming the field.
    const bad = await s.admin('PATCH', `/v1/admin/routes/${routeId}`, { group_wait: 'soon' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('group_wait');
  });

  it('an ungrouped alert is unchanged: posted at once as its own card with its own buttons, no incident, no wait', async () => {
    stack = await startStack(FAST);
    const s = stack;
    const token = await s.source();
    const ch = await s.channel({ webhooks: 1, applicationOwned: true });
    // The hot path pays nothing for incidents: no incident lookup on ingest, none in the lane.
    const store = s.herald.store;
    const spies = [vi.spyOn(store.incidents, 'join'), vi.spyOn(store.deliveries, 'incidentCard'), vi.spyOn(store.deliveries, 'incidentInFlight'), vi.spyOn(store.deliveries, 'claimIncident')];
    const sentAt = Date.now();
    const id = (await s.post(token, alert(1, { dedup_key: 'solo' }))).body.ids[0] as number;
    await waitFor('its card', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id));
    // Well before the default group_wait (5 s) would have let it go.
    expect(Date.now() - sentAt).toBeLessThan(4000);
    const [m] = live(s, ch);
    expect(isIncidentCard(m!)).toBe(false);
    expect(JSON.stringify(m!.components)).toContain(`herald:ack:${id}`);
    const d = (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;
    expect(d.incident_id).toBeUndefined();
    expect((await s.admin('GET', '/v1/admin/incidents')).body).toEqual([]);
    expect(s.herald.db.$client.prepare('select count(*) n from incidents').get()).toEqual({ n: 0 });
    // Its repeat and its acknowledgement take the same path as before, too.
    await s.post(token, alert(1, { dedup_key: 'solo' }));
    expect((await s.admin('POST', `/v1/admin/alerts/${id}/ack`)).status).toBe(200);
    await waitFor('the card edited', () => JSON.stringify(live(s, ch)[0]!.embeds).includes('Acknowledged by admin'));
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('many members: the card shows the worst and newest, says how many more and where, within Discord\'s limits', async () => {
    stack = await startStack(FAST);
    const s = stack;
    const token = await amSource(s);
    const ch = await s.channel({ webhooks: 1, applicationOwned: true });
    await setRoute(s, ch, { group_wait: '1s' });
    const n = 120;
    const members = Array.from({ length: n }, (_, i) => i);
    // One P0 among P3s, and long titles: the P0 must be on the card whatever fits.
    const body = amGroup('Fleet', members, { severity: (i) => (i === 50 ? 'critical' : 'info') });
    for (const a of body.alerts) a.annotations.summary = `${a.annotations.summary} ${'x'.repeat(150)}`;
    const ids = (await s.post(token, body)).body.ids as number[];
    await waitFor('the incident card', () => live(s, ch).some(isIncidentCard));
    const card = live(s, ch).find(isIncidentCard)!;
    expect(live(s, ch)).toHaveLength(1);
    const e = embed(card) as Embed & { fields?: unknown[] };
    // The emulator applies Discord's limits: it accepted the card, and the card is within them.
    expect(embedLength(e as never)).toBeLessThanOrEqual(MESSAGE_LIMITS.embedsTotal);
    expect(e.description!.length).toBeLessThanOrEqual(MESSAGE_LIMITS.embedDescription);
    expect(e.title).toBe('[P0] alertname=Fleet');
    const shown = memberIds(card);
    expect(shown.length).toBeLessThan(n);
    expect(shown[0]).toBe(ids[50]); // the worst first
    expect(e.description).toContain(`… and **${n - shown.length} more**`);
    expect(e.description).toMatch(/\/alert show <id>/);
    expect(e.footer?.text).toMatch(new RegExp(`^incident #\\d+ · ${n} alerts`));
  });
});
