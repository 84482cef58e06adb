import { afterEach, describe, expect, it } from 'vitest';
import { alerts, deadLetters, deliveries } from '../src/store/sqlite/schema.js';
import { renderDigest } from '../src/cards/digest.js';
import { computeDigest } from '../src/services/digest.js';
import { opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-03-01 09:00 UTC (10:00 in Paris). */
const T0 = Date.UTC(2026, 2, 1, 9, 0);

/**
 * A known history around the day before T0, in channel `a` (and one alert in `b`):
 *  - checkout P1 "DB down" twice: acked after 5 and 15 min, resolved after 30 and 60 min; the first grouped 3 repeats
 *  - checkout P2 "Flapping": one alert that fired 7 times (grouped repeats): the noisiest, though one row
 *  - checkout P3 "Slow": never acted on; its delivery dead-lettered at T0-5h
 *  - payments P0 "Card fail": acked after 1 min
 *  - payments P2 "Queue": fired before the range (T0-30h), resolved inside it (after 10 h)
 *  - checkout P1 "DB down" in channel b only; a muted alert; a retracted one; one at T0 (range end, excluded)
 *  - dead letters outside the range or in b
 *  - kept for the digest (outside business hours, digest-only route): checkout P3 "Disk 80%" in a only;
 *    payments P3 "Cert expiry" kept for the digest in a but posted in b
 *  - a sender's resolved with nothing to resolve (occurrences 0, stored resolved, no delivery), and a muted one:
 *    never fired, so in no count
 */
function seedHistory(s: Stack, a: TestChannel, b: TestChannel): void {
  const db = s.herald.db;
  const add = (over: Partial<typeof alerts.$inferInsert> & { service: string; severity: 'P0' | 'P1' | 'P2' | 'P3'; title: string; receivedAt: number }, channel: TestChannel | null, state: 'sent' | 'dead' | 'digest' = 'sent') => {
    const id = db.insert(alerts).values(over).returning({ id: alerts.id }).get().id;
    let deliveryId: number | null = null;
    if (channel) {
      deliveryId = db
        .insert(deliveries)
        .values({ alertId: id, channelId: channel.id, priority: 1, sortKey: over.receivedAt, availableAt: over.receivedAt, createdAt: over.receivedAt, state, sentAt: state === 'sent' ? over.receivedAt : null })
        .returning({ id: deliveries.id })
        .get().id;
    }
    return { id, deliveryId };
  };
  const r1 = T0 - 10 * HOUR;
  add({ service: 'checkout', severity: 'P1', title: 'DB down', receivedAt: r1, acknowledgedAt: r1 + 5 * MIN, resolvedAt: r1 + 30 * MIN, status: 'resolved', occurrences: 3, lastSeenAt: r1 + 20 * MIN }, a);
  const r2 = T0 - 8 * HOUR;
  add({ service: 'checkout', severity: 'P1', title: 'DB down', receivedAt: r2, acknowledgedAt: r2 + 15 * MIN, resolvedAt: r2 + 60 * MIN, status: 'resolved' }, a);
  const slow = add({ service: 'checkout', severity: 'P3', title: 'Slow', receivedAt: T0 - 6 * HOUR }, a, 'dead');
  db.insert(deadLetters).values({ deliveryId: slow.deliveryId!, reason: 'exhausted', createdAt: T0 - 5 * HOUR }).run();
  db.insert(deadLetters).values({ deliveryId: slow.deliveryId!, reason: 'old', createdAt: T0 - 25 * HOUR }).run();
  const r4 = T0 - 2 * HOUR;
  add({ service: 'payments', severity: 'P0', title: 'Card fail', receivedAt: r4, acknowledgedAt: r4 + MIN }, a);
  add({ service: 'payments', severity: 'P2', title: 'Queue', receivedAt: T0 - 30 * HOUR, resolvedAt: T0 - 20 * HOUR, status: 'resolved' }, a);
  const other = add({ service: 'checkout', severity: 'P1', title: 'DB down', receivedAt: T0 - HOUR }, b, 'dead');
  db.insert(deadLetters).values({ deliveryId: other.deliveryId!, reason: 'exhausted', createdAt: T0 - HOUR }).run();
  add({ service: 'checkout', severity: 'P2', title: 'Muted', receivedAt: T0 - 3 * HOUR, mutedByMuteId: 99 }, null);
  add({ service: 'checkout', severity: 'P1', title: 'Oops', receivedAt: T0 - 4 * HOUR, retractedAt: T0 - 4 * HOUR + MIN, retractMode: 'delete' }, a);
  add({ service: 'checkout', severity: 'P1', title: 'Later', receivedAt: T0 }, a);
  add({ service: 'checkout', severity: 'P2', title: 'Flapping', receivedAt: T0 - 9 * HOUR, occurrences: 7, lastSeenAt: T0 - 7 * HOUR }, a);
  add({ service: 'checkout', severity: 'P3', title: 'Disk 80%', receivedAt: T0 - 3 * HOUR }, a, 'digest');
  const cert = add({ service: 'payments', severity: 'P3', title: 'Cert expiry', receivedAt: T0 - 4 * HOUR }, a, 'digest');
  const rc = T0 - 4 * HOUR;
  db.insert(deliveries).values({ alertId: cert.id, channelId: b.id, priority: 3, sortKey: rc, availableAt: rc, createdAt: rc, state: 'sent', sentAt: rc }).run();
  const r9 = T0 - 7 * HOUR;
  add({ service: 'billing', severity: 'P3', title: 'Job done', receivedAt: r9, status: 'resolved', resolvedAt: r9, resolvedBy: 'scheduler', occurrences: 0 }, null);
  add({ service: 'billing', severity: 'P3', title: 'Backup done', receivedAt: r9, status: 'resolved', resolvedAt: r9, resolvedBy: 'scheduler', occurrences: 0, mutedByMuteId: 99 }, null);
}

const EXPECTED_A = {
  from: T0 - 24 * HOUR,
  to: T0,
  totals: { fired: 7, acknowledged: 3, resolved: 3 },
  by_service: [
    { service: 'checkout', severity: 'P1', fired: 2, acknowledged: 2, resolved: 2 },
    { service: 'checkout', severity: 'P2', fired: 1, acknowledged: 0, resolved: 0 },
    { service: 'checkout', severity: 'P3', fired: 2, acknowledged: 0, resolved: 0 },
    { service: 'payments', severity: 'P0', fired: 1, acknowledged: 1, resolved: 0 },
    { service: 'payments', severity: 'P2', fired: 0, acknowledged: 0, resolved: 1 },
    { service: 'payments', severity: 'P3', fired: 1, acknowledged: 0, resolved: 0 },
  ],
  // (5 + 15 + 1) / 3 minutes; (30 + 60 + 600) / 3 minutes.
  mtta_ms: 7 * MIN,
  mttr_ms: 230 * MIN,
  // By occurrences: "Flapping" (one alert, 7 times) before "DB down" (two alerts, 3 + 1); ties by service and title; top five.
  noisiest: [
    { service: 'checkout', title: 'Flapping', count: 7 },
    { service: 'checkout', title: 'DB down', count: 4 },
    { service: 'checkout', title: 'Disk 80%', count: 1 },
    { service: 'checkout', title: 'Slow', count: 1 },
    { service: 'payments', title: 'Card fail', count: 1 },
  ],
  muted: 1,
  // "Disk 80%" and "Cert expiry": neither was posted in a.
  digest_only: 2,
  dead_letters: 1,
};

type Embed = { title: string; description: string; fields?: { name: string; value: string }[]; footer?: { text: string } };
const digestsIn = (s: Stack, ch: TestChannel) => s.emulator.messages(ch.discordChannelId).filter((m) => (m.embeds as Embed[])[0]?.footer?.text === 'Herald · daily digest');

describe('daily digest', () => {
  it('computes exact numbers over a known history, per channel and overall', async () => {
    stack = await startStack(FAST);
    const a = await stack.channel({ webhooks: 1, name: 'alerts-a' });
    const b = await stack.channel({ webhooks: 1, name: 'alerts-b' });
    seedHistory(stack, a, b);
    expect(computeDigest(stack.herald.db, { from: T0 - 24 * HOUR, to: T0, channelId: a.id })).toEqual({ ...EXPECTED_A, channel_id: a.id });

    // Overall: b's "DB down" counts too, "Cert expiry" once; the two resolved-with-nothing-to-resolve (occurrences 0)
    // are in no count (fired, resolved, MTTR, by service, noisiest, muted).
    const all = computeDigest(stack.herald.db, { from: T0 - 24 * HOUR, to: T0 });
    expect(all.totals).toEqual({ fired: 8, acknowledged: 3, resolved: 3 });
    expect(all.by_service.map((r) => r.service)).not.toContain('billing');
    expect(all.mttr_ms).toBe(230 * MIN);
    expect(all.noisiest.slice(0, 2)).toEqual([
      { service: 'checkout', title: 'Flapping', count: 7 },
      { service: 'checkout', title: 'DB down', count: 5 },
    ]);
    expect(all.muted).toBe(1);
    // "Cert expiry" was posted in b: only "Disk 80%" was kept for the digest everywhere.
    expect(all.digest_only).toBe(1);
    expect(all.dead_letters).toBe(2);
    expect(computeDigest(stack.herald.db, { from: T0 - 24 * HOUR, to: T0, channelId: b.id })).toMatchObject({ totals: { fired: 2, acknowledged: 0, resolved: 0 }, digest_only: 0 });

    const empty = computeDigest(stack.herald.db, { from: T0 + HOUR, to: T0 + 2 * HOUR, channelId: a.id });
    expect(empty).toMatchObject({ totals: { fired: 0, acknowledged: 0, resolved: 0 }, by_service: [], mtta_ms: null, mttr_ms: null, noisiest: [], muted: 0, digest_only: 0, dead_letters: 0 });
    expect(renderDigest(empty, { timezone: 'UTC', username: 'Herald' }).embeds[0]!.description).toMatch(/^No alerts in this period\./);
    expect(renderDigest(empty, { timezone: 'UTC', username: 'Herald' }).embeds[0]!.description).not.toContain('Kept for this digest');

    // The admin API's preview gives the same report.
    const preview = await stack.admin('GET', `/v1/admin/channels/${a.id}/digest/report?from=${T0 - 24 * HOUR}&to=${T0}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({ ...EXPECTED_A, channel_id: a.id });
  });

  it('is set per channel (time, time zone), scheduled with node-cron, and posted through the outbox as a silent digest message', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_DIGEST_TIME: '08:15', HERALD_DIGEST_TIMEZONE: 'UTC' } });
    const a = await stack.channel({ webhooks: 1, name: 'alerts-a' });
    const b = await stack.channel({ webhooks: 1, name: 'alerts-b' });
    seedHistory(stack, a, b);
    await stack.herald.digests.start();

    expect((await stack.admin('GET', `/v1/admin/channels/${a.id}/digest`)).body).toEqual({ channel_id: a.id, enabled: false, time: '08:15', timezone: 'UTC', last_sent_at: null });
    expect((await stack.admin('PUT', `/v1/admin/channels/${a.id}/digest`, { time: '25:00' })).status).toBe(400);
    expect((await stack.admin('PUT', `/v1/admin/channels/${a.id}/digest`, { timezone: 'Mars/Olympus' })).status).toBe(400);
    const set = await stack.admin('PUT', `/v1/admin/channels/${a.id}/digest`, { time: '09:30', timezone: 'Europe/Paris' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ enabled: true, time: '09:30', timezone: 'Europe/Paris' });
    const defaults = await stack.admin('PUT', `/v1/admin/channels/${b.id}/digest`, {});
    expect(defaults.body).toMatchObject({ time: '08:15', timezone: 'UTC' });

    const jobs = stack.herald.digests.describe().sort((x, y) => x.channel_id - y.channel_id);
    expect(jobs.map((j) => [j.channel_id, j.pattern, j.timezone])).toEqual([
      [a.id, '30 9 * * *', 'Europe/Paris'],
      [b.id, '15 8 * * *', 'UTC'],
    ]);
    // The next run is at 09:30 in Paris.
    const next = new Date(jobs[0]!.next_run_at!);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next)).toBe('09:30');
    expect(jobs[0]!.next_run_at! - Date.now()).toBeLessThanOrEqual(24 * HOUR);

    // Posted now, for the known range: the report, then the message in the channel.
    const sent = await stack.admin('POST', `/v1/admin/channels/${a.id}/digest/send`, { from: T0 - 24 * HOUR, to: T0 });
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ ...EXPECTED_A, channel_id: a.id });
    await waitFor('the digest in the channel', () => digestsIn(stack!, a).length === 1, 5000);
    const m = digestsIn(stack, a)[0]!;
    expect(m.flags & 4096).toBe(4096);
    expect(m.allowedMentions).toEqual({ parse: [] });
    expect(m.components).toEqual([]);
    const e = (m.embeds as Embed[])[0]!;
    expect(e.title).toBe('Daily digest · #alerts-a · 2026-02-28 10:00 → 2026-03-01 10:00 (Europe/Paris)');
    expect(e.description).toBe(
      '**7** fired · **3** acknowledged · **3** resolved\nMTTA **7 min** · MTTR **3 h 50 min**\nMuted **1** (all channels) · Dead letters **1**\nKept for this digest (outside business hours) **2**',
    );
    expect(e.fields).toEqual([
      {
        name: 'By service and severity (fired / acknowledged / resolved)',
        value: 'checkout · P1: 2 / 2 / 2\ncheckout · P2: 1 / 0 / 0\ncheckout · P3: 2 / 0 / 0\npayments · P0: 1 / 1 / 0\npayments · P2: 0 / 0 / 1\npayments · P3: 1 / 0 / 0',
      },
      { name: 'Noisiest alerts', value: '7× checkout: Flapping\n4× checkout: DB down\n1× checkout: Disk 80%\n1× checkout: Slow\n1× payments: Card fail' },
    ]);

    // The cron task's body: posts the last 24 hours, then not again within the hour (a second firing).
    stack.herald.digests.fire(a.id, T0 + 3 * HOUR);
    await waitFor('the scheduled digest', () => digestsIn(stack!, a).length === 2, 5000);
    stack.herald.digests.fire(a.id, T0 + 3 * HOUR + MIN);
    await new Promise((r) => setTimeout(r, 200));
    expect(digestsIn(stack, a)).toHaveLength(2);
    expect((await stack.admin('GET', `/v1/admin/channels/${a.id}/digest`)).body.last_sent_at).toBe(T0 + 3 * HOUR);
    expect(digestsIn(stack, b)).toHaveLength(0);

    expect((await stack.admin('DELETE', `/v1/admin/channels/${b.id}/digest`)).status).toBe(204);
    expect(stack.herald.digests.describe().map((j) => j.channel_id)).toEqual([a.id]);
    const doc = (await stack.admin('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/admin/channels/{id}/digest', '/v1/admin/channels/{id}/digest/report', '/v1/admin/channels/{id}/digest/send']));
  });
});

describe('/digest set|off|show|send', () => {
  let s: BotStack | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('sets, shows, posts and stops a channel digest; refuses bad input and plain members', async () => {
    s = await startBotStack(FAST);
    const ch = await s.channel({ webhooks: 1 });
    const run = (userId: string, ...options: ReturnType<typeof opt>[]) => s!.emulator.runCommand({ userId, channelId: ch.discordChannelId, name: 'digest', options });

    // Discord hides /digest from people without Manage Server; opened to everyone here so Herald's own check is what refuses.
    s.emulator.setCommandPermissions({ name: 'digest', permissions: [{ id: s.emulator.guildId, type: 1, permission: true }] });
    const refused = await run(s.member.id, sub('set', opt('time', T.STRING, '09:00')));
    expect(refused).toMatchObject({ ephemeral: true });
    expect(refused.content).toMatch(/You need the Manage Server permission to use \/digest set/);

    const bad = await run(s.admin_.id, sub('set', opt('time', T.STRING, '9h')));
    expect(bad).toMatchObject({ ephemeral: true });
    expect(bad.content).toMatch(/time: a time as HH:MM/);
    const badTz = await run(s.admin_.id, sub('set', opt('timezone', T.STRING, 'Nowhere/Else')));
    expect(badTz.content).toMatch(/timezone: an IANA time zone/);

    const set = await run(s.admin_.id, sub('set', opt('time', T.STRING, '18:45'), opt('timezone', T.STRING, 'America/New_York')));
    expect(set.content).toBe(`The daily digest of <#${ch.discordChannelId}> is posted there at 18:45 (America/New_York).`);

    const shown = await run(s.admin_.id, sub('show'));
    expect(shown.ephemeral).toBe(true);
    expect(shown.content).toMatch(/posted daily at 18:45 \(America\/New_York\)\.\nLast 24 hours: 0 fired, 0 acknowledged, 0 resolved; MTTA —, MTTR —; 0 muted \(all channels\); 0 dead letters\./);

    const sent = await run(s.admin_.id, sub('send'));
    expect(sent.content).toMatch(/Digest queued/);
    await waitFor('the digest posted', () => digestsIn(s!, ch).length === 1, 5000);

    expect((await run(s.admin_.id, sub('off'))).content).toBe(`Daily digest of <#${ch.discordChannelId}> stopped.`);
    expect((await run(s.admin_.id, sub('off'))).content).toMatch(/has no daily digest/);
  });
});

describe('digest configuration', () => {
  it('refuses a bad default time or time zone with a plain sentence', async () => {
    const { loadConfig } = await import('../src/config.js');
    const r = loadConfig({ HERALD_DIGEST_TIME: '9am', HERALD_DIGEST_TIMEZONE: 'Europe/Atlantis', HERALD_ESCALATION_POLL_MS: '1' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? '' : r.problems.join('\n');
    expect(problems).toMatch(/HERALD_DIGEST_TIME must be a time as HH:MM/);
    expect(problems).toMatch(/HERALD_DIGEST_TIMEZONE must be an IANA time zone/);
    expect(problems).toMatch(/HERALD_ESCALATION_POLL_MS must be a whole number from 10 to 600000/);
  });
});

describe('digest rendering', () => {
  it('stays within Discord limits with hundreds of services, cutting whole lines and saying how many are left out', async () => {
    const { embedLength, MESSAGE_LIMITS } = await import('../src/discord/limits.js');
    const by_service = Array.from({ length: 300 }, (_, i) => ({ service: `service-${String(i).padStart(3, '0')}-${'x'.repeat(40)}`, severity: 'P2' as const, fired: i, acknowledged: 0, resolved: 0 }));
    const noisiest = Array.from({ length: 5 }, (_, i) => ({ service: 's'.repeat(300), title: 't'.repeat(3000), count: 10 - i }));
    const msg = renderDigest(
      { from: 0, to: 86_400_000, channel_id: 1, totals: { fired: 1, acknowledged: 0, resolved: 0 }, by_service, mtta_ms: null, mttr_ms: null, noisiest, muted: 0, digest_only: 0, dead_letters: 0 },
      { timezone: 'UTC', username: 'Herald', channelName: 'c'.repeat(300) },
    );
    const e = msg.embeds[0]!;
    expect(e.title!.length).toBeLessThanOrEqual(MESSAGE_LIMITS.embedTitle);
    for (const f of e.fields!) expect(f.value.length).toBeLessThanOrEqual(MESSAGE_LIMITS.fieldValue);
    expect(embedLength(e)).toBeLessThanOrEqual(MESSAGE_LIMITS.embedsTotal);
    expect(e.fields![0]!.value).toMatch(/\n…and \d+ more$/);
    const shown = e.fields![0]!.value.split('\n').length - 1;
    expect(e.fields![0]!.value).toMatch(new RegExp(`…and ${300 - shown} more$`));
  });
});

describe('the digest shows sender text as text (issue 8 §5)', () => {
  it('escapes services and titles, and a channel name, in every line they appear', () => {
    const report = {
      from: T0 - 24 * HOUR,
      to: T0,
      channel_id: 1,
      totals: { fired: 1, acknowledged: 0, resolved: 0 },
      by_service: [{ service: '**pay**\u202Ements', severity: 'P1' as const, fired: 1, acknowledged: 0, resolved: 0 }],
      mtta_ms: null,
      mttr_ms: null,
      noisiest: [{ service: '**pay**\u202Ements', title: '[Grafana](https://evil.example/) @everyone <@&1>', count: 1 }],
      muted: 0,
      digest_only: 0,
      dead_letters: 0,
    };
    const e = renderDigest(report, { timezone: 'UTC', username: 'Herald', channelName: 'ops_*team*' }).embeds[0]!;
    expect(e.title).toBe('Daily digest · #ops\\_\\*team\\* · 2026-02-28 09:00 → 2026-03-01 09:00 (UTC)');
    expect(e.fields).toEqual([
      { name: 'By service and severity (fired / acknowledged / resolved)', value: '\\*\\*pay\\*\\*ments · P1: 1 / 0 / 0' },
      { name: 'Noisiest alerts', value: '1× \\*\\*pay\\*\\*ments: Grafana (<https://evil.example/>) @\u200Beveryone \\<@&1>' },
    ]);
  });
});
