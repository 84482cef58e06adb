import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { alert, deliveredAlertIds, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

const DAY = 86_400_000;
/** Business hours are read against this clock: a Sunday, so a Monday-only route is closed and its P3s wait. */
const SUNDAY = Date.UTC(2030, 2, 3, 12, 0);

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** An outbound receiver on loopback that takes everything (so outbound deliveries exist and get sent). */
let receiver: Server;
let receiverUrl: string;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
});
afterAll(() => new Promise((r) => receiver.close(r)));

// Reading the database directly is fine in a test; every row is written through Herald's own paths.
const count = (s: Stack, sql: string, ...params: unknown[]) => (s.herald.db.$client.prepare(sql).get(...params) as { n: number }).n;
const DELIVERIES_OF = 'select id from deliveries where alert_id = ?';

/** Every row about one alert, per table. */
function rowsAbout(s: Stack, alertId: number) {
  return {
    alerts: count(s, 'select count(*) n from alerts where id = ?', alertId),
    deliveries: count(s, 'select count(*) n from deliveries where alert_id = ?', alertId),
    attempts: count(s, `select count(*) n from attempts where delivery_id in (${DELIVERIES_OF})`, alertId),
    messageOps: count(s, `select count(*) n from message_ops where delivery_id in (${DELIVERIES_OF})`, alertId),
    alertActions: count(s, 'select count(*) n from alert_actions where alert_id = ?', alertId),
    outboundDeliveries: count(s, 'select count(*) n from outbound_deliveries where alert_id = ?', alertId),
    escalations: count(s, 'select count(*) n from escalations where alert_id = ?', alertId),
    escalationRuns: count(s, 'select count(*) n from escalation_runs where escalation_id in (select id from escalations where alert_id = ?)', alertId),
  };
}

/** Nothing in flight: every delivery sent (or held by `except`'s hours), every edit made, every outbound message sent. */
async function settled(s: Stack, except: number[] = []): Promise<void> {
  await waitFor('deliveries, edits, outbound messages and escalation steps settled', () => {
    const busy = (t: string) => count(s, `select count(*) n from ${t} where state in ('pending', 'leased') ${t === 'deliveries' ? `and channel_id not in (${except.join(',') || 0})` : ''}`);
    return busy('deliveries') === 0 && busy('message_ops') === 0 && busy('outbound_deliveries') === 0 && count(s, "select count(*) n from escalations where state = 'active'") === 0;
  });
}

/** A channel with its own route (no catch-all), `webhooks` emulated webhooks. */
async function routedChannel(s: Stack, name: string, route: Record<string, unknown>, webhooks = 1): Promise<TestChannel> {
  const emu = s.emulator.createChannel({ name });
  const ch = await s.admin('POST', '/v1/admin/channels', { name, discord_channel_id: emu.id });
  expect(ch.status).toBe(201);
  const webhookIds: string[] = [];
  for (let i = 0; i < webhooks; i++) {
    const hook = s.emulator.createWebhook(emu.id);
    expect((await s.admin('POST', `/v1/admin/channels/${ch.body.id}/webhooks`, { url: hook.url })).status).toBe(201);
    webhookIds.push(hook.id);
  }
  expect((await s.admin('POST', '/v1/admin/routes', { channel_id: ch.body.id, ...route })).status).toBe(201);
  return { id: ch.body.id, discordChannelId: emu.id, webhookIds, webhookTokens: [], heraldWebhookIds: [] };
}

async function post(s: Stack, token: string, body: unknown, headers: Record<string, string> = {}): Promise<number[]> {
  const res = await s.post(token, body, headers);
  expect(res.status).toBe(202);
  return res.body.ids as number[];
}

const delivered = (s: Stack, ch: TestChannel, ids: number[]) =>
  waitFor(`alerts ${ids.join(', ')} delivered`, () => ids.every((id) => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id)));

/** A millisecond boundary: everything before it happened strictly before, everything after strictly after. */
async function boundary(): Promise<number> {
  const t = Date.now();
  await waitFor('the clock to move on', () => Date.now() > t, 1000, 1);
  return t + 1;
}

describe('retention', () => {
  it('removes old resolved and retracted alerts with every row about them; keeps firing, recent, pending and packed-with-firing ones', async () => {
    stack = await startStack({
      // The allowlist lets the outbound receiver on loopback through once outbound targets refuse private addresses (issue 8 §4).
      env: { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50', HERALD_OUTBOUND_ALLOWLIST: '127.0.0.1' },
      emulator: FAST.emulator,
      clock: () => SUNDAY,
    });
    const s = stack;
    const token = await s.source();
    // The main channel's catch-all route sends every alert to a signed webhook and arms a one-step escalation chain.
    const ch = await s.channel({ webhooks: 2 });
    const route = ((await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!;
    expect((await s.admin('POST', `/v1/admin/routes/${route.id}/outbound`, { kind: 'webhook', url: receiverUrl })).status).toBe(201);
    const chain = await s.admin('POST', '/v1/admin/escalation-chains', { name: 'again', steps: [{ kind: 'channel', delay_ms: 0, channel_id: ch.id }] });
    expect((await s.admin('PUT', `/v1/admin/routes/${route.id}/escalation-chain`, { chain_id: chain.body.id })).status).toBe(200);
    // "batch" P3s also go to a channel open on Mondays only: there they wait (pending) for the window.
    const held = await routedChannel(s, 'held', { service: 'batch', business_hours: { timezone: 'UTC', days: ['mon'], start: '09:00', end: '17:00' } });
    // "packed" alerts also go to a channel that gets its webhook only once both are queued: one message shows both.
    const pk = await routedChannel(s, 'packed', { service: 'packed' }, 0);

    const [oldResolved] = await post(s, token, alert(1, { title: 'Old resolved', dedup_key: 'old-resolved' }), { 'idempotency-key': 'first-try' });
    const [oldRetracted] = await post(s, token, alert(2, { title: 'Old retracted', dedup_key: 'old-retracted' }));
    const [oldFiring] = await post(s, token, alert(3, { title: 'Old firing', dedup_key: 'old-firing' }));
    const [heldResolved] = await post(s, token, alert(4, { service: 'batch', severity: 'P3', dedup_key: 'held' }));
    const [packedResolved, packedFiring] = await post(s, token, { alerts: [alert(5, { service: 'packed', dedup_key: 'pk-a' }), alert(6, { service: 'packed', dedup_key: 'pk-b' })] });
    s.herald.scheduler.wake(pk.id, 100);
    await delivered(s, ch, [oldResolved!, oldRetracted!, oldFiring!, heldResolved!, packedResolved!, packedFiring!]);
    const hook = s.emulator.createWebhook(pk.discordChannelId);
    expect((await s.admin('POST', `/v1/admin/channels/${pk.id}/webhooks`, { url: hook.url })).status).toBe(201);
    await delivered(s, pk, [packedResolved!, packedFiring!]);
    expect(s.emulator.messages(pk.discordChannelId)).toHaveLength(1);
    await settled(s, [held.id]);

    expect((await s.admin('POST', `/v1/admin/alerts/${oldResolved}/ack`, { by: 'alice' })).status).toBe(200);
    await post(s, token, alert(1, { title: 'Old resolved', dedup_key: 'old-resolved', status: 'resolved' }));
    expect((await s.admin('POST', `/v1/admin/alerts/${oldRetracted}/retract`, { mode: 'strike', reason: 'test' })).status).toBe(200);
    expect((await s.admin('POST', `/v1/admin/alerts/${oldFiring}/ack`, { by: 'bob' })).status).toBe(200);
    await post(s, token, alert(4, { service: 'batch', severity: 'P3', dedup_key: 'held', status: 'resolved' }));
    await post(s, token, alert(5, { service: 'packed', dedup_key: 'pk-a', status: 'resolved' }));
    await settled(s, [held.id]);
    expect(count(s, "select count(*) n from deliveries where alert_id = ? and channel_id = ? and state = 'pending'", heldResolved, held.id)).toBe(1);

    const cutoff = await boundary();
    const [recentResolved] = await post(s, token, alert(7, { title: 'Recent resolved', dedup_key: 'recent' }));
    await delivered(s, ch, [recentResolved!]);
    await post(s, token, alert(7, { title: 'Recent resolved', dedup_key: 'recent', status: 'resolved' }));
    await settled(s, [held.id]);

    const all = [oldResolved!, oldRetracted!, oldFiring!, heldResolved!, packedResolved!, packedFiring!, recentResolved!];
    const gone = [oldResolved!, oldRetracted!];
    const before = new Map(all.map((id) => [id, rowsAbout(s, id)]));
    // Each alert that goes has rows in every table about it, so the test shows that all of them go.
    for (const id of gone) for (const [table, n] of Object.entries(before.get(id)!)) expect(n, `${table} of alert #${id}`).toBeGreaterThan(0);
    expect(count(s, 'select count(*) n from idempotency_keys')).toBe(1);
    // The packing channel had no webhook while its alerts were queued: the lane recorded an admin event.
    const events = count(s, 'select count(*) n from events');
    expect(events).toBeGreaterThan(0);

    // Today: everything is younger than the retention; nothing goes.
    const today = await s.herald.retention.run(Date.now());
    expect(today).toMatchObject({ complete: true, alerts: 0, deliveries: 0, idempotencyKeys: 0, events: 0 });

    // 30 days (the default) after the boundary.
    const later = await s.herald.retention.run(cutoff + 30 * DAY);
    const removed = (table: keyof ReturnType<typeof rowsAbout>) => gone.reduce((sum, id) => sum + before.get(id)![table], 0);
    expect(later).toEqual({
      complete: true,
      alerts: 2,
      deliveries: removed('deliveries'),
      attempts: removed('attempts'),
      messageOps: removed('messageOps'),
      deadLetters: 0,
      alertActions: removed('alertActions'),
      outboundDeliveries: removed('outboundDeliveries'),
      escalations: removed('escalations'),
      escalationRuns: removed('escalationRuns'),
      idempotencyKeys: 1,
      events,
    });
    for (const id of gone) expect(Object.values(rowsAbout(s, id)).every((n) => n === 0), `nothing left of alert #${id}`).toBe(true);
    // Still firing (acknowledged), resolved recently, resolved with a delivery still to send, or sharing a message with a firing alert.
    for (const id of all.filter((i) => !gone.includes(i))) expect(rowsAbout(s, id), `alert #${id} untouched`).toEqual(before.get(id));
    expect(s.herald.db.$client.pragma('foreign_key_check')).toEqual([]);
    expect(count(s, 'select count(*) n from events')).toBe(0);

    // Herald still works on what is left: the remaining firing alert can be resolved and its card edited.
    expect((await s.admin('POST', `/v1/admin/alerts/${oldFiring}/resolve`, { by: 'bob' })).status).toBe(200);
    await settled(s, [held.id]);
    expect((await s.admin('GET', `/v1/admin/alerts/${oldResolved}`)).status).toBe(404);
    const line = s.logs.find((l) => l.includes('"retention run"') && l.includes('"alerts":2'));
    expect(line).toBeDefined();
    expect(line).not.toContain(token);
  });

  it('the database stops growing under steady load: alerts fire and resolve, retention runs as the days go by', async () => {
    // A channel cap far above the load: the lane never packs, so each round leaves exactly the same rows.
    stack = await startStack({
      env: { ...FAST.env, HERALD_RETENTION_DAYS: '1', HERALD_CHANNEL_CAP: '1000' },
      emulator: { ...FAST.emulator, channelCap: { limit: 1000, windowMs: 1000 } },
    });
    const s = stack;
    const token = await s.source();
    const ch = await s.channel({ webhooks: 3 });
    const ROUNDS = 8;
    const PER_ROUND = 10;
    const tables = (s.herald.db.$client.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%'").all() as { name: string }[]).map((t) => t.name);
    const rows = () => Object.fromEntries(tables.map((t) => [t, count(s, `select count(*) n from ${t}`)]));
    const pages = () => {
      s.herald.db.$client.pragma('wal_checkpoint(TRUNCATE)');
      return s.herald.db.$client.pragma('page_count', { simple: true }) as number;
    };

    const afterRun: Record<string, number>[] = [];
    const pageCounts: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Each round is "a day": its start is the cutoff of the run after it, so the run keeps this round only.
      const dayStart = await boundary();
      const batch = Array.from({ length: PER_ROUND }, (_, i) => alert(i, { dedup_key: `r${round}-${i}` }));
      // One request per alert (one message each), then one sender's batch resolving them all.
      const ids = (await Promise.all(batch.map((a, i) => post(s, token, a, { 'idempotency-key': `round-${round}-${i}` })))).flat();
      await delivered(s, ch, ids);
      await post(s, token, { alerts: batch.map((a) => ({ ...a, status: 'resolved' })) }, { 'idempotency-key': `round-${round}-resolved` });
      await settled(s);
      const result = await s.herald.retention.run(dayStart + DAY);
      expect(result.complete).toBe(true);
      if (round > 0) expect(result.alerts).toBe(PER_ROUND);
      afterRun.push(rows());
      pageCounts.push(pages());
    }
    expect(afterRun[ROUNDS - 1]!.alerts).toBe(PER_ROUND);
    expect(afterRun[ROUNDS - 1]!.idempotency_keys).toBe(PER_ROUND + 1);
    // A plateau: after every run, every table holds one round's rows, round after round. Attempts may
    // differ by a retried request; everything else is exact.
    const { attempts: firstAttempts, ...first } = afterRun[0]!;
    for (let r = 1; r < ROUNDS; r++) {
      const { attempts, ...rest } = afterRun[r]!;
      expect(rest, `rows after run ${r + 1}`).toEqual(first);
      expect(attempts).toBeLessThanOrEqual(firstAttempts! + 5);
    }
    // Freed pages are reused: the file stops growing too.
    expect(pageCounts[ROUNDS - 1]).toBeLessThanOrEqual(pageCounts[1]!);
    expect(s.herald.db.$client.pragma('foreign_key_check')).toEqual([]);
  });

  it('a database locked by another connection fails the run with one log line; the next run does the work', async () => {
    stack = await startStack(FAST);
    const s = stack;
    const token = await s.source();
    const ch = await s.channel();
    const ids = await post(s, token, alert(1, { dedup_key: 'locked' }));
    await delivered(s, ch, ids);
    await post(s, token, alert(1, { dedup_key: 'locked', status: 'resolved' }));
    await settled(s);
    // Another writer holds the write lock; Herald waits 100 ms for it, not the 5 s of its own setting (§6 of issue 8 shortens waits).
    s.herald.db.$client.pragma('busy_timeout = 100');
    const other = new Database(join(s.dir, 'herald.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await s.herald.retention.fire(Date.now() + 31 * DAY);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const failed = s.logs.filter((l) => l.includes('retention run failed'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain('database is locked');
    expect(failed[0]).not.toContain('    at ');
    expect(count(s, 'select count(*) n from alerts')).toBe(1);

    expect(await s.herald.retention.run(Date.now() + 31 * DAY)).toMatchObject({ complete: true, alerts: 1 });
    expect(count(s, 'select count(*) n from alerts')).toBe(0);
  });

  it('is scheduled daily at 03:30 in the digest time zone by default', async () => {
    stack = await startStack({ env: { HERALD_DIGEST_TIMEZONE: 'Europe/Paris' } });
    stack.herald.retention.start();
    const job = stack.herald.retention.describe()!;
    expect(job).toMatchObject({ pattern: '30 3 * * *', timezone: 'Europe/Paris' });
    const next = new Date(job.next_run_at!);
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('03:30');
    stack.herald.retention.stop();
    expect(stack.herald.retention.describe()).toBeNull();
  });

  it('settings: days from 1 (the digest reads the last day) covering the reopen window; any cron expression', () => {
    const ok = loadConfig({ HERALD_RETENTION_DAYS: '7', HERALD_RETENTION_CRON: '15 2 * * 0' });
    expect(ok.ok && ok.config.retention).toEqual({ days: 7, cron: '15 2 * * 0', timezone: 'UTC' });
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.config.retention).toEqual({ days: 30, cron: '30 3 * * *', timezone: 'UTC' });

    const bad = loadConfig({ HERALD_RETENTION_DAYS: '0', HERALD_RETENTION_CRON: 'every night' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems).toEqual([
      'HERALD_RETENTION_DAYS must be a whole number from 1 to 3650 (got "0")',
      'HERALD_RETENTION_CRON must be a cron expression such as "30 3 * * *" (minute hour day month weekday)',
    ]);
    const short = loadConfig({ HERALD_RETENTION_DAYS: '1', HERALD_REOPEN_WINDOW_MS: String(2 * DAY) });
    expect(!short.ok && short.problems).toEqual(['HERALD_RETENTION_DAYS (1) must cover HERALD_REOPEN_WINDOW_MS (172800000 ms)']);
  });
});
