import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, FAST, startStack, waitFor, type Stack } from './support/stack.js';

let stack: Stack | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const WEEKDAYS_9_TO_5 = { timezone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };

/** A wall clock that reads `wall` now and runs at the process clock's pace. */
const clockAt = (wall: string) => {
  const offset = Date.parse(wall) - Date.now();
  return () => Date.now() + offset;
};

async function routeOf(s: Stack, channelId: number): Promise<number> {
  const routes = (await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[];
  return routes.find((r) => r.channel_id === channelId)!.id;
}

const detail = async (s: Stack, id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;

describe('business hours per route', () => {
  it('admin API: routes take business hours (validated), PATCH sets and clears them', async () => {
    stack = await startStack(FAST);
    const ch = await stack.channel({ webhooks: 0 });
    const created = await stack.admin('POST', '/v1/admin/routes', { channel_id: ch.id, service: 'batch-*', business_hours: { ...WEEKDAYS_9_TO_5, timezone: 'Europe/Berlin', days: ['fri', 'mon'], outside: 'digest' } });
    expect(created.status).toBe(201);
    const list = (await stack.admin('GET', '/v1/admin/routes')).body;
    expect(list.find((r: { id: number }) => r.id === created.body.id).business_hours).toEqual({ timezone: 'Europe/Berlin', days: ['mon', 'fri'], start: '09:00', end: '17:00', outside: 'digest' });

    const badTz = await stack.admin('POST', '/v1/admin/routes', { channel_id: ch.id, business_hours: { ...WEEKDAYS_9_TO_5, timezone: 'Europe/Atlantis' } });
    expect(badTz.status).toBe(400);
    expect(JSON.stringify(badTz.body)).toMatch(/not a known IANA time zone/);
    const badTime = await stack.admin('POST', '/v1/admin/routes', { channel_id: ch.id, business_hours: { ...WEEKDAYS_9_TO_5, start: '9am' } });
    expect(badTime.status).toBe(400);

    const patched = await stack.admin('PATCH', `/v1/admin/routes/${created.body.id}`, { business_hours: WEEKDAYS_9_TO_5 });
    expect(patched.status).toBe(200);
    expect(patched.body.business_hours).toEqual({ ...WEEKDAYS_9_TO_5, outside: 'wait' });
    const cleared = await stack.admin('PATCH', `/v1/admin/routes/${created.body.id}`, { business_hours: null });
    expect(cleared.body.business_hours).toBeNull();
    expect((await stack.admin('PATCH', '/v1/admin/routes/9999', { business_hours: null })).status).toBe(404);
  });

  it('outside the hours a P3 waits (durably, across a restart) and goes when the window opens; a P0 goes at once', async () => {
    const emulator = await startEmulator(FAST.emulator);
    const dir = mkdtempSync(join(tmpdir(), 'herald-hours-'));
    cleanups.push(() => emulator.close(), () => rmSync(dir, { recursive: true, force: true }));
    // Monday 08:59:55 UTC: the window opens in 5 s (room for a loaded machine to restart before it does).
    const first = await startStack({ ...FAST, dir, emulatorInstance: emulator, clock: clockAt('2026-11-23T08:59:55Z') });
    stack = first;
    const token = await first.source();
    const ch = await first.channel({ webhooks: 1 });
    expect((await first.admin('PATCH', `/v1/admin/routes/${await routeOf(first, ch.id)}`, { business_hours: WEEKDAYS_9_TO_5 })).status).toBe(200);

    const [low, urgent] = (await first.post(token, { alerts: [alert(1, { severity: 'P3' }), alert(2, { severity: 'P0' })] })).body.ids as number[];
    await waitFor('the P0 delivered', () => deliveredAlertIds(emulator, ch.discordChannelId).includes(urgent!));
    const waiting = (await detail(first, low!)).deliveries[0];
    expect(waiting.state).toBe('pending');
    const received = (await detail(first, low!)).received_at as number;
    expect(waiting.available_at - received).toBeGreaterThan(1000);
    expect(waiting.available_at - received).toBeLessThanOrEqual(5000);
    expect(deliveredAlertIds(emulator, ch.discordChannelId)).toEqual([urgent]);

    // Restart before the window opens: the waiting P3 is still there and goes when it opens.
    await first.close();
    stack = undefined;
    expect(Date.now()).toBeLessThan(waiting.available_at);
    stack = await startStack({ ...FAST, dir, emulatorInstance: emulator });
    await waitFor('the P3 delivered once the window opened', () => deliveredAlertIds(emulator, ch.discordChannelId).includes(low!), 10_000);
    const posted = emulator.messages(ch.discordChannelId).find((m) => JSON.stringify(m.embeds).includes(`alert #${low}`))!;
    expect(posted.createdAt).toBeGreaterThanOrEqual(waiting.available_at);
    expect(deliveredAlertIds(emulator, ch.discordChannelId)).toEqual([urgent, low]);
  });

  it('digest-only routes keep P2/P3 as digest deliveries (never sent); P1 goes; inside the hours everything goes; the most permissive route wins', async () => {
    // Saturday noon UTC.
    stack = await startStack({ ...FAST, clock: clockAt('2026-11-28T12:00:00Z') });
    const token = await stack.source();
    const quiet = await stack.channel({ webhooks: 1 });
    const both = await stack.channel({ webhooks: 1 });
    await stack.admin('PATCH', `/v1/admin/routes/${await routeOf(stack, quiet.id)}`, { business_hours: { ...WEEKDAYS_9_TO_5, outside: 'digest' } });
    // Channel "both" has an hours route and an always-open one (service checkout): the open one wins.
    await stack.admin('PATCH', `/v1/admin/routes/${await routeOf(stack, both.id)}`, { business_hours: WEEKDAYS_9_TO_5 });
    await stack.admin('POST', '/v1/admin/routes', { channel_id: both.id, service: 'checkout' });

    const [p3, p1] = (await stack.post(token, { alerts: [alert(1, { severity: 'P3' }), alert(2, { severity: 'P1' })] })).body.ids as number[];
    await waitFor('P1 in the quiet channel', () => deliveredAlertIds(stack!.emulator, quiet.discordChannelId).includes(p1!));
    await waitFor('P3 in the channel with an open route', () => deliveredAlertIds(stack!.emulator, both.discordChannelId).includes(p3!));
    // Discord holds the message before Herald has read the answer and recorded it: wait for the record.
    const sentIn = async (channelId: number) => (await detail(stack!, p3!)).deliveries.find((x: { channel_id: number }) => x.channel_id === channelId).state === 'sent';
    await waitFor('P3 recorded as sent in the channel with an open route', () => sentIn(both.id));
    const d = await detail(stack, p3!);
    expect(d.deliveries.find((x: { channel_id: number }) => x.channel_id === quiet.id).state).toBe('digest');
    expect(d.deliveries.find((x: { channel_id: number }) => x.channel_id === both.id).state).toBe('sent');
    await new Promise((r) => setTimeout(r, 300));
    expect(deliveredAlertIds(stack.emulator, quiet.discordChannelId)).toEqual([p1]);

    // A service the open route does not match waits in "both" (Monday 09:00) and is a digest row in "quiet".
    const other = (await stack.post(token, alert(3, { service: 'search', severity: 'P2' }))).body.ids[0];
    const od = await detail(stack, other);
    const monday = Date.parse('2026-11-30T09:00:00Z') - Date.parse('2026-11-28T12:00:00Z');
    const wait = od.deliveries.find((x: { channel_id: number }) => x.channel_id === both.id);
    expect(wait.state).toBe('pending');
    expect(Math.abs(wait.available_at - od.received_at - monday)).toBeLessThan(2000);
    expect(od.deliveries.find((x: { channel_id: number }) => x.channel_id === quiet.id).state).toBe('digest');
  });

  it('inside the hours P2/P3 go at once', async () => {
    stack = await startStack({ ...FAST, clock: clockAt('2026-11-24T10:00:00Z') });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    await stack.admin('PATCH', `/v1/admin/routes/${await routeOf(stack, ch.id)}`, { business_hours: { ...WEEKDAYS_9_TO_5, outside: 'digest' } });
    const id = (await stack.post(token, alert(1, { severity: 'P3' }))).body.ids[0];
    await waitFor('delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id));
  });
});
