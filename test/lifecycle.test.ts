import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RESOLVED_COLOR, RETRACTED_COLOR } from '../src/cards/alert-card.js';
import { startEmulator, type EmulatedMessage } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, type TestChannel, FAST } from './support/stack.js';


let stack: Stack | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const c of cleanups.splice(0)) await c();
});

type Embed = { title?: string; color?: number; fields?: { name: string; value: string }[]; footer?: { text: string } };
type Row = { type: number; components: { custom_id: string; label: string }[] };

/** The live (not deleted) messages of a channel that show the alert. */
function messagesOf(s: Stack, ch: TestChannel, alertId: number): EmulatedMessage[] {
  return s.emulator
    .messages(ch.discordChannelId)
    .filter((m) => (m.embeds as Embed[]).some((e) => e.footer?.text?.includes(`alert #${alertId}`)));
}

const embedOf = (m: EmulatedMessage, alertId: number) => (m.embeds as Embed[]).find((e) => e.footer?.text?.includes(`alert #${alertId}`))!;
const statusField = (e: Embed) => e.fields?.find((f) => f.name === 'Status')?.value;
const buttonIds = (m: EmulatedMessage) => (m.components as Row[]).flatMap((r) => r.components.map((c) => c.custom_id));

async function postOne(s: Stack, token: string, over: Record<string, unknown> = {}): Promise<number> {
  const res = await s.post(token, alert(1, over));
  expect(res.status).toBe(202);
  return res.body.ids[0] as number;
}

async function deliveredIn(s: Stack, chs: TestChannel[], id: number): Promise<void> {
  await waitFor(`alert ${id} delivered in ${chs.length} channels`, () => chs.every((c) => deliveredAlertIds(s.emulator, c.discordChannelId).includes(id)));
}

describe('acknowledge and resolve', () => {
  it('edits every message of the alert, in two channels, through the webhook that posted each; buttons only on the app-owned one', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const app = await stack.channel({ webhooks: 2, applicationOwned: true });
    const pasted = await stack.channel({ webhooks: 1 });
    const id = await postOne(stack, token, { severity: 'P1', title: 'Checkout down' });
    await deliveredIn(stack, [app, pasted], id);

    const [a0] = messagesOf(stack, app, id);
    const [p0] = messagesOf(stack, pasted, id);
    expect(buttonIds(a0!)).toEqual([`herald:ack:${id}`, `herald:resolve:${id}`, `herald:mute:${id}`]);
    expect(p0!.components).toEqual([]);

    const ack = await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'alice' });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id, acknowledged_by: 'alice', acknowledged_at: expect.any(Number), resolved_at: null });
    await waitFor('both messages edited', () => [app, pasted].every((c) => messagesOf(stack!, c, id)[0]?.editedAt !== undefined));
    for (const [c, before] of [[app, a0!], [pasted, p0!]] as const) {
      const m = messagesOf(stack, c, id)[0]!;
      // Same message, same webhook: edited in place, not reposted.
      expect(m.id).toBe(before.id);
      expect(m.webhookId).toBe(before.webhookId);
      expect(statusField(embedOf(m, id))).toMatch(/^Acknowledged by alice <t:\d+:R>$/);
    }
    expect(buttonIds(messagesOf(stack, app, id)[0]!)).toEqual([`herald:resolve:${id}`]);
    expect(messagesOf(stack, pasted, id)[0]!.components).toEqual([]);

    const resolved = await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`);
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolved_by: 'admin' });
    await waitFor('resolved colour in both channels', () => [app, pasted].every((c) => embedOf(messagesOf(stack!, c, id)[0]!, id).color === RESOLVED_COLOR));
    const m = messagesOf(stack, app, id)[0]!;
    expect(embedOf(m, id).title).toBe('[RESOLVED] Checkout down');
    expect(statusField(embedOf(m, id))).toMatch(/Resolved by admin <t:\d+:R>\nAcknowledged by alice/);
    expect(m.components).toEqual([]);
    // Nothing new was posted: two channels, one message each.
    expect(stack.emulator.messages(app.discordChannelId)).toHaveLength(1);
    expect(stack.emulator.messages(pasted.discordChannelId)).toHaveLength(1);

    // Ack after resolve is refused; resolving again is a no-op.
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`)).status).toBe(409);
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`)).status).toBe(200);
    const attempts = (await stack.admin('GET', '/v1/admin/attempts?limit=100')).body as { outcome: string; webhook_id: number }[];
    expect(attempts.filter((a) => a.outcome === 'edited')).toHaveLength(4);
  });

  it('collapses quick successive actions into as few edits as the state needs', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1, applicationOwned: true });
    const id = await postOne(stack, token);
    await deliveredIn(stack, [ch], id);
    // Hold the webhook's answers back so both actions land while the first edit is queued.
    stack.emulator.injectFault({ kind: 'slow', delayMs: 300, count: 1 });
    await stack.admin('POST', `/v1/admin/alerts/${id}/ack`);
    await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`);
    await waitFor('resolved on Discord', () => embedOf(messagesOf(stack!, ch, id)[0]!, id).color === RESOLVED_COLOR);
    const ops = stack.herald.db.$client.prepare('select count(*) as n from message_ops').get() as { n: number };
    expect(ops.n).toBeLessThanOrEqual(2);
  });

  it('shows the current state on a message sent after the action (ack before delivery)', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 0, applicationOwned: true });
    const id = await postOne(stack, token);
    await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'bob' });
    const hook = stack.emulator.createWebhook(ch.discordChannelId, { applicationOwned: true });
    expect((await stack.admin('POST', `/v1/admin/channels/${ch.id}/webhooks`, { url: hook.url, owner: 'app' })).status).toBe(201);
    await deliveredIn(stack, [ch], id);
    const m = messagesOf(stack, ch, id)[0]!;
    expect(statusField(embedOf(m, id))).toMatch(/^Acknowledged by bob/);
    expect(buttonIds(m)).toEqual([`herald:resolve:${id}`]);
    expect(m.editedAt).toBeUndefined();
  });
});

describe('retract', () => {
  it('strikes every message through, across two channels, and cancels queued deliveries', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const a = await stack.channel({ webhooks: 1, applicationOwned: true });
    const b = await stack.channel({ webhooks: 1 });
    const idle = await stack.channel({ webhooks: 0 }); // no webhook: its delivery stays queued
    const id = await postOne(stack, token, { title: 'Disk full' });
    await deliveredIn(stack, [a, b], id);

    const res = await stack.admin('POST', `/v1/admin/alerts/${id}/retract`, { mode: 'strike', reason: 'test alert, sent by mistake' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ alert_id: id, messages: 2, cancelled: 1 });
    await waitFor('struck in both', () => [a, b].every((c) => embedOf(messagesOf(stack!, c, id)[0]!, id).title?.startsWith('~~')));
    for (const c of [a, b]) {
      const e = embedOf(messagesOf(stack, c, id)[0]!, id);
      expect(e.title).toBe('~~[RETRACTED] Disk full~~');
      expect(e.color).toBe(RETRACTED_COLOR);
      expect(statusField(e)).toMatch(/^Retracted <t:\d+:R>: test alert, sent by mistake$/);
    }
    expect(messagesOf(stack, a, id)[0]!.components).toEqual([]);
    const detail = (await stack.admin('GET', `/v1/admin/alerts/${id}`)).body;
    expect(detail.retracted_at).toEqual(expect.any(Number));
    expect(detail.deliveries.find((d: { channel_id: number }) => d.channel_id === idle.id).state).toBe('cancelled');
    // A webhook added later sends nothing for it.
    const hook = stack.emulator.createWebhook(idle.discordChannelId);
    await stack.admin('POST', `/v1/admin/channels/${idle.id}/webhooks`, { url: hook.url });
    await new Promise((r) => setTimeout(r, 300));
    expect(stack.emulator.messages(idle.discordChannelId)).toHaveLength(0);
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/retract`, { mode: 'delete' })).status).toBe(409);
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`)).status).toBe(409);
  });

  it('deletes every message across two channels; in a packed message only its own embed goes', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const a = await stack.channel({ webhooks: 1 });
    const b = await stack.channel({ webhooks: 1 });
    const id = await postOne(stack, token);
    await deliveredIn(stack, [a, b], id);
    const res = await stack.admin('POST', `/v1/admin/alerts/${id}/retract`, { mode: 'delete' });
    expect(res.body).toMatchObject({ messages: 2, cancelled: 0 });
    await waitFor('deleted in both', () => [a, b].every((c) => messagesOf(stack!, c, id).every((m) => m.deleted)));
    expect(deliveredAlertIds(stack.emulator, a.discordChannelId)).not.toContain(id);
  });

  it('removes only its embed from a packed message', async () => {
    stack = await startStack({ env: FAST.env, emulator: FAST.emulator });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 0 });
    const res = await stack.post(token, { alerts: [alert(1), alert(2), alert(3)] });
    const ids = res.body.ids as number[];
    // A backlog bigger than the free budget makes the lane pack; simplest here: queue first, then add the webhook.
    stack.herald.scheduler.wake(ch.id, 100);
    const hook = stack.emulator.createWebhook(ch.discordChannelId, { applicationOwned: true });
    await stack.admin('POST', `/v1/admin/channels/${ch.id}/webhooks`, { url: hook.url, owner: 'app' });
    await deliveredIn(stack, [ch], ids[2]!);
    const packed = stack.emulator.messages(ch.discordChannelId);
    expect(packed).toHaveLength(1);
    expect(packed[0]!.embeds).toHaveLength(3);
    // Packed messages get no buttons, even from an application-owned webhook.
    expect(packed[0]!.components).toEqual([]);

    await stack.admin('POST', `/v1/admin/alerts/${ids[1]}/retract`, { mode: 'delete' });
    await waitFor('embed removed', () => stack!.emulator.messages(ch.discordChannelId)[0]!.embeds.length === 2);
    expect(deliveredAlertIds(stack.emulator, ch.discordChannelId)).toEqual([ids[0], ids[2]]);
    await stack.admin('POST', `/v1/admin/alerts/${ids[0]}/ack`);
    await waitFor('ack shown in the pack', () => statusField(embedOf(stack!.emulator.messages(ch.discordChannelId)[0]!, ids[0]!)) !== undefined);
    expect(stack.emulator.messages(ch.discordChannelId)[0]!.components).toEqual([]);
  });
});

describe('budgets', () => {
  it("edits stay within the posting webhook's bucket and take no slot of the channel's message cap", async () => {
    // The channel allows 6 messages a minute; the webhook 3 requests per 400 ms.
    stack = await startStack({
      env: { ...FAST.env, HERALD_CHANNEL_CAP: '6', HERALD_CHANNEL_WINDOW_MS: '60000', HERALD_PRIORITY_RESERVE: '1' },
      emulator: { channelCap: { limit: 6, windowMs: 60_000 }, webhookBucket: { limit: 3, windowMs: 400 } },
    });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1, applicationOwned: true });
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await postOne(stack, token, { severity: 'P1', title: `Alert ${i}` });
      await deliveredIn(stack, [ch], id);
      ids.push(id);
    }
    expect(stack.emulator.messages(ch.discordChannelId)).toHaveLength(6);
    // The channel's cap is used up; twelve edits still go through, paced by the webhook's bucket.
    for (const id of ids) await stack.admin('POST', `/v1/admin/alerts/${id}/ack`);
    for (const id of ids) await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`);
    await waitFor('all resolved', () => stack!.emulator.messages(ch.discordChannelId).every((m) => (m.embeds[0] as Embed).color === RESOLVED_COLOR), 20_000);
    const stats = stack.emulator.stats();
    expect(stats.rateLimited).toEqual({ user: 0, shared: 0, global: 0 });
    expect(stats.messagesCreated).toBe(6);
  });
});

describe('edit failures', () => {
  it('retries 5xx with backoff, dead-letters after the bounded attempts, and a replay makes the edit', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_MAX_ATTEMPTS: '3' } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const id = await postOne(stack, token);
    await deliveredIn(stack, [ch], id);
    stack.emulator.injectFault({ kind: 'error', status: 502 });
    await stack.admin('POST', `/v1/admin/alerts/${id}/ack`);
    await waitFor('a dead letter', async () => (await stack!.admin('GET', '/v1/admin/dead-letters')).body.length === 1);
    const [letter] = (await stack.admin('GET', '/v1/admin/dead-letters')).body;
    expect(letter.reason).toMatch(/gave up on editing message \d+ after 3 attempts: Discord answered 502/);
    expect(stack.emulator.stats().byStatus['502']).toBe(3);
    expect(messagesOf(stack, ch, id)[0]!.editedAt).toBeUndefined();

    stack.emulator.clearFaults();
    expect((await stack.admin('POST', `/v1/admin/dead-letters/${letter.id}/replay`)).status).toBe(200);
    await waitFor('edited after replay', () => messagesOf(stack!, ch, id)[0]!.editedAt !== undefined);
    expect(statusField(embedOf(messagesOf(stack, ch, id)[0]!, id))).toMatch(/^Acknowledged by admin/);
    // The delivery itself was never in question.
    expect((await stack.admin('GET', `/v1/admin/alerts/${id}`)).body.deliveries[0].state).toBe('sent');
  });
});

describe('when the posting webhook is gone', () => {
  it('without a bot: the edit is a dead letter with a clear reason, and the webhook is not hammered', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const id = await postOne(stack, token);
    await deliveredIn(stack, [ch], id);
    stack.emulator.deleteWebhook(ch.webhookIds[0]!);
    stack.emulator.resetStats();
    await stack.admin('POST', `/v1/admin/alerts/${id}/ack`);
    await waitFor('a dead letter', async () => (await stack!.admin('GET', '/v1/admin/dead-letters')).body.length === 1);
    const [letter] = (await stack.admin('GET', '/v1/admin/dead-letters')).body;
    expect(letter.alert_id).toBe(id);
    expect(letter.reason).toMatch(/Discord answered 404.*no bot is configured \(DISCORD_TOKEN\), so Herald cannot delete or repost the message/);
    expect(stack.emulator.stats().byStatus['404']).toBe(1);
    // Further actions do not knock on the dead webhook again.
    await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`);
    await waitFor('a second dead letter', async () => (await stack!.admin('GET', '/v1/admin/dead-letters')).body.length === 2);
    expect(stack.emulator.stats().byStatus['404']).toBe(1);
    const hooks = (await stack.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`)).body;
    expect(hooks[0].state).toBe('quarantined');
  });
});

describe('durability', () => {
  it('performs edits queued before a restart (Herald closed and recreated on the same database file)', async () => {
    const emulator = await startEmulator(FAST.emulator);
    const dir = mkdtempSync(join(tmpdir(), 'herald-lifecycle-'));
    cleanups.push(() => emulator.close(), () => rmSync(dir, { recursive: true, force: true }));
    const first = await startStack({ ...FAST, dir, emulatorInstance: emulator });
    const token = await first.source();
    const ch = await first.channel({ webhooks: 1, applicationOwned: true });
    const ids = [await postOne(first, token), await postOne(first, token)];
    await deliveredIn(first, [ch], ids[1]!);
    // Delivery stops; the actions are committed as rows and nothing sends them.
    await first.herald.scheduler.stop(1000);
    expect((await first.admin('POST', `/v1/admin/alerts/${ids[0]}/ack`)).status).toBe(200);
    expect((await first.admin('POST', `/v1/admin/alerts/${ids[1]}/retract`, { mode: 'strike', reason: 'oops' })).status).toBe(200);
    await first.close();
    expect(emulator.messages(ch.discordChannelId).every((m) => m.editedAt === undefined)).toBe(true);

    stack = await startStack({ ...FAST, dir, emulatorInstance: emulator });
    await waitFor('both edits made after the restart', () => emulator.messages(ch.discordChannelId).filter((m) => m.editedAt !== undefined).length === 2);
    const msgs = emulator.messages(ch.discordChannelId);
    const byAlert = (id: number) => msgs.find((m) => (m.embeds as Embed[]).some((e) => e.footer?.text?.includes(`alert #${id}`)))!;
    expect(statusField(embedOf(byAlert(ids[0]!), ids[0]!))).toMatch(/^Acknowledged by admin/);
    expect(embedOf(byAlert(ids[1]!), ids[1]!).title).toMatch(/^~~/);
  });
});
