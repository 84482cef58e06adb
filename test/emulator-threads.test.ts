import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelType, Client, Events, GatewayIntentBits, type AnyThreadChannel, type ForumChannel, type TextChannel } from 'discord.js';
import { startEmulator, type EmulatedWebhook, type Emulator } from '../src/emulator/index.js';

/**
 * Threads and forum channels in the emulator, end to end over HTTP: threads started from a message (by the
 * bot's REST API), forum posts made by a webhook's thread_name or by the bot, posting with thread_id,
 * archive/lock rules, the hidden cap counted against the parent or per thread, and a real discord.js
 * client starting threads and hearing THREAD_CREATE / THREAD_UPDATE.
 */

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const control = (e: Emulator) => e.url.replace(/\/api$/, '/_emulator');
const execute = (hook: EmulatedWebhook, body: unknown, query = '') => call('POST', `${hook.url}?wait=true${query}`, body);
const asBot = (e: Emulator, method: string, path: string, body?: unknown) => call(method, `${e.url}/v10${path}`, body, { authorization: `Bot ${e.botToken}` });

let emu: Emulator;
let textId: string;
let forumId: string;
let otherTextId: string;
let hook: EmulatedWebhook;
let forumHook: EmulatedWebhook;

beforeAll(async () => {
  emu = await startEmulator({ webhookBucket: { limit: 10_000, windowMs: 1000 }, channelCap: { limit: 10_000, windowMs: 1000 } });
  // Channels made the way another process (Herald's demo, a spawned test) makes them: the control API.
  const text = await call('POST', `${control(emu)}/channels`, { name: 'alerts' });
  const forum = await call('POST', `${control(emu)}/channels`, { name: 'incidents', type: 15 });
  expect(forum.status).toBe(201);
  expect(forum.body).toMatchObject({ name: 'incidents', type: 15 });
  expect(text.body.type).toBe(0);
  textId = text.body.id;
  forumId = forum.body.id;
  otherTextId = emu.createChannel({ name: 'elsewhere' }).id;
  hook = emu.createWebhook(textId, { name: 'Herald', applicationOwned: true });
  forumHook = emu.createWebhook(forumId, { name: 'Herald', applicationOwned: true });
});
afterAll(async () => {
  await emu.close();
});

describe('a thread started from a message', () => {
  it('takes the message id; thread_id posts land in it, listed under the thread and flagged in the channel', async () => {
    const card = await execute(hook, { content: 'P1 db-1 down' });
    expect(card.status).toBe(200);
    const started = await asBot(emu, 'POST', `/channels/${textId}/messages/${card.body.id}/threads`, { name: 'incident db-1', auto_archive_duration: 1440 });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      id: card.body.id,
      type: 11,
      parent_id: textId,
      guild_id: emu.guildId,
      owner_id: emu.applicationId,
      name: 'incident db-1',
      message_count: 0,
      thread_metadata: { archived: false, locked: false, auto_archive_duration: 1440 },
    });
    const threadId: string = started.body.id;
    // One thread per message, as on Discord.
    const again = await asBot(emu, 'POST', `/channels/${textId}/messages/${card.body.id}/threads`, { name: 'twice' });
    expect(again).toMatchObject({ status: 400, body: { code: 160004 } });
    // The starter message stays in the channel and now carries its thread.
    const starter = await call('GET', `${hook.url}/messages/${card.body.id}`);
    expect(starter.body.channel_id).toBe(textId);
    expect(starter.body.flags & 32).toBe(32);
    expect(starter.body.thread).toMatchObject({ id: threadId, type: 11 });
    expect((await asBot(emu, 'GET', `/channels/${threadId}`)).body).toMatchObject({ id: threadId, type: 11, parent_id: textId });

    const update = await execute(hook, { content: 'acked by alice' }, `&thread_id=${threadId}`);
    expect(update.status).toBe(200);
    expect(update.body.channel_id).toBe(threadId);
    const fromBot = await asBot(emu, 'POST', `/channels/${threadId}/messages`, { content: 'escalating' });
    expect(fromBot.status).toBe(200);
    expect(fromBot.body.channel_id).toBe(threadId);

    const inThread = await call('GET', `${control(emu)}/channels/${threadId}/messages`);
    expect(inThread.body.map((m: { content: string }) => m.content)).toEqual(['acked by alice', 'escalating']);
    // The channel's list shows them too, flagged with their thread.
    expect(emu.messages(textId).filter((m) => m.threadId === threadId).map((m) => m.content)).toEqual(['acked by alice', 'escalating']);
    const threads = await call('GET', `${control(emu)}/channels/${textId}/threads`);
    expect(threads.body.map((t: { id: string }) => t.id)).toContain(threadId);
    expect((await asBot(emu, 'GET', `/channels/${threadId}`)).body.message_count).toBe(2);

    // A message in a thread is edited and deleted with its thread_id; without it Discord answers 10008.
    expect((await call('PATCH', `${hook.url}/messages/${update.body.id}`, { content: 'x' })).body.code).toBe(10008);
    const edited = await call('PATCH', `${hook.url}/messages/${update.body.id}?thread_id=${threadId}`, { content: 'acked by alice (edited)' });
    expect(edited.status).toBe(200);
    expect(edited.body.content).toBe('acked by alice (edited)');
    expect((await call('DELETE', `${hook.url}/messages/${update.body.id}?thread_id=${threadId}`)).status).toBe(204);
    expect(emu.message(update.body.id)?.deleted).toBe(true);
  });

  it('refuses what Discord refuses: a bad name or duration, a forum message, a message of another channel', async () => {
    const card = await execute(hook, { content: 'P2 disk' });
    const path = `/channels/${textId}/messages/${card.body.id}/threads`;
    const noName = await asBot(emu, 'POST', path, {});
    expect(noName).toMatchObject({ status: 400, body: { code: 50035, errors: { name: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] } } } });
    const badDuration = await asBot(emu, 'POST', path, { name: 'x', auto_archive_duration: 30 });
    expect(badDuration).toMatchObject({ status: 400, body: { code: 50035, errors: { auto_archive_duration: {} } } });
    expect((await asBot(emu, 'POST', `/channels/${otherTextId}/messages/${card.body.id}/threads`, { name: 'x' })).body.code).toBe(10008);
    expect((await asBot(emu, 'POST', `/channels/${forumId}/messages/${card.body.id}/threads`, { name: 'x' })).body.code).toBe(50024);
    expect(emu.thread(card.body.id)).toBeUndefined();
  });
});

describe('webhooks and threads', () => {
  it('a thread_id that is not a thread of the webhook channel is 400 Unknown Channel, and stores nothing', async () => {
    const elsewhere = emu.createThread({ channelId: otherTextId, name: 'not ours' });
    const before = emu.messages(textId).length;
    for (const threadId of [elsewhere.id, '1234567890123456789', textId]) {
      const res = await execute(hook, { content: 'lost' }, `&thread_id=${threadId}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: 'Unknown Channel', code: 10003 });
    }
    expect(emu.messages(textId)).toHaveLength(before);
    expect(emu.messages(elsewhere.id)).toHaveLength(0);
    // The same for reading or editing a message with a wrong thread_id.
    const card = await execute(hook, { content: 'here' });
    expect((await call('GET', `${hook.url}/messages/${card.body.id}?thread_id=${elsewhere.id}`)).body.code).toBe(10003);
  });

  it('in a forum, thread_name makes a post (thread and first message share an id); thread_id posts in it', async () => {
    const post = await execute(forumHook, { content: 'P1 checkout 5xx', thread_name: 'checkout 5xx' });
    expect(post.status).toBe(200);
    expect(post.body.channel_id).toBe(post.body.id);
    const thread = emu.thread(post.body.id)!;
    expect(thread).toMatchObject({ parentId: forumId, name: 'checkout 5xx', ownerId: forumHook.id, archived: false });
    const more = await execute(forumHook, { content: 'still failing' }, `&thread_id=${thread.id}`);
    expect(more.body.channel_id).toBe(thread.id);
    expect(emu.messages(thread.id).map((m) => m.content)).toEqual(['P1 checkout 5xx', 'still failing']);
    // message_count leaves out a forum post's first message.
    expect((await asBot(emu, 'GET', `/channels/${thread.id}`)).body).toMatchObject({ message_count: 1, total_message_sent: 1, applied_tags: [] });
  });

  it('forum and text rules: 220001 with neither, 220002 with both, 220003 for thread_name outside a forum, 50035 for a bad name', async () => {
    const post = await execute(forumHook, { content: 'first', thread_name: 'a post' });
    const before = emu.threads(forumId).length;
    expect((await execute(forumHook, { content: 'nowhere' })).body).toEqual({ code: 220001, message: 'Webhooks posted to forum channels must have a thread_name or thread_id' });
    expect((await execute(forumHook, { content: 'both', thread_name: 'b' }, `&thread_id=${post.body.id}`)).body.code).toBe(220002);
    expect((await execute(hook, { content: 'named', thread_name: 'c' })).body.code).toBe(220003);
    const long = await execute(forumHook, { content: 'long', thread_name: 'x'.repeat(101) });
    expect(long).toMatchObject({ status: 400, body: { code: 50035, errors: { thread_name: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH' }] } } } });
    expect(emu.threads(forumId)).toHaveLength(before);
  });

  it('the bot starts a forum post with POST /channels/{forum}/threads, and cannot post in the forum itself', async () => {
    const res = await asBot(emu, 'POST', `/channels/${forumId}/threads`, { name: 'weekly report', message: { content: 'all quiet', embeds: [{ title: 'week 12' }] } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 11, parent_id: forumId, owner_id: emu.applicationId, name: 'weekly report' });
    expect(res.body.message).toMatchObject({ id: res.body.id, channel_id: res.body.id, content: 'all quiet' });
    expect((await asBot(emu, 'POST', `/channels/${forumId}/threads`, { name: 'empty', message: {} })).body.code).toBe(50006);
    expect((await asBot(emu, 'POST', `/channels/${forumId}/threads`, { name: 'no message' })).body.errors.message).toBeDefined();
    expect((await asBot(emu, 'POST', `/channels/${forumId}/messages`, { content: 'straight in' })).body.code).toBe(50008);
  });
});

describe('archived and locked threads', () => {
  it('a post unarchives an archived thread; a locked one refuses (50083 archived, 160005 active)', async () => {
    const card = await execute(hook, { content: 'P3 queue lag' });
    const thread = (await asBot(emu, 'POST', `/channels/${textId}/messages/${card.body.id}/threads`, { name: 'queue lag' })).body;
    // The bot started it, so it may archive it without Manage Threads.
    const archived = await asBot(emu, 'PATCH', `/channels/${thread.id}`, { archived: true });
    expect(archived.status).toBe(200);
    expect(archived.body.thread_metadata.archived).toBe(true);
    // An archived thread changes only by being unarchived in the same request.
    expect((await asBot(emu, 'PATCH', `/channels/${thread.id}`, { name: 'renamed' })).body.code).toBe(50083);
    const inThread = await execute(hook, { content: 'lag again' }, `&thread_id=${thread.id}`);
    expect(inThread.status).toBe(200);
    expect(emu.thread(thread.id)!.archived).toBe(false);
    // Editing needs an active thread.
    await call('PATCH', `${control(emu)}/threads/${thread.id}`, { archived: true });
    expect((await call('PATCH', `${hook.url}/messages/${inThread.body.id}?thread_id=${thread.id}`, { content: 'edit' })).body.code).toBe(50083);

    // A moderator locks it: webhooks and the bot (without Manage Threads) cannot post or unarchive.
    await call('PATCH', `${control(emu)}/threads/${thread.id}`, { locked: true });
    expect((await execute(hook, { content: 'locked out' }, `&thread_id=${thread.id}`)).body).toEqual({ message: 'Thread is archived', code: 50083 });
    expect((await asBot(emu, 'POST', `/channels/${thread.id}/messages`, { content: 'bot' })).body.code).toBe(50083);
    expect((await asBot(emu, 'PATCH', `/channels/${thread.id}`, { archived: false })).body.code).toBe(50013);
    expect(emu.thread(thread.id)).toMatchObject({ archived: true, locked: true });
    emu.updateThread(thread.id, { archived: false });
    expect((await execute(hook, { content: 'locked, active' }, `&thread_id=${thread.id}`)).body.code).toBe(160005);
    expect((await asBot(emu, 'PATCH', `/channels/${thread.id}`, { locked: false })).body.code).toBe(50013);
    expect(emu.messages(thread.id).map((m) => m.content)).toEqual(['lag again']);
  });
});

describe('the hidden cap and threads', () => {
  /** A fresh emulator with a 3-message cap over a window long enough that nothing leaves it during the test. */
  async function capped(threadMessagesCountAgainstParent?: boolean) {
    const e = await startEmulator({
      webhookBucket: { limit: 1000, windowMs: 1000 },
      channelCap: { limit: 3, windowMs: 60_000 },
      ...(threadMessagesCountAgainstParent === undefined ? {} : { threadMessagesCountAgainstParent }),
    });
    const ch = e.createChannel({ name: 'alerts' }).id;
    const w = e.createWebhook(ch, { applicationOwned: true });
    const [t1, t2] = [e.createThread({ channelId: ch, name: 'one' }).id, e.createThread({ channelId: ch, name: 'two' }).id];
    return { e, ch, w, t1, t2 };
  }

  it('by default a thread’s posts count against the parent channel', async () => {
    const { e, ch, w, t1, t2 } = await capped();
    try {
      expect((await execute(w, { content: 'c1' })).status).toBe(200);
      expect((await execute(w, { content: 't1' }, `&thread_id=${t1}`)).status).toBe(200);
      expect((await execute(w, { content: 't2' }, `&thread_id=${t2}`)).status).toBe(200);
      for (const query of ['', `&thread_id=${t1}`, `&thread_id=${t2}`]) {
        const res = await execute(w, { content: 'over' }, query);
        expect(res.status).toBe(429);
        expect(res.headers.get('x-ratelimit-scope')).toBe('shared');
      }
      expect(e.messages(ch).map((m) => m.content)).toEqual(['c1', 't1', 't2']);
    } finally {
      await e.close();
    }
  });

  it('with threadMessagesCountAgainstParent false each thread has its own cap, and the parent’s is untouched', async () => {
    const { e, ch, w, t1, t2 } = await capped(false);
    try {
      for (let i = 0; i < 3; i++) expect((await execute(w, { content: `c${i}` })).status).toBe(200);
      expect((await execute(w, { content: 'channel over' })).status).toBe(429);
      // The channel is full, its threads are not.
      for (let i = 0; i < 3; i++) expect((await execute(w, { content: `t1-${i}` }, `&thread_id=${t1}`)).status).toBe(200);
      const over = await execute(w, { content: 't1 over' }, `&thread_id=${t1}`);
      expect(over.status).toBe(429);
      expect(over.headers.get('x-ratelimit-scope')).toBe('shared');
      expect((await execute(w, { content: 't2-0' }, `&thread_id=${t2}`)).status).toBe(200);
      expect(e.messages(t1)).toHaveLength(3);
      expect(e.stats().rateLimited.shared).toBe(2);
    } finally {
      await e.close();
    }
  });
});

describe('discord.js and the gateway', () => {
  /** Resolves with the first `event` whose arguments satisfy `match` (no sleeping: the event decides). */
  function next<T extends unknown[]>(client: Client, event: string, match: (...args: T) => boolean): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off(event, listener);
        reject(new Error(`no ${event} within 5 s`));
      }, 5000);
      const listener = (...args: unknown[]) => {
        if (!match(...(args as T))) return;
        clearTimeout(timer);
        client.off(event, listener);
        resolve(args as T);
      };
      client.on(event, listener);
    });
  }

  async function login(e: Emulator): Promise<Client> {
    const c = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: e.url } });
    const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
    await c.login(e.botToken);
    await ready;
    return c;
  }

  it('starts threads and forum posts, hears THREAD_CREATE / THREAD_UPDATE, and a new session gets the active threads', async () => {
    const client = await login(emu);
    let second: Client | undefined;
    try {
      const text = client.channels.cache.get(textId) as TextChannel;
      const forum = client.channels.cache.get(forumId) as ForumChannel;
      expect(forum.type).toBe(ChannelType.GuildForum);

      const sent = await text.send('P1 api latency');
      const thread = await sent.startThread({ name: 'api latency', autoArchiveDuration: 60 });
      expect(thread).toMatchObject({ id: sent.id, parentId: textId, type: ChannelType.PublicThread, autoArchiveDuration: 60 });
      expect((await thread.send('looking')).channelId).toBe(thread.id);

      const post = await forum.threads.create({ name: 'postmortem', message: { content: 'timeline' } });
      expect(post).toMatchObject({ parentId: forumId, name: 'postmortem' });

      // A post made by a webhook reaches the bot only through the gateway.
      const heard = next<[AnyThreadChannel, boolean]>(client, Events.ThreadCreate, (t) => t.name === 'from a webhook');
      const viaHook = await execute(forumHook, { content: 'opened by Herald', thread_name: 'from a webhook' });
      const [created, newlyCreated] = await heard;
      expect(created.id).toBe(viaHook.body.id);
      expect(newlyCreated).toBe(true);

      const updated = next<[AnyThreadChannel, AnyThreadChannel]>(client, Events.ThreadUpdate, (_old, t) => t.id === thread.id && t.archived === true);
      await thread.setArchived(true);
      const [, after] = await updated;
      expect(after.archived).toBe(true);
      // A moderator's change arrives the same way.
      const locked = next<[AnyThreadChannel, AnyThreadChannel]>(client, Events.ThreadUpdate, (_old, t) => t.id === created.id && t.locked === true);
      emu.updateThread(created.id, { locked: true });
      await locked;

      // GUILD_CREATE carries the active threads (not the archived one).
      second = await login(emu);
      const guild = second.guilds.cache.get(emu.guildId)!;
      expect(guild.channels.cache.has(post.id)).toBe(true);
      expect(guild.channels.cache.has(created.id)).toBe(true);
      expect(guild.channels.cache.has(thread.id)).toBe(false);
    } finally {
      await second?.destroy();
      await client.destroy();
    }
  });

  it('a button on a card in a thread: the interaction comes from the thread and the reply is posted there', async () => {
    const client = await login(emu);
    try {
      const alice = emu.createMember({ username: 'alice' });
      const thread = emu.createThread({ channelId: textId, name: 'with buttons' });
      const buttons = [{ type: 1, components: [{ type: 2, style: 1, label: 'Ack', custom_id: 'herald:ack:7' }] }];
      const card = await execute(hook, { content: 'P1 card', components: buttons }, `&thread_id=${thread.id}`);
      const seen: string[] = [];
      client.on(Events.InteractionCreate, (i) => {
        if (!i.isButton()) return;
        seen.push(i.channelId);
        void i.reply({ content: 'acked' });
      });
      const r = await emu.pressButton({ userId: alice.id, channelId: thread.id, messageId: card.body.id, customId: 'herald:ack:7' });
      expect(r.content).toBe('acked');
      expect(seen).toEqual([thread.id]);
      expect(emu.message(r.messageId!)).toMatchObject({ channelId: textId, threadId: thread.id });
      // Pressed from the parent channel, the same message is not there.
      await expect(emu.pressButton({ userId: alice.id, channelId: textId, messageId: card.body.id, customId: 'herald:ack:7' })).rejects.toThrow(/no message/);
    } finally {
      await client.destroy();
    }
  });
});
