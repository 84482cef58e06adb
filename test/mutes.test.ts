import { afterEach, describe, expect, it } from 'vitest';
import { createMute, deleteMute, listMutes, muteAlert } from '../src/services/mutes.js';
import { ServiceError } from '../src/services/errors.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, FAST } from './support/stack.js';

const admin = { kind: 'admin' as const, name: 'tester' };

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function post(s: Stack, token: string, over: Record<string, unknown>): Promise<number> {
  const res = await s.post(token, alert(1, over));
  expect(res.status).toBe(202);
  return res.body.ids[0] as number;
}

const detail = async (s: Stack, id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;

describe('mutes', () => {
  it('mutes by service glob: stored with the mute id, no delivery, listed with ?muted=true; unmuting delivers again', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const created = await stack.admin('POST', '/v1/admin/mutes', { service: 'payments-*', duration_minutes: 60, reason: 'maintenance', by: 'ops' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ service: 'payments-*', route_id: null, dedup_key: null, reason: 'maintenance', created_by: 'ops', active: true });
    expect(created.body.expires_at - created.body.created_at).toBe(60 * 60_000);

    const muted = await post(stack, token, { service: 'Payments-API' });
    const loud = await post(stack, token, { service: 'checkout' });
    await waitFor('the unmuted alert delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(loud));
    const d = await detail(stack, muted);
    expect(d.muted_by_mute_id).toBe(created.body.id);
    expect(d.deliveries).toEqual([]);
    expect(deliveredAlertIds(stack.emulator, ch.discordChannelId)).not.toContain(muted);
    expect((await stack.admin('GET', '/v1/admin/alerts?muted=true')).body.map((a: { id: number }) => a.id)).toEqual([muted]);
    expect((await stack.admin('GET', '/v1/admin/alerts?muted=false')).body.map((a: { id: number }) => a.id)).toEqual([loud]);

    expect((await stack.admin('GET', '/v1/admin/mutes?active=true')).body).toHaveLength(1);
    expect((await stack.admin('DELETE', `/v1/admin/mutes/${created.body.id}`)).status).toBe(204);
    expect((await stack.admin('GET', '/v1/admin/mutes?active=true')).body).toHaveLength(0);
    expect((await stack.admin('GET', '/v1/admin/mutes')).body[0]).toMatchObject({ id: created.body.id, active: false, ended_at: expect.any(Number) });
    const after = await post(stack, token, { service: 'payments-api' });
    await waitFor('delivered after unmute', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(after));
    expect((await stack.admin('DELETE', `/v1/admin/mutes/${created.body.id}`)).status).toBe(404);
  });

  it('mutes by dedup key, and "Mute 1h" on an alert mutes its dedup key (or its service and title)', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    await stack.channel({ webhooks: 1 });
    const m = await stack.admin('POST', '/v1/admin/mutes', { dedup_key: 'disk-full-db1', duration_minutes: 5 });
    expect(m.status).toBe(201);
    expect((await detail(stack, await post(stack, token, { dedup_key: 'disk-full-db1' }))).muted_by_mute_id).toBe(m.body.id);
    expect((await detail(stack, await post(stack, token, { dedup_key: 'disk-full-db2' }))).muted_by_mute_id).toBeNull();

    const keyed = await post(stack, token, { dedup_key: 'cpu-hot' });
    const byButton = await muteAlert(stack.herald, keyed, 60, { kind: 'discord', userId: '123456789012345678', name: 'carol' });
    expect(byButton).toMatchObject({ dedup_key: 'cpu-hot', service: null, created_by: 'carol', active: true });
    expect(byButton.expires_at - byButton.created_at).toBe(3_600_000);
    expect((await detail(stack, await post(stack, token, { dedup_key: 'cpu-hot' }))).muted_by_mute_id).toBe(byButton.id);

    const plain = await post(stack, token, { service: 'search', title: 'Index lagging' });
    const byTitle = await muteAlert(stack.herald, plain, 60, admin);
    expect(byTitle).toMatchObject({ service: 'search', title: 'Index lagging', dedup_key: null });
    expect((await detail(stack, await post(stack, token, { service: 'search', title: 'Index lagging' }))).muted_by_mute_id).toBe(byTitle.id);
    expect((await detail(stack, await post(stack, token, { service: 'search', title: 'Other' }))).muted_by_mute_id).toBeNull();
    const actions = stack.herald.db.$client.prepare("select kind, actor_name, actor_user_id from alert_actions where alert_id = ?").all(keyed);
    expect(actions).toEqual([{ kind: 'mute', actor_name: 'carol', actor_user_id: '123456789012345678' }]);
    await expect(muteAlert(stack!.herald, 999_999, 60, admin)).rejects.toThrow(ServiceError);
  });

  it("a dedup key is its source's own: muting A's alert (Mute 1h, or the admin API with source_id) leaves B's alert with that key delivered", async () => {
    stack = await startStack(FAST);
    const tokenA = await stack.source('mute-a');
    const tokenB = await stack.source('mute-b');
    const sourceId = (name: string) => (stack!.herald.db.$client.prepare('select id from sources where name = ?').get(name) as { id: number }).id;
    const ch = await stack.channel({ webhooks: 1 });
    const delivered = (id: number) => waitFor(`alert #${id} delivered`, () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id));

    // What the "Mute 1h" button calls, on A's alert.
    const fromA = await post(stack, tokenA, { dedup_key: 'disk-full' });
    const byButton = await muteAlert(stack.herald, fromA, 60, { kind: 'discord', userId: '123456789012345678', name: 'carol' });
    expect(byButton).toMatchObject({ dedup_key: 'disk-full', source_id: sourceId('mute-a') });
    const againA = await post(stack, tokenA, { dedup_key: 'disk-full' });
    const fromB = await post(stack, tokenB, { dedup_key: 'disk-full' });
    await delivered(fromB);
    expect((await detail(stack, fromB)).muted_by_mute_id).toBeNull();
    expect((await detail(stack, againA)).muted_by_mute_id).toBe(byButton.id);

    // The admin API, scoped by source_id: the same.
    const scoped = await stack.admin('POST', '/v1/admin/mutes', { dedup_key: 'cpu-hot', source_id: sourceId('mute-a'), duration_minutes: 5 });
    expect(scoped.status).toBe(201);
    expect(scoped.body).toMatchObject({ dedup_key: 'cpu-hot', source_id: sourceId('mute-a') });
    expect((await detail(stack, await post(stack, tokenA, { dedup_key: 'cpu-hot' }))).muted_by_mute_id).toBe(scoped.body.id);
    const cpuB = await post(stack, tokenB, { dedup_key: 'cpu-hot' });
    await delivered(cpuB);
    expect((await detail(stack, cpuB)).muted_by_mute_id).toBeNull();

    // Without source_id an admin mute keeps its documented meaning: that key from every source.
    const everywhere = await stack.admin('POST', '/v1/admin/mutes', { dedup_key: 'fan-loud', duration_minutes: 5 });
    expect(everywhere.body.source_id).toBeNull();
    expect((await detail(stack, await post(stack, tokenA, { dedup_key: 'fan-loud' }))).muted_by_mute_id).toBe(everywhere.body.id);
    expect((await detail(stack, await post(stack, tokenB, { dedup_key: 'fan-loud' }))).muted_by_mute_id).toBe(everywhere.body.id);

    // source_id narrows a dedup key mute only, and names a source that exists.
    const withService = await stack.admin('POST', '/v1/admin/mutes', { service: 'x', source_id: sourceId('mute-a'), duration_minutes: 5 });
    expect(withService.status).toBe(400);
    expect(JSON.stringify(withService.body)).toMatch(/source_id narrows a dedup_key mute/);
    const unknown = await stack.admin('POST', '/v1/admin/mutes', { dedup_key: 'k', source_id: 424242, duration_minutes: 5 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('no source with id 424242');
  });

  it('mutes a route: the alert still goes where other routes send it, and is muted when none is left', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const a = await stack.channel({ webhooks: 1 });
    const b = await stack.channel({ webhooks: 1 });
    const routes = (await stack.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[];
    const routeA = routes.find((r) => r.channel_id === a.id)!.id;
    const routeB = routes.find((r) => r.channel_id === b.id)!.id;
    const muteA = await stack.admin('POST', '/v1/admin/mutes', { route_id: routeA, duration_minutes: 10 });
    expect(muteA.status).toBe(201);
    const half = await post(stack, token, {});
    const d = await detail(stack, half);
    expect(d.muted_by_mute_id).toBeNull();
    expect(d.deliveries.map((x: { channel_id: number }) => x.channel_id)).toEqual([b.id]);

    await stack.admin('POST', '/v1/admin/mutes', { route_id: routeB, duration_minutes: 10 });
    const none = await detail(stack, await post(stack, token, {}));
    expect(none.muted_by_mute_id).toBe(muteA.body.id);
    expect(none.deliveries).toEqual([]);
    expect(none.unrouted).toBe(false);
  });

  it('expired mutes do not match', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    await stack.channel({ webhooks: 1 });
    const past = Date.now() - 2 * 60_000;
    const expired = await createMute(stack.herald, { service: 'checkout', duration_minutes: 1 }, admin, past);
    expect(expired.active).toBe(false);
    expect((await detail(stack, await post(stack, token, { service: 'checkout' }))).muted_by_mute_id).toBeNull();
    expect(await listMutes(stack.herald, { active: true })).toEqual([]);
    expect(await listMutes(stack.herald)).toHaveLength(1);
    await expect(deleteMute(stack!.herald, expired.id)).rejects.toThrow(/no mute in force/);
  });

  it('refuses bad input with a clear 400 or 404', async () => {
    stack = await startStack(FAST);
    const bad = [
      [{ duration_minutes: 10 }, /exactly one of service, route_id, dedup_key/],
      [{ service: 'a', dedup_key: 'b', duration_minutes: 10 }, /exactly one/],
      [{ service: 'a', duration_minutes: 0 }, /./],
      [{ service: 'a', duration_minutes: 43_201 }, /./],
      [{ service: 'a' }, /./],
      [{ service: 'a', duration_minutes: 10, extra: true }, /unknown field|Unrecognized/i],
    ] as const;
    for (const [body, message] of bad) {
      const res = await stack.admin('POST', '/v1/admin/mutes', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(message);
    }
    const noRoute = await stack.admin('POST', '/v1/admin/mutes', { route_id: 424242, duration_minutes: 10 });
    expect(noRoute.status).toBe(404);
    expect(noRoute.body.message).toBe('no route with id 424242');
    expect((await stack.admin('DELETE', '/v1/admin/mutes/77')).status).toBe(404);
    expect((await stack.admin('DELETE', '/v1/admin/mutes/abc')).status).toBe(400);
    expect((await stack.admin('GET', '/v1/admin/mutes?active=maybe')).status).toBe(400);
  });
});
