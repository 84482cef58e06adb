import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

/**
 * Incidents in a storm, end to end (issue 10 §1 and §2), with Discord's real limits (5 requests per 2 s per
 * webhook, 30 messages per 60 s per channel, 3 webhooks): grouped P2/P3 members arrive while the channel is in
 * storm mode. Every member is shown exactly once, as a storm line or on its incident's card; a P0 member keeps
 * its full card with buttons, first; an incident card already posted is edited, never posted again.
 */
type Embed = { title?: string; description?: string; footer?: { text?: string } };
const embedsOf = (m: EmulatedMessage) => m.embeds as Embed[];
const live = (s: Stack, ch: TestChannel) => s.emulator.messages(ch.discordChannelId).filter((m) => !m.deleted);
const isCompact = (m: EmulatedMessage) => embedsOf(m).at(-1)?.footer?.text?.startsWith('Storm mode') ?? false;
const isSummary = (m: EmulatedMessage) => /^Storm (in progress|over)/.test(embedsOf(m)[0]?.title ?? '');
const incidentOf = (m: EmulatedMessage) => Number(/^incident #(\d+)/.exec(embedsOf(m)[0]?.footer?.text ?? '')?.[1] ?? NaN);
const isIncidentCard = (m: EmulatedMessage) => !Number.isNaN(incidentOf(m));
/** Member ids an incident card lists (each line ends with `#id`). */
const memberIds = (m: EmulatedMessage) => [...(embedsOf(m)[0]?.description ?? '').matchAll(/ · #(\d+)$/gm)].map((x) => Number(x[1]));
/** Every alert id shown in the channel, once per place it is shown: storm lines, alert cards, incident cards' lines. */
const shownIds = (s: Stack, ch: TestChannel) => [...deliveredAlertIds(s.emulator, ch.discordChannelId), ...live(s, ch).filter(isIncidentCard).flatMap(memberIds)];

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('incidents in a storm (real limits, 3 webhooks)', () => {
  it('grouped P2/P3 members in a storm: each once (a storm line or on its card), the posted card edited not re-posted, a P0 member a full card with buttons within 2 s', async () => {
    stack = await startStack();
    const s = stack;
    const token = await s.source();
    const ch = await s.channel({ webhooks: 3, applicationOwned: true });
    const route = ((await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!;
    expect((await s.admin('PATCH', `/v1/admin/routes/${route.id}`, { group_wait: '1s' })).status).toBe(200);

    // Before the storm: incident "db" has its card.
    const before = (await s.post(token, { alerts: [0, 1, 2].map((i) => alert(9000 + i, { group: 'db', severity: 'P2', service: `db-${i}`, title: `Replication lag on db-${i}` })) })).body.ids as number[];
    let dbCard: EmulatedMessage | undefined;
    await waitFor('the card of incident db', () => (dbCard = live(s, ch).find((m) => isIncidentCard(m) && before.every((id) => memberIds(m).includes(id)))) !== undefined, 10_000);
    const dbIncident = incidentOf(dbCard!);

    // The storm: 300 ungrouped P3, and among them 20 P3 members of "db" (its card is up) and 20 P2/P3 of "fresh" (no card yet).
    const accepted: number[] = [...before];
    const jobs: (() => Record<string, unknown>)[] = [];
    for (let i = 0; i < 300; i++) jobs.push(() => alert(i, { severity: 'P3', service: `storage-${i % 4}`, title: `Disk usage above 90% on node-${i} in eu-west-1 (partition /var/lib/postgresql/data)` }));
    for (let i = 0; i < 20; i++) {
      jobs.splice(15 * i + 5, 0, () => alert(5000 + i, { group: 'db', severity: 'P3', service: `db-replica-${i}`, title: `Replica ${i} lagging` }));
      jobs.splice(15 * i + 10, 0, () => alert(6000 + i, { group: 'fresh', severity: i % 2 ? 'P2' : 'P3', service: `edge-${i}`, title: `Edge ${i} 5xx above 2%` }));
    }
    const started = Date.now();
    let next = 0;
    const sender = async () => {
      while (next < jobs.length) {
        const res = await s.post(token, jobs[next++]!());
        expect(res.status).toBe(202);
        accepted.push(...(res.body.ids as number[]));
      }
    };
    await Promise.all(Array.from({ length: 25 }, sender));
    expect(accepted).toHaveLength(343);

    // In storm mode; then a P0 member of "fresh": its own full card with buttons, ahead of the backlog.
    await waitFor('a compact storm message', () => live(s, ch).some(isCompact), 14_000, 10);
    expect(live(s, ch).some(isSummary)).toBe(true);
    const p0Sent = Date.now();
    const p0 = (await s.post(token, alert(6999, { group: 'fresh', severity: 'P0', service: 'payments', title: 'Payments down' })).then((r) => r.body.ids[0])) as number;
    accepted.push(p0);
    let p0Message: EmulatedMessage | undefined;
    const holdsP0 = (m: EmulatedMessage) => !isCompact(m) && (embedsOf(m).some((e) => e.footer?.text?.includes(`alert #${p0}`)) || memberIds(m).includes(p0));
    await waitFor('the P0 member on a card', () => (p0Message = live(s, ch).find(holdsP0)) !== undefined, 2000, 10);
    expect(Date.now() - p0Sent).toBeLessThan(2000);
    expect(isCompact(p0Message!)).toBe(false);
    expect(JSON.stringify(p0Message!.components)).toMatch(/herald:(incident-)?ack:/);
    expect(embedsOf(p0Message!)[0]!.title).toMatch(/^\[P0\]|Payments down/);

    // Everything visible, each alert exactly once: a storm line, an alert card, or a line of its incident's card.
    // Before the fix, the lane's backlog fell short as members left one by one: the storm ended with 13 alerts still
    // waiting, which then went one card per 2 s (over 40 s in all). Now all of it is visible in a few seconds.
    await waitFor('every alert shown', () => new Set(shownIds(s, ch)).size === accepted.length, 20_000, 50);
    expect(Date.now() - started).toBeLessThan(20_000);
    const shown = shownIds(s, ch);
    expect(shown.length).toBe(new Set(shown).size);
    expect([...shown].sort((a, b) => a - b)).toEqual([...accepted].sort((a, b) => a - b));

    // Incident "db" still has its one card, edited in place with the members that joined it in the storm.
    const dbCards = live(s, ch).filter((m) => incidentOf(m) === dbIncident);
    expect(dbCards.map((m) => m.id)).toEqual([dbCard!.id]);
    const dbMembers = (await s.admin('GET', `/v1/admin/incidents/${dbIncident}`)).body.alerts as { id: number }[];
    expect(dbMembers).toHaveLength(23);
    await waitFor('the db card lists every member', () => memberIds(s.emulator.message(dbCard!.id)!).length === 23, 10_000);
    expect(s.emulator.message(dbCard!.id)!.editedAt).toBeGreaterThan(dbCard!.createdAt);

    // Nothing Discord refused; the storm's summary card says it is over once the backlog is gone.
    expect(s.emulator.stats().byStatus['400'] ?? 0).toBe(0);
    await waitFor('the storm over', () => live(s, ch).some((m) => isSummary(m) && embedsOf(m)[0]!.title!.startsWith('Storm over')), 15_000);
    expect(live(s, ch).filter(isSummary)).toHaveLength(1);
  });
});
