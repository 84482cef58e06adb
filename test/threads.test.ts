import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../src/emulator/types.js';
import { startBotStack, type BotStack } from './support/bot.js';
import { alert, FAST, startStack, waitFor, type Stack } from './support/stack.js';

const FORUM = 15;

/** A Herald channel over a new emulated channel (text or forum), with application-owned webhooks and one route. */
async function threadChannel(s: Stack, opts: { forum?: boolean; threads?: boolean; webhooks?: number } = {}) {
  const name = `th-${Math.random().toString(36).slice(2, 8)}`;
  const emu = s.emulator.createChannel({ name, ...(opts.forum ? { type: FORUM } : {}) });
  const ch = await s.admin('POST', '/v1/admin/channels', { name, discord_channel_id: emu.id, ...(opts.forum ? { kind: 'forum' } : {}) });
  expect(ch.status).toBe(201);
  for (let i = 0; i < (opts.webhooks ?? 1); i++) {
    const hook = s.emulator.createWebhook(emu.id, { applicationOwned: true });
    expect((await s.admin('POST', `/v1/admin/channels/${ch.body.id}/webhooks`, { url: hook.url, owner: 'app' })).status).toBe(201);
  }
  const route = await s.admin('POST', '/v1/admin/routes', { channel_id: ch.body.id, ...(opts.threads ? { threads: true } : {}) });
  expect(route.status).toBe(201);
  return { id: ch.body.id as number, discordChannelId: emu.id, routeId: route.body.id as number };
}

const inThread = (s: Stack, threadId: string): EmulatedMessage[] => s.emulator.messages(threadId).filter((m) => !m.deleted);
/** The channel's own messages: cards (a thread's messages are listed with the parent, marked with their thread). */
const channelOwn = (s: Stack, channelId: string): EmulatedMessage[] => s.emulator.messages(channelId).filter((m) => !m.deleted && m.threadId === undefined);

describe('threads route in a text channel (with the bot)', () => {
  let s: BotStack;
  let token: string;
  beforeAll(async () => {
    s = await startBotStack({ ...FAST, env: { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50' } });
    token = await s.source();
  });
  afterAll(async () => s?.close());

  it('posts the card, starts a thread from it, and puts a repeat, an acknowledgement and an escalation mention in the thread', async () => {
    const ch = await threadChannel(s, { threads: true });
    const routes = await s.admin('GET', '/v1/admin/routes');
    expect(routes.body.find((r: { id: number }) => r.id === ch.routeId)).toMatchObject({ threads: true });
    const role = s.emulator.createRole({ name: 'payments-oncall' });
    const chain = await s.admin('POST', '/v1/admin/escalation-chains', { name: 'threads-chain', steps: [{ kind: 'role', delay_ms: 1500, target: role.id }] });
    expect(chain.status).toBe(201);
    expect((await s.admin('PUT', `/v1/admin/routes/${ch.routeId}/escalation-chain`, { chain_id: chain.body.id })).status).toBe(200);

    const first = await s.post(token, alert(1, { severity: 'P1', dedup_key: 'db-down' }));
    expect(first.status).toBe(202);
    const alertId = first.body.ids[0] as number;
    await waitFor('the card and its thread', () => s.emulator.threads(ch.discordChannelId).length === 1, 10_000);
    const [card] = channelOwn(s, ch.discordChannelId);
    const thread = s.emulator.threads(ch.discordChannelId)[0]!;
    expect(thread.id).toBe(card!.id);
    expect(thread.name).toBe('P1 · Alert 1');
    expect(s.emulator.stats().byStatus['400'] ?? 0).toBe(0);

    // A repeat: the card is edited in the channel (it shows the count) and the thread says it fired again.
    await s.post(token, alert(1, { severity: 'P1', dedup_key: 'db-down' }));
    await waitFor('the repeat in the thread', () => inThread(s, thread.id).some((m) => m.content === '🔁 Fired again, 2 times in all'), 10_000);
    await waitFor('the card edited', () => channelOwn(s, ch.discordChannelId)[0]!.editedAt !== undefined, 10_000);

    // The escalation step (1.5 s after the alert) mentions the role in the thread, pinging exactly it.
    await waitFor('the escalation mention in the thread', () => inThread(s, thread.id).some((m) => m.content.startsWith(`<@&${role.id}>`)), 10_000);
    const mention = inThread(s, thread.id).find((m) => m.content.startsWith(`<@&${role.id}>`))!;
    expect(mention.allowedMentions).toEqual({ parse: [], roles: [role.id] });
    expect(channelOwn(s, ch.discordChannelId).some((m) => m.content.includes(role.id))).toBe(false);

    // The Acknowledge button: the card shows it (type 7), the thread has the note; nothing else in the channel.
    const acked = await s.emulator.pressButton({ userId: s.oncall.id, channelId: ch.discordChannelId, messageId: card!.id, customId: `herald:ack:${alertId}` });
    expect(acked.type).toBe(7);
    expect(JSON.stringify(acked.embeds)).toContain(`Acknowledged by <@${s.oncall.id}>`);
    await waitFor('the acknowledgement in the thread', () => inThread(s, thread.id).some((m) => m.content === `👀 Acknowledged by <@${s.oncall.id}>`), 10_000);
    const ackNote = inThread(s, thread.id).find((m) => m.content.startsWith('👀'))!;
    expect(ackNote.allowedMentions).toEqual({ parse: [] });
    expect(channelOwn(s, ch.discordChannelId)).toHaveLength(1);
    expect(s.emulator.threads(ch.discordChannelId)).toHaveLength(1);
  });

  it('a locked thread: the follow-up goes to the channel instead, and the card keeps being edited', async () => {
    const ch = await threadChannel(s, { threads: true });
    const res = await s.post(token, alert(2, { dedup_key: 'locked-one' }));
    expect(res.status).toBe(202);
    await waitFor('the thread', () => s.emulator.threads(ch.discordChannelId).length === 1, 10_000);
    const thread = s.emulator.threads(ch.discordChannelId)[0]!;
    s.emulator.updateThread(thread.id, { locked: true });
    await s.post(token, alert(2, { dedup_key: 'locked-one' }));
    await waitFor('the repeat note in the channel', () => channelOwn(s, ch.discordChannelId).some((m) => m.content === '🔁 Fired again, 2 times in all'), 10_000);
    expect(inThread(s, thread.id)).toHaveLength(0);
    expect(s.logs.filter((l) => l.includes('thread is locked or deleted')).length).toBe(1);
  });
});

describe('a forum channel', () => {
  let s: Stack;
  let token: string;
  beforeAll(async () => {
    // No bot: forum posts are the webhooks' own (thread_name), so threads need none there.
    s = await startStack(FAST);
    token = await s.source();
  });
  afterAll(async () => s?.close());

  it('each card opens a post (thread_name); its follow-ups go into it with thread_id, and the card is edited there', async () => {
    const ch = await threadChannel(s, { forum: true, threads: true });
    const res = await s.post(token, alert(3, { severity: 'P2', dedup_key: 'disk' }));
    expect(res.status).toBe(202);
    await waitFor('the forum post', () => s.emulator.threads(ch.discordChannelId).length === 1, 10_000);
    const post = s.emulator.threads(ch.discordChannelId)[0]!;
    expect(post.name).toBe('P2 · Alert 3');
    const [card] = inThread(s, post.id);
    expect(card!.id).toBe(post.id);

    await s.post(token, alert(3, { severity: 'P2', dedup_key: 'disk' }));
    await waitFor('the repeat in the post', () => inThread(s, post.id).some((m) => m.content === '🔁 Fired again, 2 times in all'), 10_000);
    await waitFor('the card edited in its post', () => inThread(s, post.id)[0]!.editedAt !== undefined, 10_000);
    const resolved = await s.post(token, alert(3, { severity: 'P2', dedup_key: 'disk', status: 'resolved' }));
    expect(resolved.status).toBe(202);
    await waitFor('the resolve note', () => inThread(s, post.id).some((m) => m.content.startsWith('✅ Resolved by')), 10_000);
    expect(s.emulator.threads(ch.discordChannelId)).toHaveLength(1);
    expect(s.emulator.stats().byStatus['400'] ?? 0).toBe(0);
  });

  it('without a bot token a threads route in a text channel is refused with 400 (a forum one is accepted)', async () => {
    const text = await threadChannel(s, {});
    const refused = await s.admin('POST', '/v1/admin/routes', { channel_id: text.id, threads: true });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('threads need the bot: set DISCORD_TOKEN');
    const patch = await s.admin('PATCH', `/v1/admin/routes/${text.routeId}`, { threads: true });
    expect(patch.status).toBe(400);
    const routes = await s.admin('GET', '/v1/admin/routes');
    expect(routes.body.find((r: { id: number }) => r.id === text.routeId).threads).toBeUndefined();
  });
});

/**
 * Under either setting of the emulator's `threadMessagesCountAgainstParent`, Herald's default budgeting (thread
 * posts count against the parent channel) keeps every post under the hidden cap: no shared 429. Herald's
 * HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL=false, where Discord gives threads caps of their own, holds too.
 */
describe.each([
  [true, 'true'],
  [false, 'true'],
  [false, 'false'],
])('the hidden cap: emulator counts thread messages against the parent %s, Herald budgets them so %s', (counts, herald) => {
  let s: BotStack;
  let token: string;
  beforeAll(async () => {
    s = await startBotStack({ env: { ...FAST.env, HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL: herald }, emulator: { ...FAST.emulator, threadMessagesCountAgainstParent: counts } });
    token = await s.source();
  });
  afterAll(async () => s?.close());

  it('40 threaded cards and a repeat of each: all delivered, no shared 429', async () => {
    const ch = await threadChannel(s, { threads: true, webhooks: 3 });
    const N = 40;
    for (let i = 0; i < N; i++) expect((await s.post(token, alert(100 + i, { dedup_key: `k${i}` }))).status).toBe(202);
    await waitFor('every thread', () => s.emulator.threads(ch.discordChannelId).length === N, 30_000);
    for (let i = 0; i < N; i++) expect((await s.post(token, alert(100 + i, { dedup_key: `k${i}` }))).status).toBe(202);
    await waitFor(
      'a repeat note in every thread',
      () => s.emulator.threads(ch.discordChannelId).every((t) => inThread(s, t.id).some((m) => m.content.startsWith('🔁 Fired again'))),
      30_000,
    );
    expect(s.emulator.stats().rateLimited.shared).toBe(0);
    expect(channelOwn(s, ch.discordChannelId)).toHaveLength(N);
  });
});
