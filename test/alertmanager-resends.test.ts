import { afterEach, describe, expect, it } from 'vitest';
import { convertBody } from '../src/domain/adapters/index.js';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { dedupStage, sameFiring, type AlertLookup } from '../src/pipeline/dedup-stage.js';
import type { PlannedAlert } from '../src/pipeline/types.js';
import type { LatestRow } from '../src/store/alerts.js';
import { deliveredAlertIds, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

const HOUR = 3_600_000;

/** The dedup stage over one stored alert (a fake lookup: the stage is a pure decision). */
async function decide(stored: Partial<LatestRow> | undefined, incoming: { firing_started_at?: number; severity?: 'P0' | 'P1' | 'P2' | 'P3' }, receivedAt = 10 * HOUR) {
  const latest: LatestRow | undefined = stored && {
    id: 7,
    status: 'firing',
    severity: 'P2',
    resolvedAt: null,
    mutedBy: null,
    occurrences: 1,
    firingStartedAt: null,
    resolvedByPerson: 0,
    ...stored,
  };
  const lookup: AlertLookup = { latest: async () => latest, open: async () => [], openWithKey: async () => undefined };
  const a: PlannedAlert = {
    input: { service: 's', severity: incoming.severity ?? 'P2', title: 't', status: 'firing', dedup_key: 'fp', ...(incoming.firing_started_at === undefined ? {} : { firing_started_at: incoming.firing_started_at }) },
    sourceId: 1,
    receivedAt,
    channels: [1],
    routeIds: [],
    unrouted: false,
    mutedBy: null,
  };
  return (await dedupStage(HOUR)([a], { alerts: lookup }))[0]!.grouping;
}

describe('the dedup stage and firing starts (pure)', () => {
  const START = 1_000;
  it('sameFiring: only when both have a start and it is the same', () => {
    expect(sameFiring(START, START)).toBe(true);
    expect(sameFiring(START, START + 1)).toBe(false);
    expect(sameFiring(null, START)).toBe(false);
    expect(sameFiring(START, undefined)).toBe(false);
    expect(sameFiring(null, undefined)).toBe(false);
  });

  it("the Alertmanager adapter carries startsAt as the firing's start (no start for year 1); other formats carry none", () => {
    const start = (startsAt: string) => {
      const r = convertBody('alertmanager', am(startsAt));
      return r.ok ? r.conversion.alerts[0]!.input.firing_started_at : 'invalid';
    };
    expect(start('2026-11-24T20:41:00.500Z')).toBe(Date.parse('2026-11-24T20:41:00.500Z'));
    expect(start('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(start('not a time')).toBeUndefined();
    const pd = convertBody('pagerduty', { event_action: 'trigger', payload: { summary: 's', source: 'h', severity: 'info' } });
    expect(pd.ok && 'firing_started_at' in pd.conversion.alerts[0]!.input).toBe(false);
  });

  it('a re-send of the same firing of a firing alert folds in (a repeat, not reopened)', async () => {
    expect(await decide({ firingStartedAt: START }, { firing_started_at: START })).toEqual({ kind: 'repeat', alertId: 7, reopen: false, raised: false });
  });

  it('a re-send of the same firing never reopens what a person resolved, inside or beyond the reopen window, and posts nothing even when raised', async () => {
    const personResolved = { status: 'resolved' as const, resolvedAt: 10 * HOUR - 60_000, firingStartedAt: START, resolvedByPerson: 1 as const };
    expect(await decide(personResolved, { firing_started_at: START })).toEqual({ kind: 'repeat', alertId: 7, reopen: false, raised: false });
    expect(await decide(personResolved, { firing_started_at: START, severity: 'P0' })).toEqual({ kind: 'repeat', alertId: 7, reopen: false, raised: false });
    // Beyond the window: still the same firing, folded in, not a new alert.
    expect(await decide(personResolved, { firing_started_at: START }, 10 * HOUR + 5 * HOUR)).toEqual({ kind: 'repeat', alertId: 7, reopen: false, raised: false });
  });

  it('a new firing (another start) reopens within the window, and is a new alert beyond it', async () => {
    const personResolved = { status: 'resolved' as const, resolvedAt: 10 * HOUR - 60_000, firingStartedAt: START, resolvedByPerson: 1 as const };
    expect(await decide(personResolved, { firing_started_at: START + 5 })).toEqual({ kind: 'repeat', alertId: 7, reopen: true, raised: false });
    expect(await decide(personResolved, { firing_started_at: START + 5 }, 12 * HOUR)).toEqual({ kind: 'new' });
  });

  it('resolved by its sender or the stale sweep, the same firing reopens as before (the sender says it still fires)', async () => {
    const senderResolved = { status: 'resolved' as const, resolvedAt: 10 * HOUR - 60_000, firingStartedAt: START, resolvedByPerson: 0 as const };
    expect(await decide(senderResolved, { firing_started_at: START })).toEqual({ kind: 'repeat', alertId: 7, reopen: true, raised: false });
  });

  it('senders without a firing start behave as before: a person-resolved alert reopens within the window', async () => {
    const personResolved = { status: 'resolved' as const, resolvedAt: 10 * HOUR - 60_000, resolvedByPerson: 0 as const };
    expect(await decide(personResolved, {})).toEqual({ kind: 'repeat', alertId: 7, reopen: true, raised: false });
    expect(await decide({}, { severity: 'P1' })).toEqual({ kind: 'repeat', alertId: 7, reopen: false, raised: true });
  });
});

type Embed = { title?: string; fields?: { name: string; value: string }[]; footer?: { text: string } };
const live = (s: Stack, ch: TestChannel) => s.emulator.messages(ch.discordChannelId).filter((m) => !m.deleted);
const embedOf = (m: EmulatedMessage, id: number) => (m.embeds as Embed[]).find((e) => e.footer?.text?.includes(`alert #${id}`))!;
const field = (e: Embed, name: string) => e.fields?.find((f) => f.name === name)?.value;

/** Alertmanager's webhook v4 with one alert, as it sends it every repeat_interval. */
function am(startsAt: string, status: 'firing' | 'resolved' = 'firing') {
  return {
    version: '4',
    groupKey: '{}:{alertname="DiskFull"}',
    status,
    receiver: 'herald',
    groupLabels: { alertname: 'DiskFull' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
    alerts: [
      {
        status,
        labels: { alertname: 'DiskFull', service: 'db', severity: 'warning', instance: 'db-1' },
        annotations: { summary: 'disk / on db-1 is 97% full' },
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: 'd15cf0011',
      },
    ],
  };
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("Alertmanager's re-sends, end to end", () => {
  it("a person's Resolve survives re-sends of the same firing; a firing with a new startsAt reopens; re-sends never raise 'Fired N times'", async () => {
    stack = await startStack(FAST);
    const s = stack;
    const created = await s.admin('POST', '/v1/admin/sources', { name: 'alertmanager', format: 'alertmanager' });
    const token = created.body.token as string;
    const ch = await s.channel({ webhooks: 1, applicationOwned: true });
    const detail = async (id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;
    const card = () => embedOf(live(s, ch)[0]!, id);

    const first = await s.post(token, am('2026-11-24T20:41:00Z'));
    expect(first.status).toBe(202);
    const id = first.body.ids[0] as number;
    await waitFor('the card is posted', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id));
    expect(await detail(id)).toMatchObject({ occurrences: 1, firing_started_at: Date.parse('2026-11-24T20:41:00Z'), last_seen_at: null });

    // Two repeat_interval re-sends of the same firing: notifications, not firings.
    for (let i = 0; i < 2; i++) expect((await s.post(token, am('2026-11-24T20:41:00Z'))).body.ids).toEqual([id]);
    const notified = await detail(id);
    expect(notified).toMatchObject({ occurrences: 1, status: 'firing', last_seen_at: expect.any(Number) });
    await waitFor('the card says when it last notified, and not that it fired again', () => /^once · last notified <t:\d+:R>$/.test(field(card(), 'Fired') ?? ''));

    // A person resolves it through the admin API.
    const resolved = await s.admin('POST', `/v1/admin/alerts/${id}/resolve`, { by: 'ops-alice' });
    expect(resolved.status).toBe(200);
    await waitFor('the card shows the resolve', () => card().title?.startsWith('[RESOLVED]') === true);

    // Alertmanager's next repeat of the same firing: the alert stays resolved, by that person.
    expect((await s.post(token, am('2026-11-24T20:41:00Z'))).body.ids).toEqual([id]);
    const after = await detail(id);
    expect(after).toMatchObject({ status: 'resolved', resolved_by: 'ops-alice', occurrences: 1, reopened_at: null });
    expect(after.last_seen_at).toBeGreaterThanOrEqual(notified.last_seen_at);
    await waitFor('the card, still resolved, says it was notified again', () => {
      const e = card();
      return e.title?.startsWith('[RESOLVED]') === true && /^once · last notified/.test(field(e, 'Fired') ?? '');
    });
    expect(live(s, ch)).toHaveLength(1);

    // A new firing (a new startsAt): it reopens, and counts.
    expect((await s.post(token, am('2026-11-25T08:00:00Z'))).body.ids).toEqual([id]);
    expect(await detail(id)).toMatchObject({ status: 'firing', occurrences: 2, reopened_at: expect.any(Number), resolved_by: null, firing_started_at: Date.parse('2026-11-25T08:00:00Z') });
    await waitFor('the card fires again, 2 times', () => {
      const e = card();
      return e.title?.startsWith('[P2]') === true && /^2 times · first <t:\d+:f> · last <t:\d+:R> · last notified <t:\d+:R>$/.test(field(e, 'Fired') ?? '');
    });
    // And its re-sends do not count either.
    expect((await s.post(token, am('2026-11-25T08:00:00Z'))).body.ids).toEqual([id]);
    expect((await detail(id)).occurrences).toBe(2);
    expect(live(s, ch)).toHaveLength(1);

    // The start is shown as a Discord timestamp.
    expect(field(card(), 'Started')).toMatch(/^<t:\d+:f> \(<t:\d+:R>\)$/);
  });

  it("Alertmanager's own resolve, then the same firing again, reopens (the sender says it still fires); native repeats still count", async () => {
    stack = await startStack(FAST);
    const s = stack;
    const token = (await s.admin('POST', '/v1/admin/sources', { name: 'am2', format: 'alertmanager' })).body.token as string;
    await s.channel({ webhooks: 1 });
    const id = (await s.post(token, am('2026-11-24T20:41:00Z'))).body.ids[0] as number;
    expect((await s.post(token, am('2026-11-24T20:41:00Z', 'resolved'))).status).toBe(202);
    expect((await s.admin('GET', `/v1/admin/alerts/${id}`)).body.status).toBe('resolved');
    expect((await s.post(token, am('2026-11-24T20:41:00Z'))).body.ids).toEqual([id]);
    expect((await s.admin('GET', `/v1/admin/alerts/${id}`)).body).toMatchObject({ status: 'firing', occurrences: 1, reopened_at: expect.any(Number) });

    const native = await s.source();
    const body = { service: 'api', severity: 'P2', title: 'slow', dedup_key: 'slow-api' };
    const nid = (await s.post(native, body)).body.ids[0] as number;
    await s.post(native, body);
    expect((await s.admin('GET', `/v1/admin/alerts/${nid}`)).body).toMatchObject({ occurrences: 2, firing_started_at: null });
  });
});
