import { afterEach, describe, expect, it } from 'vitest';
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

    const detail = (await s.admin('GET', `/v1/admin/incidents/${incidentId}`)).body;
    expect(detail).toMatchObject({ id: incidentId, status: 'firing', members: 6, firing: 5, resolved: 1 });
  });
});
