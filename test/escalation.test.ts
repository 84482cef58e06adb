import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatedMessage } from '../src/emulator/index.js';
import { alert, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

/** Shared fast limits, and an escalation runner that looks at least every 50 ms. */
const ENV = { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50' };
const ROLE = '222222222222222222';
const USER = '333333333333333333';
const ROLE2 = '444444444444444444';

let stack: Stack | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const c of cleanups.splice(0)) await c();
});

type Step = { kind: 'role' | 'user' | 'channel'; delay_ms: number; target?: string; channel_id?: number };

/** A chain attached to the channel's catch-all route. */
async function chainOn(s: Stack, ch: TestChannel, chain: { name?: string; repeats?: number; rearm_after_ms?: number; steps: Step[] }): Promise<number> {
  const created = await s.admin('POST', '/v1/admin/escalation-chains', { name: chain.name ?? `chain-${ch.id}`, ...chain });
  expect(created.status).toBe(201);
  const routes = (await s.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[];
  const route = routes.find((r) => r.channel_id === ch.id)!;
  const attached = await s.admin('PUT', `/v1/admin/routes/${route.id}/escalation-chain`, { chain_id: created.body.id });
  expect(attached.status).toBe(200);
  return created.body.id as number;
}

/** Messages carrying a mention, in order. */
const mentions = (s: Stack, ch: TestChannel): EmulatedMessage[] => s.emulator.messages(ch.discordChannelId).filter((m) => m.content !== '');
const footers = (m: EmulatedMessage) => (m.embeds as { footer?: { text?: string } }[]).map((e) => e.footer?.text ?? '');

async function postAlert(s: Stack, token: string, over: Record<string, unknown> = {}): Promise<number> {
  const res = await s.post(token, alert(1, { severity: 'P1', ...over }));
  expect(res.status).toBe(202);
  return res.body.ids[0] as number;
}

const escalationsOf = async (s: Stack, alertId: number) => (await s.admin('GET', `/v1/admin/escalations?alert_id=${alertId}`)).body as any[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR_MS = 3_600_000;

describe('escalation chains', () => {
  it('posts each step as the card with exactly its mention allowed, repeats the chain, then stops', async () => {
    stack = await startStack({ ...FAST, env: ENV });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1, applicationOwned: true });
    const other = await stack.channel({ webhooks: 1 });
    // `other` only gets the channel step: no route of its own.
    const otherRoute = ((await stack.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === other.id)!;
    expect((await stack.admin('DELETE', `/v1/admin/routes/${otherRoute.id}`)).status).toBe(204);
    const chainId = await chainOn(stack, ch, {
      repeats: 1,
      steps: [
        { kind: 'role', delay_ms: 100, target: ROLE },
        { kind: 'user', delay_ms: 100, target: USER },
        { kind: 'channel', delay_ms: 50, channel_id: other.id },
      ],
    });
    const chain = (await stack.admin('GET', `/v1/admin/escalation-chains/${chainId}`)).body;
    expect(chain.steps.map((s: any) => [s.position, s.kind])).toEqual([[0, 'role'], [1, 'user'], [2, 'channel']]);

    const id = await postAlert(stack, token, { title: 'Payments down', description: 'ping @everyone <@&555555555555555555>' });
    await waitFor('two rounds of mentions', () => mentions(stack!, ch).length === 4, 10_000);
    await waitFor('the chain done', async () => (await escalationsOf(stack!, id))[0]?.state === 'done', 5000);

    const ms = mentions(stack, ch);
    expect(ms.map((m) => m.content)).toEqual([`<@&${ROLE}>`, `<@${USER}>`, `<@&${ROLE}>`, `<@${USER}>`]);
    expect(ms.map((m) => m.allowedMentions)).toEqual([
      { parse: [], roles: [ROLE] },
      { parse: [], users: [USER] },
      { parse: [], roles: [ROLE] },
      { parse: [], users: [USER] },
    ]);
    for (const m of ms) {
      // Each is the alert's card, alone, with its buttons (app-owned webhook), and not silent.
      expect(footers(m)).toEqual([`Herald · alert #${id}`]);
      expect((m.components as { components: { custom_id: string }[] }[])[0]!.components.map((c) => c.custom_id)).toContain(`herald:ack:${id}`);
      expect(m.flags & 4096).toBe(0);
    }
    // The original card (no content) plus four mentions; the channel step posted the card in the other channel, once per round.
    expect(stack.emulator.messages(ch.discordChannelId)).toHaveLength(5);
    const posted = stack.emulator.messages(other.discordChannelId).filter((m) => footers(m).some((f) => f.includes(`alert #${id}`)));
    expect(posted).toHaveLength(2);
    expect(posted.every((m) => m.content === '')).toBe(true);

    const [e] = await escalationsOf(stack, id);
    expect(e).toMatchObject({ chain_id: chainId, state: 'done', reason: 'chain exhausted' });
    expect(e.runs.map((r: any) => [r.round, r.step_index, r.kind])).toEqual([
      [0, 0, 'role'], [0, 1, 'user'], [0, 2, 'channel'],
      [1, 0, 'role'], [1, 1, 'user'], [1, 2, 'channel'],
    ]);
    await sleep(300);
    expect(mentions(stack, ch)).toHaveLength(4);
  });

  it('stops on acknowledge, and on resolve', async () => {
    stack = await startStack({ ...FAST, env: ENV });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    await chainOn(stack, ch, { repeats: 3, steps: [{ kind: 'role', delay_ms: 100, target: ROLE }, { kind: 'user', delay_ms: 400, target: USER }] });

    const acked = await postAlert(stack, token, { title: 'acked' });
    await waitFor('first mention', () => mentions(stack!, ch).length === 1, 5000);
    expect((await stack.admin('POST', `/v1/admin/alerts/${acked}/ack`, { by: 'alice' })).status).toBe(200);
    await waitFor('stopped by the ack', async () => (await escalationsOf(stack!, acked))[0]?.state === 'done', 5000);
    expect((await escalationsOf(stack, acked))[0].reason).toBe('acknowledged');

    const resolved = await postAlert(stack, token, { title: 'resolved' });
    await waitFor('its first mention', () => mentions(stack!, ch).length === 2, 5000);
    expect((await stack.admin('POST', `/v1/admin/alerts/${resolved}/resolve`)).status).toBe(200);
    await waitFor('stopped by the resolve', async () => (await escalationsOf(stack!, resolved))[0]?.state === 'done', 5000);
    expect((await escalationsOf(stack, resolved))[0].reason).toBe('resolved');

    // Past when the second step would have run: nothing more.
    await sleep(700);
    expect(mentions(stack, ch).map((m) => m.content)).toEqual([`<@&${ROLE}>`, `<@&${ROLE}>`]);
  });

  it('re-arms when an acknowledgement is not followed by a resolve in time; a resolve then stops it', async () => {
    stack = await startStack({ ...FAST, env: ENV });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    await chainOn(stack, ch, { rearm_after_ms: 400, steps: [{ kind: 'role', delay_ms: 100, target: ROLE }, { kind: 'user', delay_ms: 5000, target: USER }] });

    const id = await postAlert(stack, token);
    await waitFor('first mention', () => mentions(stack!, ch).length === 1, 5000);
    const ackAt = Date.now();
    await stack.admin('POST', `/v1/admin/alerts/${id}/ack`);
    await waitFor('waiting for a resolve', async () => (await escalationsOf(stack!, id))[0]?.state === 'acked', 5000);
    await waitFor('the chain again, from its first step', () => mentions(stack!, ch).length === 2, 5000);
    // Not before the set time (400 ms) plus the first step's delay (100 ms).
    expect(Date.now() - ackAt).toBeGreaterThanOrEqual(450);
    const [e] = await escalationsOf(stack, id);
    expect(e).toMatchObject({ state: 'active', cycle: 1, step_index: 1 });
    expect(e.runs.map((r: any) => [r.cycle, r.step_index])).toEqual([[0, 0], [1, 0]]);

    await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`);
    await waitFor('stopped by the resolve', async () => (await escalationsOf(stack!, id))[0]?.state === 'done', 5000);
    expect(mentions(stack, ch).map((m) => m.content)).toEqual([`<@&${ROLE}>`, `<@&${ROLE}>`]);
  });

  it('does not arm for a route without a chain, nor for a muted alert', async () => {
    stack = await startStack({ ...FAST, env: ENV });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const plain = await postAlert(stack, token);
    await chainOn(stack, ch, { steps: [{ kind: 'role', delay_ms: 0, target: ROLE }] });
    expect((await stack.admin('POST', '/v1/admin/mutes', { service: 'muted-svc', duration_minutes: 10 })).status).toBe(201);
    const muted = await postAlert(stack, token, { service: 'muted-svc' });
    const armed = await postAlert(stack, token);
    await waitFor('the armed one mentions', () => mentions(stack!, ch).length === 1, 5000);
    expect(await escalationsOf(stack, plain)).toEqual([]);
    expect(await escalationsOf(stack, muted)).toEqual([]);
    expect((await escalationsOf(stack, armed))).toHaveLength(1);
  });

  it('outside business hours a held P3 (waiting, or kept for the digest) arms nothing; a P1 arms and pages', async () => {
    // Saturday noon UTC: a weekdays 09:00-17:00 route is closed.
    const offset = Date.parse('2026-11-28T12:00:00Z') - Date.now();
    stack = await startStack({ ...FAST, env: ENV, clock: () => Date.now() + offset });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    await chainOn(stack, ch, { steps: [{ kind: 'role', delay_ms: 0, target: ROLE }] });
    const route = ((await stack.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!;
    const hours = { timezone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };
    expect((await stack.admin('PATCH', `/v1/admin/routes/${route.id}`, { business_hours: { ...hours, outside: 'wait' } })).status).toBe(200);

    const waiting = await postAlert(stack, token, { severity: 'P3', title: 'waits for Monday' });
    const detail = (await stack.admin('GET', `/v1/admin/alerts/${waiting}`)).body;
    expect(detail.deliveries.map((d: { state: string }) => d.state)).toEqual(['pending']);
    expect(detail.deliveries[0].available_at - detail.received_at).toBeGreaterThan(HOUR_MS);
    expect(await escalationsOf(stack, waiting)).toEqual([]);

    expect((await stack.admin('PATCH', `/v1/admin/routes/${route.id}`, { business_hours: { ...hours, outside: 'digest' } })).status).toBe(200);
    const kept = await postAlert(stack, token, { severity: 'P3', title: 'digest only' });
    expect((await stack.admin('GET', `/v1/admin/alerts/${kept}`)).body.deliveries.map((d: { state: string }) => d.state)).toEqual(['digest']);
    expect(await escalationsOf(stack, kept)).toEqual([]);

    const urgent = await postAlert(stack, token, { severity: 'P1', title: 'pages at night' });
    expect(await escalationsOf(stack, urgent)).toHaveLength(1);
    await waitFor('the P1 paged', () => mentions(stack!, ch).length === 1, 5000);
    await waitFor('its chain done', async () => (await escalationsOf(stack!, urgent))[0]?.state === 'done', 5000);
    await sleep(200);
    expect(mentions(stack, ch).map((m) => [m.content, footers(m)])).toEqual([[`<@&${ROLE}>`, [expect.stringContaining(`alert #${urgent}`)]]]);
    expect(await escalationsOf(stack, waiting)).toEqual([]);
    expect(await escalationsOf(stack, kept)).toEqual([]);
  });

  it('a restart in the middle of a chain resumes at the right step and runs no step twice', async () => {
    const emulator = await startEmulator(FAST.emulator);
    const dir = mkdtempSync(join(tmpdir(), 'herald-escalation-'));
    cleanups.push(() => emulator.close(), () => rmSync(dir, { recursive: true, force: true }));
    const opts = { ...FAST, env: ENV, dir, emulatorInstance: emulator };

    const first = await startStack(opts);
    const token = await first.source();
    const ch = await first.channel({ webhooks: 1 });
    await chainOn(first, ch, {
      steps: [
        { kind: 'role', delay_ms: 100, target: ROLE },
        { kind: 'user', delay_ms: 800, target: USER },
        { kind: 'role', delay_ms: 100, target: ROLE2 },
      ],
    });
    const id = await postAlert(first, token);
    await waitFor('the first step', () => mentions(first, ch).length === 1, 5000);
    await first.close();

    // Down while the second step comes due.
    await sleep(1000);
    stack = await startStack(opts);
    await waitFor('the rest of the chain', () => mentions(stack!, ch).length === 3, 10_000);
    await waitFor('the chain done', async () => (await escalationsOf(stack!, id))[0]?.state === 'done', 5000);
    await sleep(300);
    expect(mentions(stack, ch).map((m) => m.content)).toEqual([`<@&${ROLE}>`, `<@${USER}>`, `<@&${ROLE2}>`]);
    const [e] = await escalationsOf(stack, id);
    expect(e.runs.map((r: any) => r.step_index)).toEqual([0, 1, 2]);
    // A pass run again at the same moment finds nothing to do.
    expect(await stack.herald.escalation.tick(Date.now())).toEqual({ stepsRun: 0, stopped: 0, rearmed: 0 });
  });

  it('validates chains and steps in the admin API', async () => {
    stack = await startStack({ ...FAST, env: ENV });
    const ch = await stack.channel({ webhooks: 1 });
    const bad = await stack.admin('POST', '/v1/admin/escalation-chains', { name: 'x', steps: [{ kind: 'role', delay_ms: 0 }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/needs target/);
    const ok = await stack.admin('POST', '/v1/admin/escalation-chains', { name: 'x' });
    expect(ok.status).toBe(201);
    expect((await stack.admin('POST', '/v1/admin/escalation-chains', { name: 'x' })).status).toBe(409);
    expect((await stack.admin('POST', `/v1/admin/escalation-chains/${ok.body.id}/steps`, { kind: 'channel', delay_ms: 0, channel_id: 999 })).status).toBe(400);
    const step = await stack.admin('POST', `/v1/admin/escalation-chains/${ok.body.id}/steps`, { kind: 'channel', delay_ms: 60000, channel_id: ch.id });
    expect(step.status).toBe(201);
    expect(step.body.steps).toHaveLength(1);
    expect((await stack.admin('PUT', '/v1/admin/routes/999/escalation-chain', { chain_id: ok.body.id })).status).toBe(404);
    // An unknown chain for a real route: 404 naming the chain (not the database's foreign-key failure).
    const routeId = ((await stack.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!.id;
    const unknownChain = await stack.admin('PUT', `/v1/admin/routes/${routeId}/escalation-chain`, { chain_id: 99999 });
    expect(unknownChain.status).toBe(404);
    expect(unknownChain.body.message).toBe("no escalation chain with id 99999");
    expect((await stack.admin('DELETE', `/v1/admin/escalation-chains/${ok.body.id}`)).status).toBe(204);
    expect((await stack.admin('GET', `/v1/admin/escalation-chains/${ok.body.id}`)).status).toBe(404);
    const doc = (await stack.admin('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/admin/escalation-chains', '/v1/admin/escalation-chains/{id}/steps', '/v1/admin/routes/{id}/escalation-chain', '/v1/admin/escalations']));
  });
});
