import { afterEach, describe, expect, it } from 'vitest';
import { RESOLVED_COLOR, SEVERITY_COLOR } from '../src/cards/alert-card.js';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Embed = { title?: string; color?: number; fields?: { name: string; value: string }[]; footer?: { text: string } };
type Row = { type: number; components: { custom_id: string }[] };

const live = (s: Stack, ch: TestChannel) => s.emulator.messages(ch.discordChannelId).filter((m) => !m.deleted);
const embedOf = (m: EmulatedMessage, id: number) => (m.embeds as Embed[]).find((e) => e.footer?.text?.includes(`alert #${id}`))!;
const field = (e: Embed, name: string) => e.fields?.find((f) => f.name === name)?.value;
const buttons = (m: EmulatedMessage) => (m.components as Row[]).flatMap((r) => r.components.map((c) => c.custom_id));
const detail = async (s: Stack, id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;

async function fire(s: Stack, token: string, over: Record<string, unknown> = {}, headers?: Record<string, string>) {
  const res = await s.post(token, alert(1, { dedup_key: 'disk-full:db1', ...over }), headers);
  expect(res.status).toBe(202);
  return res.body.ids[0] as number;
}

async function delivered(s: Stack, chs: TestChannel[], id: number) {
  await waitFor(`alert ${id} delivered`, () => chs.every((c) => deliveredAlertIds(s.emulator, c.discordChannelId).includes(id)));
}

describe('dedup and grouping', () => {
  it("folds Alertmanager-style re-sends of a firing key into the one card: nothing new posted, count and first/last seen edited in", async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1, applicationOwned: true });
    const id = await fire(stack, token);
    await delivered(stack, [ch], id);
    const first = live(stack, ch)[0]!;
    expect(field(embedOf(first, id), 'Fired')).toBeUndefined();

    // Three periodic re-sends (one of them a batch with the same key twice): all answer with the same id.
    expect(await fire(stack, token)).toBe(id);
    const batch = await stack.post(token, { alerts: [alert(1, { dedup_key: 'disk-full:db1' }), alert(1, { dedup_key: 'disk-full:db1' })] });
    expect(batch.body.ids).toEqual([id, id]);
    await waitFor('card shows 4 times', () => /^4 times/.test(field(embedOf(live(stack!, ch)[0]!, id), 'Fired') ?? ''));

    const m = live(stack, ch);
    expect(m).toHaveLength(1);
    expect(m[0]!.id).toBe(first.id);
    expect(field(embedOf(m[0]!, id), 'Fired')).toMatch(/^4 times · first <t:\d+:f> · last <t:\d+:R>$/);
    expect(buttons(m[0]!)).toEqual([`herald:ack:${id}`, `herald:resolve:${id}`, `herald:mute:${id}`]);
    const d = await detail(stack, id);
    expect(d).toMatchObject({ occurrences: 4, status: 'firing', last_seen_at: expect.any(Number), reopened_at: null });
    expect(d.deliveries).toHaveLength(1);
    expect((await stack.admin('GET', '/v1/admin/alerts')).body).toHaveLength(1);
    // The edits are durable message operations, like an acknowledgement's.
    const ops = stack.herald.db.$client.prepare('select distinct purpose from message_ops').all();
    expect(ops).toEqual([{ purpose: 'repeat' }]);

    // An alert without a dedup key is never folded; another key is another alert.
    const plain1 = (await stack.post(token, alert(2))).body.ids[0];
    const plain2 = (await stack.post(token, alert(2))).body.ids[0];
    const other = await fire(stack, token, { dedup_key: 'disk-full:db2' });
    expect(new Set([id, plain1, plain2, other]).size).toBe(4);
    await delivered(stack, [ch], other);
  });

  it('a repeat takes the sender\'s latest content; a higher severity posts the alert again, and every message shows it', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const id = await fire(stack, token, { severity: 'P2', title: 'Job export failed (attempt 1)' });
    await delivered(stack, [ch], id);
    expect(await fire(stack, token, { severity: 'P1', title: 'Job export failed: retries exhausted' })).toBe(id);
    await waitFor('a second message of the same alert', () => live(stack!, ch).length === 2);
    await waitFor('both messages show P1', () => live(stack!, ch).every((m) => embedOf(m, id).title === '[P1] Job export failed: retries exhausted'));
    // A lower severity later does not lower it, and posts nothing new.
    expect(await fire(stack, token, { severity: 'P3', title: 'Job export failed (attempt 1)' })).toBe(id);
    await waitFor('both edited to the latest title', () => live(stack!, ch).every((m) => embedOf(m, id).title === '[P1] Job export failed (attempt 1)'));
    expect(live(stack, ch)).toHaveLength(2);
    expect(await detail(stack, id)).toMatchObject({ severity: 'P1', occurrences: 3 });
  });

  it('keeps a dedup key within its source, and the Idempotency-Key behaviour as it was', async () => {
    stack = await startStack(FAST);
    const a = await stack.source('alertmanager');
    const b = await stack.source('other');
    await stack.channel({ webhooks: 1 });
    const fromA = await fire(stack, a);
    const fromB = await fire(stack, b);
    expect(fromB).not.toBe(fromA);

    const replay = { 'idempotency-key': 'req-1' };
    expect(await fire(stack, a, {}, replay)).toBe(fromA);
    const again = await stack.post(a, alert(1, { dedup_key: 'disk-full:db1' }), replay);
    expect(again.body.ids).toEqual([fromA]);
    // The replay was not counted as another occurrence.
    expect((await detail(stack, fromA)).occurrences).toBe(2);
  });

  it("a sender's resolved resolves the open alert: every message edited, in two channels, resolved colour, by the source, buttons removed", async () => {
    stack = await startStack(FAST);
    const token = await stack.source('prometheus');
    const app = await stack.channel({ webhooks: 1, applicationOwned: true });
    const pasted = await stack.channel({ webhooks: 1 });
    const id = await fire(stack, token, { severity: 'P1', title: 'Disk full on db1' });
    await delivered(stack, [app, pasted], id);

    const res = await stack.post(token, alert(1, { dedup_key: 'disk-full:db1', status: 'resolved', title: 'Disk full on db1' }));
    expect(res.status).toBe(202);
    expect(res.body.ids).toEqual([id]);
    await waitFor('resolved in both channels', () => [app, pasted].every((c) => embedOf(live(stack!, c)[0]!, id).color === RESOLVED_COLOR));
    for (const c of [app, pasted]) {
      const msgs = live(stack, c);
      expect(msgs).toHaveLength(1);
      const e = embedOf(msgs[0]!, id);
      expect(e.title).toBe('[RESOLVED] Disk full on db1');
      expect(field(e, 'Status')).toMatch(/^Resolved by prometheus <t:\d+:R>$/);
      expect(msgs[0]!.components).toEqual([]);
    }
    const d = await detail(stack, id);
    expect(d).toMatchObject({ status: 'resolved', resolved_by: 'prometheus', resolved_at: expect.any(Number) });
    const actions = stack.herald.db.$client.prepare('select kind, actor_kind, actor_name from alert_actions where alert_id = ?').all(id);
    expect(actions).toEqual([{ kind: 'resolve', actor_kind: 'system', actor_name: 'prometheus' }]);

    // The same resolved again (Alertmanager repeats resolved notifications): nothing changes, same id.
    const again = await stack.post(token, alert(1, { dedup_key: 'disk-full:db1', status: 'resolved' }));
    expect(again.body.ids).toEqual([id]);
    expect((await stack.admin('GET', '/v1/admin/alerts')).body).toHaveLength(1);
  });

  it('a resolved with no alert to resolve is recorded (resolved, fired 0 times), never posted; a later firing is a new alert', async () => {
    stack = await startStack(FAST);
    const token = await stack.source('jobs');
    const ch = await stack.channel({ webhooks: 1 });
    const res = await stack.post(token, alert(1, { dedup_key: 'never-fired', status: 'resolved' }));
    expect(res.status).toBe(202);
    const orphan = res.body.ids[0];
    const d = await detail(stack, orphan);
    expect(d).toMatchObject({ status: 'resolved', occurrences: 0, resolved_by: 'jobs', resolved_at: d.received_at, deliveries: [] });
    expect((await stack.admin('GET', '/v1/admin/alerts')).body.map((a: { id: number }) => a.id)).toEqual([orphan]);

    const fired = await fire(stack, token, { dedup_key: 'never-fired' });
    expect(fired).not.toBe(orphan);
    await delivered(stack, [ch], fired);
    expect(deliveredAlertIds(stack.emulator, ch.discordChannelId)).toEqual([fired]);

    // Without a dedup key, a resolved names the open alerts of the same service and title.
    const plain = (await stack.post(token, alert(5, { service: 'backup' }))).body.ids[0];
    await delivered(stack, [ch], plain);
    const r = await stack.post(token, alert(5, { service: 'backup', status: 'resolved' }));
    expect(r.body.ids).toEqual([plain]);
    expect((await detail(stack, plain)).status).toBe('resolved');
  });

  it('an alert firing again within the reopen window reopens the same card; after it, a new card is posted', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_REOPEN_WINDOW_MS: '1500' } });
    const token = await stack.source('am');
    const ch = await stack.channel({ webhooks: 1, applicationOwned: true });
    const id = await fire(stack, token, { severity: 'P2' });
    await delivered(stack, [ch], id);
    await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'alice' });
    await stack.post(token, alert(1, { dedup_key: 'disk-full:db1', status: 'resolved' }));
    await waitFor('resolved', () => embedOf(live(stack!, ch)[0]!, id).color === RESOLVED_COLOR);

    // Within the window: the same alert, firing again, its card back to firing with its buttons.
    expect(await fire(stack, token, { severity: 'P2' })).toBe(id);
    await waitFor('reopened on Discord', () => embedOf(live(stack!, ch)[0]!, id).color === SEVERITY_COLOR.P2);
    const m = live(stack, ch);
    expect(m).toHaveLength(1);
    const e = embedOf(m[0]!, id);
    expect(field(e, 'Status')).toMatch(/^Reopened <t:\d+:R>$/);
    expect(field(e, 'Fired')).toMatch(/^2 times/);
    expect(buttons(m[0]!)).toEqual([`herald:ack:${id}`, `herald:resolve:${id}`, `herald:mute:${id}`]);
    expect(await detail(stack, id)).toMatchObject({ status: 'firing', occurrences: 2, reopened_at: expect.any(Number), resolved_at: null, acknowledged_at: null });
    expect(stack.herald.db.$client.prepare("select count(*) as n from message_ops where purpose = 'reopen'").get()).toEqual({ n: 1 });
    const kinds = stack.herald.db.$client.prepare('select kind, actor_name from alert_actions where alert_id = ? order by id').all(id);
    expect(kinds).toEqual([
      { kind: 'ack', actor_name: 'alice' },
      { kind: 'resolve', actor_name: 'am' },
      { kind: 'reopen', actor_name: 'am' },
    ]);

    // Resolved again, then firing after the window: a new alert and a new message.
    await stack.post(token, alert(1, { dedup_key: 'disk-full:db1', status: 'resolved' }));
    await waitFor('resolved again', () => embedOf(live(stack!, ch)[0]!, id).color === RESOLVED_COLOR);
    await new Promise((r) => setTimeout(r, 1600));
    const next = await fire(stack, token);
    expect(next).not.toBe(id);
    await delivered(stack, [ch], next);
    expect(live(stack, ch)).toHaveLength(2);
  });
});

describe('mutes', () => {
  it('expire on time: an alert during the mute is recorded as muted, one just after is delivered', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const { createMute } = await import('../src/services/mutes.js');
    // A one-minute mute that started 59.5 s ago: it ends in half a second.
    const mute = await createMute(stack.herald, { service: 'checkout', duration_minutes: 1 }, { kind: 'admin', name: 'ops' }, Date.now() - 59_500);
    expect(mute.active).toBe(true);
    const muted = await fire(stack, token, { dedup_key: undefined });
    expect((await detail(stack, muted)).muted_by_mute_id).toBe(mute.id);
    await new Promise((r) => setTimeout(r, Math.max(0, mute.expires_at - Date.now()) + 50));
    const loud = await fire(stack, token, { dedup_key: undefined });
    await delivered(stack, [ch], loud);
    expect(deliveredAlertIds(stack.emulator, ch.discordChannelId)).toEqual([loud]);
    expect((await stack.admin('GET', `/v1/admin/mutes/${mute.id}`)).body).toMatchObject({ active: false, ended_at: null, muted_alerts: 1 });
    expect((await stack.admin('GET', '/v1/admin/alerts?muted=true')).body.map((a: { id: number }) => a.id)).toEqual([muted]);
  });

  it('muted repeats of a posted alert are recorded as one muted alert (counted), the card untouched; after the mute a repeat is posted', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const id = await fire(stack, token);
    await delivered(stack, [ch], id);
    const mute = await stack.admin('POST', '/v1/admin/mutes', { dedup_key: 'disk-full:db1', duration_minutes: 10 });
    const m1 = await fire(stack, token);
    const m2 = await fire(stack, token);
    expect(m1).not.toBe(id);
    expect(m2).toBe(m1);
    expect(await detail(stack, m1)).toMatchObject({ muted_by_mute_id: mute.body.id, occurrences: 2, deliveries: [] });
    expect((await detail(stack, id)).occurrences).toBe(1);
    expect((await stack.admin('GET', '/v1/admin/alerts?muted=true')).body.map((a: { id: number }) => a.id)).toEqual([m1]);
    expect((await stack.admin('GET', '/v1/admin/mutes')).body[0]).toMatchObject({ id: mute.body.id, muted_alerts: 1 });

    await stack.admin('DELETE', `/v1/admin/mutes/${mute.body.id}`);
    const after = await fire(stack, token);
    expect([id, m1]).not.toContain(after);
    await delivered(stack, [ch], after);
    // A resolved resolves every open alert of the key: the posted ones and the muted record.
    const r = await stack.post(token, alert(1, { dedup_key: 'disk-full:db1', status: 'resolved' }));
    expect(r.body.ids).toEqual([after]);
    for (const x of [id, m1, after]) expect((await detail(stack, x)).status).toBe('resolved');
  });
});
