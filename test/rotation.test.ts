import { afterEach, describe, expect, it } from 'vitest';
import { deleteRetiredWebhook } from '../src/services/webhooks.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, FAST } from './support/stack.js';


let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type Embed = { footer?: { text: string }; fields?: { name: string; value: string }[] };

async function postMany(s: Stack, token: string, n: number, offset = 0): Promise<number[]> {
  const ids: number[] = [];
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      s.post(token, alert(offset + i)).then((res) => {
        expect(res.status).toBe(202);
        ids.push(...res.body.ids);
      }),
    ),
  );
  return ids;
}

describe('webhook rotation', () => {
  it('rotates a pasted URL in during a storm: every alert delivered exactly once; the retired webhook still edits its messages', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 2 });
    const first = await postMany(stack, token, 250);
    await waitFor('storm under way', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length > 30);

    const fresh = stack.emulator.createWebhook(ch.discordChannelId);
    const res = await stack.admin('POST', `/v1/admin/webhooks/${ch.heraldWebhookIds[0]}/rotate`, { url: fresh.url });
    expect(res.status).toBe(200);
    const answeredAt = Date.now(); // the rotation is committed by now
    expect(res.body.retired).toMatchObject({ id: ch.heraldWebhookIds[0], state: 'retired' });
    expect(res.body.added).toMatchObject({ discord_webhook_id: fresh.id, state: 'active', owner: 'external' });
    expect(JSON.stringify(res.body)).not.toContain(fresh.token);
    const second = await postMany(stack, token, 150, 250);
    const accepted = [...first, ...second];

    await waitFor('all delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length >= accepted.length, 30_000);
    const delivered = deliveredAlertIds(stack.emulator, ch.discordChannelId);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect([...delivered].sort((a, b) => a - b)).toEqual([...accepted].sort((a, b) => a - b));

    const messages = stack.emulator.messages(ch.discordChannelId);
    const oldHook = ch.webhookIds[0]!;
    // The retired webhook posts nothing new once the rotation is committed. A send already in flight then may still
    // land, however late a loaded machine makes it: a webhook has one request in flight at a time (`member.busy`).
    expect(messages.filter((m) => m.webhookId === oldHook && m.createdAt > answeredAt).length).toBeLessThanOrEqual(1);
    expect(messages.some((m) => m.webhookId === fresh.id)).toBe(true);

    // An alert whose message the retired webhook posted is still acknowledged on that same message.
    const old = messages.find((m) => m.webhookId === oldHook && m.embeds.length === 1) ?? messages.find((m) => m.webhookId === oldHook)!;
    const alertId = Number(/alert #(\d+)/.exec((old.embeds[0] as Embed).footer!.text)![1]);
    expect((await stack.admin('POST', `/v1/admin/alerts/${alertId}/ack`, { by: 'dave' })).status).toBe(200);
    await waitFor('edited through the retired webhook', () => stack!.emulator.messages(ch.discordChannelId).find((m) => m.id === old.id)!.editedAt !== undefined);
    const edited = stack.emulator.messages(ch.discordChannelId).find((m) => m.id === old.id)!;
    const embed = (edited.embeds as Embed[]).find((e) => e.footer?.text.includes(`alert #${alertId}`))!;
    expect(embed.fields?.find((f) => f.name === 'Status')?.value).toMatch(/^Acknowledged by dave/);
    const attempts = (await stack.admin('GET', `/v1/admin/attempts?outcome=edited`)).body as { webhook_id: number }[];
    expect(attempts.map((a) => a.webhook_id)).toEqual([ch.heraldWebhookIds[0]]);

    const hooks = (await stack.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`)).body as { id: number; state: string }[];
    expect(hooks.map((w) => w.state).sort()).toEqual(['active', 'active', 'retired']);
    const events = (await stack.admin('GET', '/v1/admin/events?kind=webhook_rotated')).body;
    expect(events).toHaveLength(1);
  });

  it('refuses what cannot be done with a clear answer, and without a bot says so (503)', async () => {
    stack = await startStack(FAST);
    const ch = await stack.channel({ webhooks: 1 });
    const id = ch.heraldWebhookIds[0]!;
    expect((await stack.admin('POST', '/v1/admin/webhooks/9999/rotate', { url: stack.emulator.createWebhook(ch.discordChannelId).url })).status).toBe(404);
    const badUrl = await stack.admin('POST', `/v1/admin/webhooks/${id}/rotate`, { url: 'https://example.com/not-a-webhook' });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.problems[0].path).toBe('url');
    expect((await stack.admin('POST', `/v1/admin/webhooks/${id}/rotate`, { url: 'x', extra: 1 })).status).toBe(400);

    const noBot = await stack.admin('POST', `/v1/admin/webhooks/${id}/rotate`);
    expect(noBot.status).toBe(503);
    expect(noBot.body).toEqual({ error: 'bot_not_configured', message: expect.stringMatching(/DISCORD_TOKEN/) });
    const create = await stack.admin('POST', `/v1/admin/channels/${ch.id}/webhooks/create`, { name: 'Herald alerts' });
    expect(create.status).toBe(503);
    expect((await stack.admin('POST', '/v1/admin/channels/9999/webhooks/create')).status).toBe(404);
    expect((await stack.admin('POST', `/v1/admin/channels/${ch.id}/webhooks/create`, { name: '' })).status).toBe(400);

    // A pasted URL already in a pool cannot be rotated in.
    const taken = await stack.admin('POST', `/v1/admin/webhooks/${id}/rotate`, { url: `${stack.emulator.url}/webhooks/${ch.webhookIds[0]}/${ch.webhookTokens[0]}` });
    expect(taken.status).toBe(409);
    expect(JSON.stringify(taken.body)).not.toContain(ch.webhookTokens[0]);

    const ok = await stack.admin('POST', `/v1/admin/webhooks/${id}/rotate`, { url: stack.emulator.createWebhook(ch.discordChannelId).url });
    expect(ok.status).toBe(200);
    expect((await stack.admin('POST', `/v1/admin/webhooks/${id}/rotate`, { url: stack.emulator.createWebhook(ch.discordChannelId).url })).status).toBe(409);
    expect((await stack.admin('POST', `/v1/admin/webhooks/${id}/restore`)).status).toBe(409);
    await expect(deleteRetiredWebhook(stack.herald, id)).rejects.toMatchObject({ status: 503 });
    await expect(deleteRetiredWebhook(stack.herald, ok.body.added.id)).rejects.toMatchObject({ status: 409 });
  });

  it('refuses to rotate in a webhook of another Discord channel, naming both ids; the old webhook keeps sending', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    const other = stack.emulator.createChannel({ name: 'somewhere-else' }).id;
    const stranger = stack.emulator.createWebhook(other);
    const res = await stack.admin('POST', `/v1/admin/webhooks/${ch.heraldWebhookIds[0]}/rotate`, { url: stranger.url });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(
      `webhook ${stranger.id} posts to Discord channel ${other}, but Herald channel ${ch.id} is Discord channel ${ch.discordChannelId}; use a webhook of that channel`,
    );
    expect(JSON.stringify(res.body)).not.toContain(stranger.token);
    const hooks = (await stack.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`)).body as { id: number; state: string }[];
    expect(hooks.map((w) => [w.id, w.state])).toEqual([[ch.heraldWebhookIds[0], 'active']]);
    const [id] = await postMany(stack, token, 1);
    await waitFor('delivered through the old webhook', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id!));
    expect(stack.emulator.messages(other)).toEqual([]);
  });
});
