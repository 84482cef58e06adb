import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWebhooks } from '../src/services/webhooks.js';
import { focused, opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { alert, deliveredAlertIds, FAST, waitFor, type TestChannel } from './support/stack.js';

type Msg = { id: string; deleted: boolean; content: string; embeds: unknown[]; components: unknown[] };

describe('the bot: alert lifecycle commands and buttons', () => {
  let s: BotStack;
  let token: string;
  let ch: TestChannel;

  beforeAll(async () => {
    s = await startBotStack(FAST);
    token = await s.source();
    ch = await s.channel({ webhooks: 1, applicationOwned: true });
  });
  afterAll(async () => s?.close());

  const run = (userId: string, channelId: string, name: string, ...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId, channelId, name, options });
  const messagesOf = (discordChannelId: string) => s.emulator.messages(discordChannelId) as unknown as Msg[];

  /** Posts one alert and waits for its own message (one alert alone: a card with buttons). */
  async function delivered(over: Record<string, unknown> = {}, channel = ch.discordChannelId): Promise<{ alertId: number; message: Msg }> {
    const res = await s.post(token, alert(Math.floor(Math.random() * 1e6), over));
    const alertId = res.body.ids[0] as number;
    let message: Msg | undefined;
    await waitFor(`alert #${alertId} delivered`, () => {
      message = messagesOf(channel).find((m) => JSON.stringify(m.embeds).includes(`alert #${alertId}`));
      return message !== undefined;
    });
    return { alertId, message: message! };
  }

  /** Through the admin API (the lifecycle fields and mutes are helper B's). */
  const alertDetail = async (id: number) => (await s.admin('GET', `/v1/admin/alerts/${id}`)).body;
  const activeMutes = async (): Promise<any[]> => (await s.admin('GET', '/v1/admin/mutes')).body.filter((m: any) => m.expires_at > Date.now());

  const customIds = (m: { components: unknown[] }) => JSON.stringify(m.components).match(/herald:[a-z]+:\d+/g) ?? [];

  it('Acknowledge, then Resolve: each press updates the message in place (type 7) and records who', async () => {
    const { alertId, message } = await delivered();
    expect(customIds(message)).toEqual([`herald:ack:${alertId}`, `herald:resolve:${alertId}`, `herald:mute:${alertId}`]);

    const acked = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: message.id, customId: `herald:ack:${alertId}` });
    expect(acked.type).toBe(7);
    expect(JSON.stringify(acked.embeds)).toContain(`Acknowledged by <@${s.oncall.id}>`);
    expect(customIds(acked)).toEqual([`herald:resolve:${alertId}`]);
    expect(await alertDetail(alertId)).toMatchObject({ acknowledged_by: expect.any(String) });
    const stored = s.emulator.message(message.id)!;
    expect(JSON.stringify(stored.embeds)).toContain('Acknowledged by');

    const resolved = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: message.id, customId: `herald:resolve:${alertId}` });
    expect(resolved.type).toBe(7);
    expect(JSON.stringify(resolved.embeds)).toContain(`Resolved by <@${s.oncall.id}>`);
    expect(resolved.components).toEqual([]);
    expect((await alertDetail(alertId)).resolved_at).toBeGreaterThan(0);
  });

  it('Mute 1h mutes the alert\'s dedup key: the next one is recorded, not delivered', async () => {
    const { alertId, message } = await delivered({ dedup_key: 'disk-full-db1' });
    const r = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: message.id, customId: `herald:mute:${alertId}` });
    expect(r.type).toBe(7);
    expect(r.content).toMatch(/Muted for 1 hour by/);
    const mute = (await activeMutes()).find((m) => m.dedup_key === 'disk-full-db1');
    expect(mute.expires_at - mute.created_at).toBe(3_600_000);

    const again = await s.post(token, alert(99, { dedup_key: 'disk-full-db1' }));
    await new Promise((res) => setTimeout(res, 300));
    expect(deliveredAlertIds(s.emulator, ch.discordChannelId)).not.toContain(again.body.ids[0]);
    expect((await alertDetail(again.body.ids[0])).muted_by_mute_id).toBe(mute.id);

    const list = await run(s.oncall.id, ch.discordChannelId, 'mutes');
    expect(list.content).toContain(`#${mute.id} dedup key disk-full-db1`);
    const un = await run(s.oncall.id, ch.discordChannelId, 'unmute', opt('mute', T.INTEGER, mute.id));
    expect(un.content).toMatch(new RegExp(`Mute #${mute.id} ended`));
    const unAgain = await run(s.oncall.id, ch.discordChannelId, 'unmute', opt('mute', T.INTEGER, mute.id));
    expect(unAgain.ephemeral).toBe(true);
  });

  it('on-call actions are denied by default: buttons and /ack need an on-call role or Manage Server; the refusal names what is missing', async () => {
    const { alertId, message } = await delivered();
    const refused = await s.emulator.pressButton({ userId: s.member.id, channelId: ch.discordChannelId, messageId: message.id, customId: `herald:ack:${alertId}` });
    expect(refused).toMatchObject({ type: 4, ephemeral: true });
    expect(refused.content).toBe(`You need one of the on-call roles or the Manage Server permission to use the Acknowledge button: <@&${s.oncallRole.id}>.`);
    const cmd = await run(s.member.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, String(alertId)));
    expect(cmd.content).toMatch(/on-call roles or the Manage Server permission to use \/ack/);
    expect((await alertDetail(alertId)).acknowledged_by).toBeNull();

    // With no on-call role configured, nobody but Manage Server: not "any member" as before.
    const configured = [...s.herald.config.discord.oncallRoleIds];
    s.herald.config.discord.oncallRoleIds.length = 0;
    try {
      const none = await run(s.oncall.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, String(alertId)));
      expect(none).toMatchObject({ ephemeral: true, content: 'You need the Manage Server permission to use /ack (no on-call role is configured).' });
      const admin = await run(s.admin_.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, `#${alertId}`));
      expect(admin).toMatchObject({ ephemeral: false });
      expect(admin.content).toMatch(new RegExp(`Alert #${alertId} ".*" acknowledged by <@${s.admin_.id}>`));
    } finally {
      s.herald.config.discord.oncallRoleIds.push(...configured);
    }

    // A member given the role (as a server admin does) may act.
    const pager = s.emulator.createMember({ username: 'pager' });
    s.emulator.addMemberRole({ userId: pager.id, roleId: s.oncallRole.id });
    const ok = await run(pager.id, ch.discordChannelId, 'resolve', opt('alert', T.STRING, `#${alertId}`));
    expect(ok.content).toMatch(new RegExp(`Alert #${alertId} ".*" resolved by <@${pager.id}>`));
  });

  it("Mute 1h and /mute alert: mute the key from the alert's own source: another source's alert with that key is delivered", async () => {
    const other = await s.source();
    const { alertId, message } = await delivered({ dedup_key: 'shared-key-button' });
    const pressed = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: message.id, customId: `herald:mute:${alertId}` });
    expect(pressed.content).toMatch(/Muted for 1 hour by/);
    const byCommand = await delivered({ dedup_key: 'shared-key-command' });
    const ran = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '1h'), opt('alert', T.STRING, String(byCommand.alertId)));
    expect(ran.content).toMatch(/^Muted: #\d+ dedup key shared-key-command from source #\d+/);
    for (const key of ['shared-key-button', 'shared-key-command']) {
      const mine = await s.post(token, alert(7, { dedup_key: key }));
      expect((await alertDetail(mine.body.ids[0])).muted_by_mute_id).not.toBeNull();
      const theirs = await s.post(other, alert(8, { dedup_key: key }));
      await waitFor(`the other source's ${key} delivered`, () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(theirs.body.ids[0]));
      expect((await alertDetail(theirs.body.ids[0])).muted_by_mute_id).toBeNull();
    }
  });

  it('/ack and /resolve by id or dedup key; unknown alerts and bad states get specific answers', async () => {
    const { alertId } = await delivered({ dedup_key: 'api-latency' });
    const byKey = await run(s.oncall.id, ch.discordChannelId, 'resolve', opt('alert', T.STRING, 'api-latency'));
    expect(byKey.content).toMatch(new RegExp(`Alert #${alertId} ".*" resolved by`));
    const unknown = await run(s.oncall.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, 'no-such-key'));
    expect(unknown.ephemeral).toBe(true);
    expect(unknown.content.length).toBeGreaterThan(0);
    await waitFor('the resolved card edited in Discord', () => JSON.stringify(messagesOf(ch.discordChannelId).find((m) => JSON.stringify(m.embeds).includes(`alert #${alertId}`))?.embeds).includes('Resolved by'));

    // Found by its dedup key, by a command that can still act on it (issue 10 §5: /ack no longer offers a resolved alert).
    const choices = await s.emulator.autocomplete({ userId: s.admin_.id, channelId: ch.discordChannelId, name: 'retract', options: [focused('alert', 'api-latency')] });
    expect(choices[0]).toMatchObject({ value: String(alertId) });
  });

  it('/retract edits (strike) or deletes every message of an alert in every channel', async () => {
    const other = await s.channel({ webhooks: 1 });
    const res = await s.post(token, alert(7, { title: 'Wrong page', dedup_key: 'wrong-page' }));
    const alertId = res.body.ids[0];
    await waitFor('delivered to both channels', () =>
      deliveredAlertIds(s.emulator, ch.discordChannelId).includes(alertId) && deliveredAlertIds(s.emulator, other.discordChannelId).includes(alertId),
    );
    // Registered with default_member_permissions (Manage Server): Discord does not even offer it to a plain member.
    await expect(run(s.member.id, ch.discordChannelId, 'retract', opt('alert', T.STRING, String(alertId)))).rejects.toThrow(/may not use \/retract: .*Discord does not show it/);

    const strike = await run(s.admin_.id, ch.discordChannelId, 'retract', opt('alert', T.STRING, String(alertId)), opt('reason', T.STRING, 'sent by mistake'));
    expect(strike.content).toMatch(/retracted by .*: 2 messages will be struck through \(reason: sent by mistake\)/);
    const mine = (c: string) => messagesOf(c).filter((m) => JSON.stringify(m.embeds).includes(`alert #${alertId}`));
    await waitFor('both messages struck through', () => [ch.discordChannelId, other.discordChannelId].every((c) => mine(c).every((m) => JSON.stringify(m.embeds).includes('Retracted'))));

    const res2 = await s.post(token, alert(8, { title: 'Wrong again' }));
    const id2 = res2.body.ids[0];
    await waitFor('delivered to both channels', () =>
      deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id2) && deliveredAlertIds(s.emulator, other.discordChannelId).includes(id2),
    );
    const del = await run(s.admin_.id, ch.discordChannelId, 'retract', opt('alert', T.STRING, String(id2)), opt('mode', T.STRING, 'delete'));
    expect(del.content).toMatch(/2 messages will be deleted/);
    await waitFor('both messages deleted', () => !deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id2) && !deliveredAlertIds(s.emulator, other.discordChannelId).includes(id2));

    const again = await run(s.admin_.id, ch.discordChannelId, 'ack', opt('alert', T.STRING, String(id2)));
    expect(again.ephemeral).toBe(true);
  });

  it('/mute a service for a duration; bad durations and targets are refused specifically', async () => {
    const bad = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, 'soon'), opt('service', T.STRING, 'checkout'));
    expect(bad).toMatchObject({ ephemeral: true, content: 'duration: "soon" is not a duration; write e.g. "30m", "2h" or "1d"' });
    const two = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '1h'), opt('service', T.STRING, 'x'), opt('alert', T.STRING, '1'));
    expect(two.content).toMatch(/give exactly one of service, route or alert/);
    const long = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '31d'), opt('service', T.STRING, 'x'));
    expect(long.content).toMatch(/out of range/);
    const ok = await run(s.oncall.id, ch.discordChannelId, 'mute', opt('duration', T.STRING, '2h'), opt('service', T.STRING, 'batch-*'), opt('reason', T.STRING, 'maintenance'));
    expect(ok.content).toMatch(/^Muted: #\d+ service batch-\* until <t:\d+:f> \(maintenance\)/);
    const res = await s.post(token, alert(9, { service: 'batch-nightly' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(deliveredAlertIds(s.emulator, ch.discordChannelId)).not.toContain(res.body.ids[0]);
  });

  it('/webhooks create|list|add-url|remove, with specific errors and no token in any answer', async () => {
    const emuChannel = s.emulator.createChannel({ name: 'new-team' });
    await expect(run(s.member.id, emuChannel.id, 'webhooks', sub('create'))).rejects.toThrow(/may not use \/webhooks: .*Discord does not show it/);

    const created = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('create'));
    expect(created.type).toBe(5);
    expect(created.content).toMatch(/Created webhook #\d+ app-owned \(buttons\)/);

    const list = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('list'));
    expect(list.content).toMatch(/Webhooks of <#\d+>:\n• #\d+ app-owned/);

    const bad = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('add-url', opt('url', T.STRING, 'https://example.com/hook')));
    expect(bad.ephemeral).toBe(true);
    expect(bad.content).toMatch(/host "example.com" is not Discord's/);

    const pasted = s.emulator.createWebhook(emuChannel.id);
    const added = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('add-url', opt('url', T.STRING, pasted.url)));
    expect(added.content).toMatch(/Added webhook #\d+ pasted/);
    expect(added.content).not.toContain(pasted.token);
    const id = Number(/#(\d+)/.exec(added.content)![1]);
    const removed = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('remove', opt('webhook', T.INTEGER, id)));
    expect(removed.content).toMatch(new RegExp(`Webhook #${id} removed`));
    const gone = await run(s.admin_.id, emuChannel.id, 'webhooks', sub('remove', opt('webhook', T.INTEGER, id)));
    expect(gone.content).toBe(`no webhook with id ${id}`);
    expect(s.logs.join('')).not.toContain(pasted.token);
  });

  it('/webhooks rotate in the middle of a storm: nothing lost, nothing twice; old messages stay editable', async () => {
    const storm = await s.channel({ webhooks: 1, applicationOwned: true });
    const first = await delivered({}, storm.discordChannelId);
    const accepted: number[] = [first.alertId];
    const send = async (n: number) => {
      for (let k = 0; k < n; k++) {
        const res = await s.post(token, alert(1000 + k));
        accepted.push(res.body.ids[0]);
      }
    };
    const firstHalf = send(40);
    await new Promise((r) => setTimeout(r, 100));
    const rotated = await run(s.admin_.id, storm.discordChannelId, 'webhooks', sub('rotate', opt('webhook', T.INTEGER, storm.heraldWebhookIds[0]!)));
    expect(rotated.content).toMatch(new RegExp(`Rotated: new webhook #\\d+ .* takes new alerts; #${storm.heraldWebhookIds[0]} is retired`));
    await firstHalf;
    await send(40);
    // Every alert reaches every channel with a catch-all route; here, count the storm channel.
    await waitFor('the whole storm delivered', () => accepted.every((id) => deliveredAlertIds(s.emulator, storm.discordChannelId).includes(id)), 60_000);
    const ids = deliveredAlertIds(s.emulator, storm.discordChannelId).filter((id) => accepted.includes(id));
    expect(new Set(ids).size).toBe(ids.length);
    const hooks = await listWebhooks(s.herald, storm.id, { includeRemoved: true });
    expect(hooks.find((w) => w.id === storm.heraldWebhookIds[0])!.state).toBe('retired');

    // A message the retired webhook posted is still edited through it.
    await run(s.oncall.id, storm.discordChannelId, 'ack', opt('alert', T.STRING, String(first.alertId)));
    await waitFor('the old message edited', () => JSON.stringify(s.emulator.message(first.message.id)!.embeds).includes('Acknowledged by'));
  });
});
