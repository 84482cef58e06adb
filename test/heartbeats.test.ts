import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatedMessage } from '../src/emulator/index.js';
import { signedHeaders } from '../src/domain/signatures.js';
import { heartbeatKey } from '../src/services/heartbeats.js';
import { alert, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

/** Fast limits, a heartbeat runner that looks every 50 ms, and a stale sweep at every pass. */
const ENV = { ...FAST.env, HERALD_HEARTBEAT_POLL_MS: '50', HERALD_AUTO_RESOLVE_SWEEP_MS: '50' };
const MIN = 60_000;
const HOUR = 60 * MIN;

/** The wall clock Herald judges heartbeats and staleness by: tests move it forward instead of waiting. */
function movableClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms) };
}

let stacks: Stack[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) await c();
});

async function start(opts: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const s = await startStack({ ...FAST, env: ENV, ...opts });
  stacks.push(s);
  return s;
}

async function sourceWithToken(s: Stack, name: string): Promise<{ id: number; token: string }> {
  const token = await s.source(name);
  const id = ((await s.admin('GET', '/v1/admin/sources')).body as { id: number; name: string }[]).find((x) => x.name === name)!.id;
  return { id, token };
}

const beat = (s: Stack, token: string | undefined, name: string) =>
  fetch(`${s.url}/v1/heartbeats/${encodeURIComponent(name)}`, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }).then(
    async (r) => ({ status: r.status, body: (await r.json()) as any }),
  );

const cards = (s: Stack | Emulator, ch: TestChannel, alertId: number): EmulatedMessage[] =>
  ('emulator' in s ? s.emulator : s).messages(ch.discordChannelId).filter((m) => !m.deleted && JSON.stringify(m.embeds).includes(`alert #${alertId}`));
const titleOf = (m: EmulatedMessage) => (m.embeds as { title?: string }[])[0]?.title ?? '';
const heartbeatsOf = async (s: Stack) => (await s.admin('GET', '/v1/admin/heartbeats')).body as any[];

describe('heartbeats', () => {
  it('declare → beat → miss raises an alert in the channel → the next beat resolves its card', async () => {
    const clock = movableClock();
    const s = await start({ clock: clock.now });
    const src = await sourceWithToken(s, 'backups');
    const ch = await s.channel();

    const declared = await s.admin('POST', '/v1/admin/heartbeats', { source_id: src.id, name: 'nightly-backup', interval: '5m', grace: '1m', severity: 'P1', service: 'backup' });
    expect(declared.status).toBe(201);
    expect(declared.body).toMatchObject({ name: 'nightly-backup', source_name: 'backups', interval_ms: 5 * MIN, grace_ms: MIN, severity: 'P1', service: 'backup', state: 'ok', last_beat_at: null, alert_id: null });

    const first = await beat(s, src.token, 'nightly-backup');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ name: 'nightly-backup', state: 'ok', resolved_alert_id: null });
    expect(first.body.due_at).toBe(first.body.last_beat_at + 6 * MIN);

    // 7 minutes without a beat: past interval + grace.
    clock.advance(7 * MIN);
    await waitFor('the missed heartbeat', async () => (await heartbeatsOf(s))[0]?.state === 'missed', 10_000);
    const alertId = (await heartbeatsOf(s))[0].alert_id as number;
    await waitFor('its alert posted in the channel', () => cards(s, ch, alertId).length === 1, 10_000);
    expect(titleOf(cards(s, ch, alertId)[0]!)).toBe('[P1] no heartbeat from nightly-backup for 7 min');
    const raised = (await s.admin('GET', `/v1/admin/alerts/${alertId}`)).body;
    expect(raised).toMatchObject({ source_id: src.id, service: 'backup', severity: 'P1', status: 'firing', dedup_key: 'heartbeat:nightly-backup', labels: { heartbeat: 'nightly-backup' } });

    const back = await beat(s, src.token, 'nightly-backup');
    expect(back.status).toBe(202);
    expect(back.body.resolved_alert_id).toBe(alertId);
    // Resolved before the 202, as its sender (the source): the card is edited, nothing new is posted.
    expect((await s.admin('GET', `/v1/admin/alerts/${alertId}`)).body).toMatchObject({ status: 'resolved', resolved_by: 'backups' });
    await waitFor('the card edited to resolved', () => titleOf(cards(s, ch, alertId)[0]!).startsWith('[RESOLVED]'), 10_000);
    expect(cards(s, ch, alertId)).toHaveLength(1);
    expect((await heartbeatsOf(s))[0]).toMatchObject({ state: 'ok', alert_id: null });
  });

  it('answers 401, 404, 409 and 400 as documented', async () => {
    const s = await start();
    const src = await sourceWithToken(s, 'jobs');
    const other = await sourceWithToken(s, 'other');
    const hb = { source_id: src.id, name: 'hourly', interval: '1h' };
    expect((await s.admin('POST', '/v1/admin/heartbeats', hb)).status).toBe(201);

    const dup = await s.admin('POST', '/v1/admin/heartbeats', hb);
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain('already has a heartbeat named "hourly"');
    // The same name for another source is another heartbeat.
    expect((await s.admin('POST', '/v1/admin/heartbeats', { ...hb, source_id: other.id })).status).toBe(201);

    const unknownSource = await s.admin('POST', '/v1/admin/heartbeats', { ...hb, source_id: 9999 });
    expect(unknownSource.status).toBe(404);
    expect(unknownSource.body.message).toBe('no source with id 9999');
    const tooShort = await s.admin('POST', '/v1/admin/heartbeats', { ...hb, name: 'fast', interval: '5s' });
    expect(tooShort.status).toBe(400);
    expect(tooShort.body.problems).toEqual([{ path: 'interval', message: 'the interval is at least 10 s (got 5 s)' }]);
    const negative = await s.admin('POST', '/v1/admin/heartbeats', { ...hb, name: 'neg', grace: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.problems[0].path).toBe('grace');
    const garbled = await s.admin('POST', '/v1/admin/heartbeats', { ...hb, name: 'bad', interval: 'soon' });
    expect(garbled.status).toBe(400);
    expect(garbled.body.problems[0]).toMatchObject({ path: 'interval' });

    expect((await beat(s, undefined, 'hourly')).status).toBe(401);
    expect((await beat(s, 'not-a-token', 'hourly')).body).toMatchObject({ error: 'unauthorized' });
    const unknown = await beat(s, src.token, 'weekly');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('no heartbeat named "weekly" for this source');
    expect((await beat(s, src.token, 'hourly')).status).toBe(202);

    const listed = await heartbeatsOf(s);
    expect(listed.map((h) => [h.source_name, h.name])).toEqual([['jobs', 'hourly'], ['other', 'hourly']]);
    expect(listed[0].last_beat_at).not.toBeNull();
    expect(listed[1].last_beat_at).toBeNull();
    expect(((await s.admin('GET', `/v1/admin/heartbeats?source_id=${other.id}`)).body as any[]).map((h) => h.source_id)).toEqual([other.id]);
    expect((await s.admin('DELETE', `/v1/admin/heartbeats/${listed[1].id}`)).status).toBe(204);
    expect((await s.admin('DELETE', `/v1/admin/heartbeats/${listed[1].id}`)).status).toBe(404);
    expect((await beat(s, other.token, 'hourly')).status).toBe(404);
  });

  it('a source with signing secrets must sign its beats (over the empty body)', async () => {
    const s = await start();
    const src = await sourceWithToken(s, 'signed');
    const secret = (await s.admin('POST', `/v1/admin/sources/${src.id}/secrets`, {})).body.secret as string;
    expect((await s.admin('POST', '/v1/admin/heartbeats', { source_id: src.id, name: 'signed-job', interval: '1h' })).status).toBe(201);
    const unsigned = await beat(s, src.token, 'signed-job');
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toBe('bad_signature');
    const res = await fetch(`${s.url}/v1/heartbeats/signed-job`, { method: 'POST', headers: { authorization: `Bearer ${src.token}`, ...signedHeaders([secret], 'msg-1', '') } });
    expect(res.status).toBe(202);
  });

  it("throttles token guessing on the heartbeat route like on the alert hook (one throttle for both)", async () => {
    const s = await start({ env: { ...ENV, HERALD_AUTH_FAILURE_LIMIT: '3' } });
    for (let i = 0; i < 2; i++) expect((await beat(s, `guess-${i}`, 'x')).status).toBe(401);
    expect((await s.post('guess-2', alert(1))).status).toBe(401);
    expect((await beat(s, 'guess-3', 'x')).status).toBe(429);
  });

  it("a job scheduler's on_success is the beat of the heartbeat named like the job", async () => {
    const clock = movableClock();
    const s = await start({ clock: clock.now });
    const src = await sourceWithToken(s, 'scheduler');
    const ch = await s.channel();
    expect((await s.admin('POST', '/v1/admin/heartbeats', { source_id: src.id, name: 'ImportOrders', interval: '1h', grace: '10m' })).status).toBe(201);
    clock.advance(71 * MIN);
    await waitFor('the job heartbeat missed', async () => (await heartbeatsOf(s))[0]?.state === 'missed', 10_000);
    const alertId = (await heartbeatsOf(s))[0].alert_id as number;
    await waitFor('its alert posted', () => cards(s, ch, alertId).length === 1, 10_000);

    const res = await fetch(`${s.url}/v1/alerts?format=jobs&event=on_success`, {
      method: 'POST',
      headers: { authorization: `Bearer ${src.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ImportOrders', status: 0 }),
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { heartbeats?: string[] }).heartbeats).toEqual(['ImportOrders']);
    expect((await heartbeatsOf(s))[0]).toMatchObject({ state: 'ok', alert_id: null });
    await waitFor('the card resolved', () => titleOf(cards(s, ch, alertId)[0]!).startsWith('[RESOLVED]'), 10_000);
    // Another job's success beats nothing.
    const other = await fetch(`${s.url}/v1/alerts?format=jobs&event=on_success`, {
      method: 'POST',
      headers: { authorization: `Bearer ${src.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'SomethingElse', status: 0 }),
    });
    expect(((await other.json()) as { heartbeats?: string[] }).heartbeats).toBeUndefined();
  });
});

describe('heartbeats across a restart (the same database file)', () => {
  it('raises no false alert for a beat committed before the stop, raises a miss during the downtime once, and never raises a miss twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-hb-'));
    const emulator = await startEmulator(FAST.emulator);
    cleanups.push(() => emulator.close(), () => rmSync(dir, { recursive: true, force: true }));
    const clock = movableClock();
    const first = await start({ dir, emulatorInstance: emulator, clock: clock.now });
    const src = await sourceWithToken(first, 'cron');
    const ch = await first.channel();
    const declare = (s: Stack, name: string, interval: string) => s.admin('POST', '/v1/admin/heartbeats', { source_id: src.id, name, interval });
    expect((await declare(first, 'already', '10s')).status).toBe(201);
    expect((await declare(first, 'beaten', '30m')).status).toBe(201);
    expect((await declare(first, 'down', '10m')).status).toBe(201);

    // "already" misses while the first Herald runs.
    clock.advance(MIN);
    await waitFor('"already" missed', async () => (await heartbeatsOf(first)).find((h) => h.name === 'already')?.state === 'missed', 10_000);
    const alreadyId = (await heartbeatsOf(first)).find((h) => h.name === 'already').alert_id as number;
    await waitFor('its alert posted', () => cards(emulator, ch, alreadyId).length === 1, 10_000);
    // Beats answered just before the stop: "beaten" is due 30 minutes later, "down" 10.
    expect((await beat(first, src.token, 'beaten')).status).toBe(202);
    expect((await beat(first, src.token, 'down')).status).toBe(202);
    await first.close();
    stacks = stacks.filter((x) => x !== first);

    // Down for 11 minutes: "down" falls due meanwhile, "beaten" does not.
    clock.advance(11 * MIN);
    const second = await start({ dir, emulatorInstance: emulator, clock: clock.now });
    // A canary declared now and then late says when the runner has judged everything due.
    expect((await declare(second, 'canary', '10s')).status).toBe(201);
    clock.advance(MIN);
    await waitFor('the canary raised', async () => (await heartbeatsOf(second)).find((h) => h.name === 'canary')?.state === 'missed', 10_000);
    await waitFor('"down" raised', async () => (await heartbeatsOf(second)).find((h) => h.name === 'down')?.state === 'missed', 10_000);

    const byName = Object.fromEntries((await heartbeatsOf(second)).map((h) => [h.name, h]));
    expect(byName.beaten).toMatchObject({ state: 'ok', alert_id: null });
    expect(byName.already).toMatchObject({ state: 'missed', alert_id: alreadyId });
    const downId = byName.down.alert_id as number;
    await waitFor('the downtime miss posted', () => cards(emulator, ch, downId).length === 1, 10_000);
    // One alert per miss, each fired once, each posted once; none for "beaten".
    const alerts = ((await second.admin('GET', '/v1/admin/alerts?limit=100')).body as any[]).filter((a) => a.dedup_key?.startsWith('heartbeat:'));
    expect(alerts.map((a) => [a.dedup_key, a.occurrences]).sort()).toEqual([
      ['heartbeat:already', 1],
      ['heartbeat:canary', 1],
      ['heartbeat:down', 1],
    ]);
    expect(cards(emulator, ch, alreadyId)).toHaveLength(1);
  });

  it('a raise whose alert was committed but whose miss was not saved (a crash in between): the next raise is a repeat of the same alert, posted once', async () => {
    const clock = movableClock();
    const s = await start({ clock: clock.now });
    const src = await sourceWithToken(s, 'crashy');
    const ch = await s.channel();
    expect((await s.admin('POST', '/v1/admin/heartbeats', { source_id: src.id, name: 'etl', interval: '10m' })).status).toBe(201);
    // What a raise commits before its state is saved: the alert, through the same acceptor.
    const raisedBefore = await s.herald.acceptor.submit(src.id, [
      { service: 'etl', severity: 'P1', title: 'no heartbeat from etl for 11 min', status: 'firing', dedup_key: heartbeatKey('etl') },
    ]);
    const alertId = raisedBefore.ids[0]!;
    await waitFor('that alert posted', () => cards(s, ch, alertId).length === 1, 10_000);
    expect((await heartbeatsOf(s))[0]).toMatchObject({ state: 'ok', alert_id: null });

    clock.advance(11 * MIN);
    await waitFor('the miss recorded', async () => (await heartbeatsOf(s))[0]?.state === 'missed', 10_000);
    expect((await heartbeatsOf(s))[0].alert_id).toBe(alertId);
    expect((await s.admin('GET', `/v1/admin/alerts/${alertId}`)).body.occurrences).toBe(2);
    await waitFor('the card edited with the repeat', () => JSON.stringify(cards(s, ch, alertId)[0]!.embeds).includes('2 times'), 10_000);
    expect(cards(s, ch, alertId)).toHaveLength(1);
  });
});

describe('auto-resolve of stale alerts', () => {
  it('resolves a firing alert with no repeat for its route\'s auto_resolve_after as "stale", unlike a sender\'s resolve', async () => {
    const clock = movableClock();
    const s = await start({ clock: clock.now });
    const token = await s.source('fire-and-forget');
    const ch = await s.channel();
    const route = ((await s.admin('GET', '/v1/admin/routes')).body as any[]).find((r) => r.channel_id === ch.id);
    // Only alerts of service "cron" go stale on this route; a second route takes the rest without it.
    expect((await s.admin('DELETE', `/v1/admin/routes/${route.id}`)).status).toBe(204);
    const stale = await s.admin('POST', '/v1/admin/routes', { channel_id: ch.id, service: 'cron', auto_resolve_after: '4h' });
    expect(stale.status).toBe(201);
    expect((await s.admin('POST', '/v1/admin/routes', { channel_id: ch.id, service: 'web' })).status).toBe(201);
    expect(((await s.admin('GET', '/v1/admin/routes')).body as any[]).map((r) => r.auto_resolve_after_ms)).toEqual([4 * HOUR, undefined]);

    const quiet = (await s.post(token, alert(1, { service: 'cron', title: 'Backup slow' }))).body.ids[0] as number;
    const kept = (await s.post(token, alert(2, { service: 'web', title: 'Latency high' }))).body.ids[0] as number;
    const byHand = (await s.post(token, alert(3, { service: 'cron', title: 'Disk', dedup_key: 'disk' }))).body.ids[0] as number;
    expect((await s.post(token, alert(3, { service: 'cron', title: 'Disk', dedup_key: 'disk', status: 'resolved' }))).status).toBe(202);
    await waitFor('the cards posted', () => cards(s, ch, quiet).length === 1 && cards(s, ch, kept).length === 1, 10_000);

    clock.advance(4 * HOUR + MIN);
    await waitFor('the stale alert resolved', async () => (await s.admin('GET', `/v1/admin/alerts/${quiet}`)).body.status === 'resolved', 10_000);
    expect((await s.admin('GET', `/v1/admin/alerts/${quiet}`)).body.resolved_by).toBe('stale (no update for 4 h)');
    const stateOf = (id: number) => JSON.stringify(cards(s, ch, id)[0]?.embeds ?? []);
    await waitFor('its card edited', () => stateOf(quiet).includes('Resolved as stale (no update for 4 h)'), 10_000);
    await waitFor("the sender's resolve on its card", () => stateOf(byHand).includes('Resolved by fire-and-forget'), 10_000);
    expect(stateOf(byHand)).not.toContain('stale');
    // Recorded in its actions as that resolver.
    const actions = s.herald.db.$client.prepare('select kind, actor_kind, actor_name from alert_actions where alert_id = ?').all(quiet);
    expect(actions).toEqual([{ kind: 'resolve', actor_kind: 'system', actor_name: 'stale (no update for 4 h)' }]);
    // The route without auto_resolve_after keeps its alert firing.
    expect((await s.admin('GET', `/v1/admin/alerts/${kept}`)).body.status).toBe('firing');
  });

  it("a source's auto_resolve_after applies to all its alerts; null clears it; bad durations are 400", async () => {
    const clock = movableClock();
    const s = await start({ clock: clock.now });
    const created = await s.admin('POST', '/v1/admin/sources', { name: 'pager', auto_resolve_after: '30m' });
    expect(created.status).toBe(201);
    expect((await s.admin('GET', `/v1/admin/sources/${created.body.id}`)).body.auto_resolve_after_ms).toBe(30 * MIN);
    const ch = await s.channel();
    const id = (await s.post(created.body.token, alert(1))).body.ids[0] as number;
    await waitFor('posted', () => cards(s, ch, id).length === 1, 10_000);
    clock.advance(31 * MIN);
    await waitFor('resolved as stale', async () => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body.resolved_by === 'stale (no update for 30 min)', 10_000);

    const bad = await s.admin('PATCH', `/v1/admin/sources/${created.body.id}`, { auto_resolve_after: 'later' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems[0].path).toBe('auto_resolve_after');
    expect((await s.admin('PATCH', `/v1/admin/sources/${created.body.id}`, { auto_resolve_after: '10s' })).status).toBe(400);
    const cleared = await s.admin('PATCH', `/v1/admin/sources/${created.body.id}`, { auto_resolve_after: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.format).toBe('native');
    expect(cleared.body).not.toHaveProperty('auto_resolve_after_ms');
    const route = ((await s.admin('GET', '/v1/admin/routes')).body as any[])[0];
    const patched = await s.admin('PATCH', `/v1/admin/routes/${route.id}`, { auto_resolve_after: '2h' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ auto_resolve_after_ms: 2 * HOUR, business_hours: null });
    expect((await s.admin('PATCH', `/v1/admin/routes/${route.id}`, {})).status).toBe(400);
  });
});
