import { afterEach, describe, expect, it } from 'vitest';
import { RESOLVED_COLOR } from '../src/cards/alert-card.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { BotRest, type BotRestError } from '../src/discord/bot-rest.js';
import { ServiceError } from '../src/services/errors.js';
import { deleteRetiredWebhook } from '../src/services/webhooks.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, FAST } from './support/stack.js';

/** Bot-managed webhooks against the emulator's bot REST (POST /channels/{id}/webhooks, DELETE /webhooks/{id}, DELETE /channels/{id}/messages/{mid}). */

let stack: Stack | undefined;
let emulator: Emulator | undefined;
afterEach(async () => {
  await stack?.close();
  await emulator?.close();
  stack = undefined;
  emulator = undefined;
});

type Embed = { title?: string; color?: number; footer?: { text: string }; fields?: { name: string; value: string }[] };
type Row = { components: { custom_id: string }[] };
const showsAlert = (m: { embeds: unknown[] }, id: number) => (m.embeds as Embed[]).some((e) => e.footer?.text.includes(`alert #${id}`));

async function withBot(): Promise<{ s: Stack; ch: { id: number; discordChannelId: string }; token: string }> {
  emulator = await startEmulator(FAST.emulator);
  // Bot calls answer a little slower than webhook posts: a 2 s request timeout.
  stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_REQUEST_TIMEOUT_MS: '2000', DISCORD_TOKEN: emulator.botToken, DISCORD_GUILD_ID: emulator.guildId }, emulatorInstance: emulator });
  const token = await stack.source();
  const ch = await stack.channel({ webhooks: 0 });
  return { s: stack, ch, token };
}

describe('bot-managed webhooks (emulator bot REST)', () => {
  it('turns Discord refusals into plain ServiceErrors without the token', async () => {
    const { s, ch } = await withBot();
    const bad = new BotRest({ apiUrl: emulator!.url, token: 'emu.wrong-token-0123456789' });
    const err = await bad.createWebhook(ch.discordChannelId, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as BotRestError).discordStatus).toBe(401);
    expect((err as Error).message).toMatch(/^Discord refused to create a webhook in channel \d+: .*\(is DISCORD_TOKEN right\?\)$/);
    expect((err as Error).message).not.toContain('wrong-token');
    const unknown = await s.herald.bot!.deleteChannelMessage(ch.discordChannelId, '123456789012345678').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ discordStatus: 404 });
    expect(JSON.stringify(s.logs)).not.toContain(emulator!.botToken);
  });

  it('creates an app-owned webhook, rotates through the bot, edits through the retired one, and falls back to the bot once it is deleted', async () => {
    const { s, ch, token } = await withBot();
    expect(s.herald.bot).toBeDefined();

    const created = await s.admin('POST', `/v1/admin/channels/${ch.id}/webhooks/create`, { name: 'Herald alerts' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ owner: 'app', state: 'active', channel_id: ch.id });
    expect(JSON.stringify(created.body)).not.toMatch(/[A-Za-z0-9_-]{60,}/);

    const first = (await s.post(token, alert(1, { title: 'Queue stuck' }))).body.ids[0] as number;
    await waitFor('first delivered', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(first));
    const m1 = s.emulator.messages(ch.discordChannelId).find((m) => showsAlert(m, first))!;
    expect((m1.components as Row[]).flatMap((r) => r.components.map((c) => c.custom_id))).toEqual([`herald:ack:${first}`, `herald:resolve:${first}`, `herald:mute:${first}`]);

    const rotated = await s.admin('POST', `/v1/admin/webhooks/${created.body.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.added).toMatchObject({ owner: 'app', state: 'active' });
    expect(rotated.body.retired).toMatchObject({ id: created.body.id, state: 'retired' });

    const second = (await s.post(token, alert(2))).body.ids[0] as number;
    await waitFor('second delivered', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(second));
    const m2 = s.emulator.messages(ch.discordChannelId).find((m) => showsAlert(m, second))!;
    expect(m2.webhookId).toBe(rotated.body.added.discord_webhook_id);

    // Still editable through the retired webhook.
    await s.admin('POST', `/v1/admin/alerts/${first}/ack`, { by: 'ivy' });
    await waitFor('edited through the retired webhook', () => s.emulator.messages(ch.discordChannelId).find((m) => m.id === m1.id)!.editedAt !== undefined);

    // Once it is deleted on Discord, the bot deletes the message and the resolved card is reposted.
    await deleteRetiredWebhook(s.herald, created.body.id);
    await s.admin('POST', `/v1/admin/alerts/${first}/resolve`);
    await waitFor('old message deleted and the card reposted', () => {
      const msgs = s.emulator.messages(ch.discordChannelId);
      const old = msgs.find((m) => m.id === m1.id)!;
      const again = msgs.find((m) => m.id !== m1.id && !m.deleted && showsAlert(m, first));
      return old.deleted && again !== undefined;
    });
    const again = s.emulator.messages(ch.discordChannelId).find((m) => m.id !== m1.id && !m.deleted && showsAlert(m, first))!;
    expect(again.webhookId).toBe(rotated.body.added.discord_webhook_id);
    expect((again.embeds[0] as Embed).color).toBe(RESOLVED_COLOR);
    expect(again.components).toEqual([]);
    expect(deliveredAlertIds(s.emulator, ch.discordChannelId).filter((id) => id === first)).toHaveLength(1);
    const detail = (await s.admin('GET', `/v1/admin/alerts/${first}`)).body;
    expect(detail.deliveries.filter((d: { state: string }) => d.state === 'sent')).toHaveLength(2);
  });

  it('a webhook deleted behind Herald\'s back: 404 on the edit, the bot deletes the message and reposts the acknowledged card', async () => {
    const { s, ch, token } = await withBot();
    const a = await s.admin('POST', `/v1/admin/channels/${ch.id}/webhooks/create`);
    const b = await s.admin('POST', `/v1/admin/channels/${ch.id}/webhooks/create`);
    expect([a.status, b.status]).toEqual([201, 201]);
    const id = (await s.post(token, alert(1))).body.ids[0] as number;
    await waitFor('delivered', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id));
    const original = s.emulator.messages(ch.discordChannelId).find((m) => showsAlert(m, id))!;
    s.emulator.deleteWebhook(original.webhookId!);
    await s.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'jay' });
    await waitFor('reposted', () => s.emulator.messages(ch.discordChannelId).some((m) => m.id !== original.id && !m.deleted && showsAlert(m, id)));
    expect(s.emulator.messages(ch.discordChannelId).find((m) => m.id === original.id)!.deleted).toBe(true);
    const again = s.emulator.messages(ch.discordChannelId).find((m) => m.id !== original.id && !m.deleted && showsAlert(m, id))!;
    expect((again.embeds[0] as Embed).fields![0]!.value).toMatch(/^Acknowledged by jay/);
    expect((again.components as Row[]).flatMap((r) => r.components.map((c) => c.custom_id))).toEqual([`herald:resolve:${id}`]);
    const hooks = (await s.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`)).body as { discord_webhook_id: string; state: string }[];
    expect(hooks.find((w) => w.discord_webhook_id === original.webhookId)!.state).toBe('quarantined');
  });
});
