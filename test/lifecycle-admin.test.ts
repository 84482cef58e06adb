import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAlert, alertCard, findAlert, resolveAlert, retractAlert } from '../src/services/lifecycle.js';
import { ServiceError } from '../src/services/errors.js';
import { alert, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({ env: { HERALD_LOG_LEVEL: 'info' } });
  token = await stack.source();
  await stack.channel({ webhooks: 0 });
});
afterAll(async () => stack?.close());

async function post(over: Record<string, unknown> = {}): Promise<number> {
  const res = await stack.post(token, alert(1, over));
  expect(res.status).toBe(202);
  return res.body.ids[0] as number;
}

const system = { kind: 'system' as const, name: 'herald' };

describe('admin API: acknowledge, resolve, retract', () => {
  it('acknowledges (twice is a no-op), records who, and refuses once resolved', async () => {
    const id = await post();
    const first = await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'erin' });
    expect(first.status).toBe(200);
    const again = await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'someone else' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ acknowledged_by: 'erin', acknowledged_at: first.body.acknowledged_at });
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`, null)).status).toBe(200);
    const refused = await stack.admin('POST', `/v1/admin/alerts/${id}/ack`);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'conflict', message: `alert #${id} is already resolved` });
    const actions = stack.herald.db.$client.prepare('select kind, actor_kind, actor_name from alert_actions where alert_id = ? order by id').all(id);
    expect(actions).toEqual([
      { kind: 'ack', actor_kind: 'admin', actor_name: 'erin' },
      { kind: 'resolve', actor_kind: 'admin', actor_name: 'admin' },
    ]);
  });

  it('answers 404 for an unknown alert and 400 for bad ids and bodies, never with a stack trace', async () => {
    const id = await post();
    const cases: [string, unknown, number][] = [
      ['/v1/admin/alerts/999999/ack', undefined, 404],
      ['/v1/admin/alerts/999999/resolve', undefined, 404],
      ['/v1/admin/alerts/999999/retract', { mode: 'delete' }, 404],
      ['/v1/admin/alerts/abc/ack', undefined, 400],
      ['/v1/admin/alerts/0/resolve', undefined, 400],
      [`/v1/admin/alerts/${id}/ack`, { by: 'x', extra: true }, 400],
      [`/v1/admin/alerts/${id}/ack`, { by: '' }, 400],
      [`/v1/admin/alerts/${id}/retract`, undefined, 400],
      [`/v1/admin/alerts/${id}/retract`, {}, 400],
      [`/v1/admin/alerts/${id}/retract`, { mode: 'shred' }, 400],
      [`/v1/admin/alerts/${id}/retract`, { mode: 'strike', reason: 'x'.repeat(501) }, 400],
      [`/v1/admin/alerts/${id}/retract`, { mode: 'strike', colour: 'red' }, 400],
    ];
    for (const [path, body, status] of cases) {
      const res = await stack.admin('POST', path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.error).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toMatch(/ at .*\.ts:\d+/);
    }
    expect((await stack.admin('POST', '/v1/admin/alerts/999999/ack')).body).toEqual({ error: 'not_found', message: 'no alert with id 999999' });
    // Nothing happened to the alert.
    expect((await stack.admin('GET', `/v1/admin/alerts/${id}`)).body).toMatchObject({ acknowledged_at: null, retracted_at: null });
  });

  it('retracts, cancelling queued deliveries; refuses a second retraction and later actions', async () => {
    const id = await post();
    const res = await stack.admin('POST', `/v1/admin/alerts/${id}/retract`, { mode: 'strike', reason: 'duplicate', by: 'frank' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ alert_id: id, messages: 0, cancelled: 1 });
    const detail = (await stack.admin('GET', `/v1/admin/alerts/${id}`)).body;
    expect(detail).toMatchObject({ retract_mode: 'strike', retract_reason: 'duplicate', retracted_at: expect.any(Number) });
    expect(detail.deliveries[0].state).toBe('cancelled');
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/retract`, { mode: 'delete' })).status).toBe(409);
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`)).status).toBe(409);
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`)).status).toBe(409);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/v1/admin/alerts/{id}/ack',
      '/v1/admin/alerts/{id}/resolve',
      '/v1/admin/alerts/{id}/retract',
      '/v1/admin/mutes',
      '/v1/admin/mutes/{id}',
      '/v1/admin/channels/{id}/webhooks/create',
      '/v1/admin/webhooks/{id}/rotate',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});

describe('lifecycle services (what the bot calls)', () => {
  it('findAlert takes "12", "#12" or a dedup key (newest alert with it)', async () => {
    const a = await post({ dedup_key: 'db-down' });
    const b = await post({ dedup_key: 'db-down' });
    expect(await findAlert(stack.herald, String(a))).toBe(a);
    expect(await findAlert(stack.herald, `#${a}`)).toBe(a);
    expect(await findAlert(stack.herald, ' db-down ')).toBe(b);
    await expect(findAlert(stack.herald, '#999999')).rejects.toThrow('no alert #999999');
    await expect(findAlert(stack.herald, 'nope')).rejects.toThrow(/no alert with id or dedup key "nope"/);
    try {
      await findAlert(stack.herald, 'nope');
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).status).toBe(404);
    }
  });

  it('records a Discord user, and resolve (the sender-side path later) is idempotent', async () => {
    const id = await post();
    const by = { kind: 'discord' as const, userId: '223456789012345678', name: 'gina' };
    expect(await acknowledgeAlert(stack.herald, id, by, { skipMessageId: '1' })).toMatchObject({ acknowledged_by: 'gina' });
    const card = await alertCard(stack.herald, id);
    expect(card.embeds[0]!.fields![0]!.value).toMatch(/^Acknowledged by <@223456789012345678> <t:\d+:R>$/);
    expect(card.components!.flatMap((r) => r.components.map((c) => c.custom_id))).toEqual([`herald:resolve:${id}`]);
    expect((await alertCard(stack.herald, id, { buttons: false })).components).toBeUndefined();
    await expect(alertCard(stack!.herald, 999_999)).rejects.toThrow('no alert with id 999999');
    const first = await resolveAlert(stack.herald, id, system);
    expect((await resolveAlert(stack.herald, id, by)).resolved_at).toBe(first.resolved_at);
    expect(first).toMatchObject({ status: 'resolved', resolved_by: 'herald' });
    const row = stack.herald.db.$client.prepare('select acknowledged_by_user as u from alerts where id = ?').get(id) as { u: string };
    expect(row.u).toBe('223456789012345678');
    expect(await retractAlert(stack.herald, id, { mode: 'delete', by })).toEqual({ alert_id: id, messages: 0, cancelled: 1 });
  });
});
