import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatedWebhook, type Emulator } from '../src/emulator/index.js';
import { controlAllowed } from '../src/emulator/control.js';
import { buildEmulator } from '../src/emulator/server.js';

/** A request to the emulator over real HTTP; the body is parsed when it is JSON. */
async function call(method: string, url: string, body?: unknown, init: { raw?: string; signal?: AbortSignal } = {}) {
  const hasBody = body !== undefined || init.raw !== undefined;
  const res = await fetch(url, {
    method,
    headers: hasBody ? { 'content-type': 'application/json' } : {},
    body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

const execute = (hook: EmulatedWebhook, body: unknown, query = '?wait=true') => call('POST', `${hook.url}${query}`, body);
const messageUrl = (hook: EmulatedWebhook, id: string) => `${hook.url}/messages/${id}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `_errors` list at a dotted path of a 50035 body's error tree. */
function errorsAt(body: any, path: string): { code: string; message: string }[] | undefined {
  let node = body?.errors;
  for (const key of path.split('.')) node = node?.[key];
  return node?._errors;
}

// Limits generous enough that rate limiting never interferes with the non-rate-limit tests.
let emu: Emulator;
let channelId: string;
let hook: EmulatedWebhook;
beforeAll(async () => {
  emu = await startEmulator({ webhookBucket: { limit: 10_000, windowMs: 1000 }, channelCap: { limit: 10_000, windowMs: 1000 } });
  channelId = emu.createChannel({ name: 'alerts' }).id;
  hook = emu.createWebhook(channelId, { name: 'Herald' });
});
afterAll(async () => {
  await emu.close();
});

describe('execute webhook', () => {
  it('with wait=true answers the Discord message object and stores it', async () => {
    const res = await execute(hook, { content: 'disk full on db-1', username: 'Herald P1', flags: 4096, embeds: [{ title: 'db-1', footer: { text: 'alert #1' } }] });
    expect(res.status).toBe(200);
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(hook.url).toBe(`${emu.url}/webhooks/${hook.id}/${hook.token}`);
    expect(hook.id).toMatch(/^\d{17,19}$/);
    expect(hook.token).toHaveLength(68);
    const m = res.body;
    expect(m.id).toMatch(/^\d{17,19}$/);
    expect(m).toMatchObject({ type: 0, channel_id: channelId, content: 'disk full on db-1', webhook_id: hook.id, flags: 4096, edited_timestamp: null });
    expect(m.author).toMatchObject({ id: hook.id, username: 'Herald P1', bot: true });
    expect(m.embeds[0]).toMatchObject({ type: 'rich', title: 'db-1' });
    expect(new Date(m.timestamp).getTime()).toBeGreaterThan(Date.now() - 10_000);
    const stored = emu.messages(channelId).find((x) => x.id === m.id);
    expect(stored).toMatchObject({ channelId, webhookId: hook.id, content: 'disk full on db-1', flags: 4096, username: 'Herald P1', deleted: false });
    expect(stored!.embeds).toEqual([{ title: 'db-1', footer: { text: 'alert #1' } }]);
  });

  it('is served under /api/v10 as well as /api, and without wait answers 204 but stores the message', async () => {
    const before = emu.messages(channelId).length;
    const res = await call('POST', `${emu.url}/v10/webhooks/${hook.id}/${hook.token}`, { content: 'no wait' });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    const after = emu.messages(channelId);
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)!.content).toBe('no wait');
    expect(after.at(-1)!.username).toBe('Herald'); // the webhook's own name when none is given
  });

  it('keeps thread_id and answers with the thread as channel', async () => {
    // Discord takes thread_id only for a thread of the webhook's channel (the thread tests cover the rest).
    const thread = emu.createThread({ channelId, name: 'incident' }).id;
    const res = await execute(hook, { content: 'in a thread' }, `?wait=true&thread_id=${thread}`);
    expect(res.status).toBe(200);
    expect(res.body.channel_id).toBe(thread);
    expect(emu.messages(channelId).find((m) => m.id === res.body.id)?.threadId).toBe(thread);
  });
});

describe('message limits', () => {
  const s = (n: number, c = 'x') => c.repeat(n);
  const field = (name = 'n', value = 'v') => ({ name, value });
  // [what, body exactly at the limit, body one over, error path, error code]
  const cases: [string, (n: number) => unknown, number, string, string][] = [
    ['content', (n) => ({ content: s(n) }), 2000, 'content', 'BASE_TYPE_MAX_LENGTH'],
    ['embed count', (n) => ({ embeds: Array.from({ length: n }, () => ({ title: 't' })) }), 10, 'embeds', 'BASE_TYPE_MAX_LENGTH'],
    ['embed title', (n) => ({ embeds: [{ title: s(n) }] }), 256, 'embeds.0.title', 'BASE_TYPE_MAX_LENGTH'],
    ['embed description', (n) => ({ embeds: [{ description: s(n) }] }), 4096, 'embeds.0.description', 'BASE_TYPE_MAX_LENGTH'],
    ['field count', (n) => ({ embeds: [{ fields: Array.from({ length: n }, () => field()) }] }), 25, 'embeds.0.fields', 'BASE_TYPE_MAX_LENGTH'],
    ['field name', (n) => ({ embeds: [{ title: 't' }, { fields: [field(), field(s(n))] }] }), 256, 'embeds.1.fields.1.name', 'BASE_TYPE_MAX_LENGTH'],
    ['field value', (n) => ({ embeds: [{ fields: [field('n', s(n))] }] }), 1024, 'embeds.0.fields.0.value', 'BASE_TYPE_MAX_LENGTH'],
    ['footer text', (n) => ({ embeds: [{ footer: { text: s(n) } }] }), 2048, 'embeds.0.footer.text', 'BASE_TYPE_MAX_LENGTH'],
    ['author name', (n) => ({ embeds: [{ author: { name: s(n) } }] }), 256, 'embeds.0.author.name', 'BASE_TYPE_MAX_LENGTH'],
    // 6000 across embeds: every part is within its own limit, only the sum breaks.
    [
      'total of embeds',
      (n) => ({ embeds: [{ description: s(4000), footer: { text: s(1000) } }, { title: s(200), fields: [field(s(100), s(n - 5300))] }] }),
      6000,
      'embeds',
      'MAX_EMBED_SIZE_EXCEEDED',
    ],
    ['username length', (n) => ({ content: 'x', username: s(n) }), 80, 'username', 'BASE_TYPE_BAD_LENGTH'],
  ];

  it.each(cases)('%s: accepted at the limit, 50035 one over', async (_what, body, limit, path, code) => {
    const ok = await execute(hook, body(limit));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const over = await execute(hook, body(limit + 1));
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ code: 50035, message: 'Invalid Form Body' });
    const errors = errorsAt(over.body, path);
    expect(errors, JSON.stringify(over.body)).toBeDefined();
    expect(errors![0]!.code).toBe(code);
    expect(errors![0]!.message).toMatch(/\d/);
  });

  it('refuses usernames containing discord or clyde, any case', async () => {
    for (const [username, word] of [
      ['My Discord relay', 'discord'],
      ['CLYDE', 'clyde'],
    ] as const) {
      const res = await execute(hook, { content: 'x', username });
      expect(res.status).toBe(400);
      expect(errorsAt(res.body, 'username')).toEqual([{ code: 'USERNAME_INVALID_CONTAINS', message: `Username cannot contain "${word}"` }]);
    }
    expect((await execute(hook, { content: 'x', username: 'Herald (disc)' })).status).toBe(200);
  });

  it('reports several problems at once, nested like Discord', async () => {
    const res = await execute(hook, { content: 'x'.repeat(2001), embeds: [{ title: 'x'.repeat(257), fields: [{ name: '', value: 'v' }] }] });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['content', 'embeds']);
    expect(errorsAt(res.body, 'embeds.0.title')![0]).toEqual({ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' });
    expect(errorsAt(res.body, 'embeds.0.fields.0.name')![0]!.code).toBe('BASE_TYPE_REQUIRED');
  });

  it('answers 50006 for an empty message and 50109 for invalid JSON, storing nothing', async () => {
    const before = emu.messages(channelId).length;
    for (const body of [{}, { content: '' }, { content: '   ', embeds: [] }, { username: 'only a name' }]) {
      const res = await execute(hook, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ code: 50006, message: 'Cannot send an empty message' });
    }
    const bad = await call('POST', `${hook.url}?wait=true`, undefined, { raw: '{"content": "x"' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 50109, message: 'The request body contains invalid JSON.' });
    expect(emu.messages(channelId)).toHaveLength(before);
  });
});

describe('webhook identity', () => {
  it('answers 404 Unknown Webhook, 401 Invalid Webhook Token, and 404 once deleted', async () => {
    const unknown = await call('POST', `${emu.url}/webhooks/1111111111111111111/${hook.token}`, { content: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: 'Unknown Webhook', code: 10015 });

    const wrong = await call('POST', `${emu.url}/webhooks/${hook.id}/${'a'.repeat(68)}`, { content: 'x' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ message: 'Invalid Webhook Token', code: 50027 });

    const doomed = emu.createWebhook(channelId);
    expect((await execute(doomed, { content: 'before' })).status).toBe(200);
    const info = await call('GET', doomed.url);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ id: doomed.id, channel_id: channelId, name: 'Captain Hook', type: 1, token: doomed.token, application_id: null });
    emu.deleteWebhook(doomed.id);
    const after = await execute(doomed, { content: 'after' });
    expect(after.status).toBe(404);
    expect(after.body.code).toBe(10015);
    expect(emu.messages(channelId).some((m) => m.content === 'after')).toBe(false);
    expect(() => emu.deleteWebhook(doomed.id)).toThrow(/unknown webhook/);
  });

  it('allows at most 15 webhooks per channel', () => {
    const ch = emu.createChannel().id;
    for (let i = 0; i < 15; i++) emu.createWebhook(ch);
    expect(() => emu.createWebhook(ch)).toThrow(/Maximum number of webhooks reached \(15\)/);
  });
});

describe('edit and delete', () => {
  it('only the posting webhook can read, edit or delete its message', async () => {
    const other = emu.createWebhook(channelId, { name: 'Other' });
    const posted = await execute(hook, { content: 'firing', embeds: [{ title: 'a' }] });
    const id: string = posted.body.id;

    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const res = await call(method, messageUrl(other, id), method === 'PATCH' ? { content: 'hijack' } : undefined);
      expect(res.status, method).toBe(404);
      expect(res.body).toEqual({ message: 'Unknown Message', code: 10008 });
    }

    const edited = await call('PATCH', messageUrl(hook, id), { content: 'resolved' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id, content: 'resolved', webhook_id: hook.id });
    expect(edited.body.embeds).toHaveLength(1); // fields not sent are unchanged
    expect(edited.body.edited_timestamp).not.toBeNull();

    const tooLong = await call('PATCH', messageUrl(hook, id), { embeds: [{ description: 'x'.repeat(4097) }] });
    expect(tooLong.status).toBe(400);
    expect(errorsAt(tooLong.body, 'embeds.0.description')).toBeDefined();
    const emptied = await call('PATCH', messageUrl(hook, id), { content: '', embeds: [] });
    expect(emptied.body.code).toBe(50006);

    const got = await call('GET', messageUrl(hook, id));
    expect(got.body.content).toBe('resolved');

    expect((await call('DELETE', messageUrl(hook, id))).status).toBe(204);
    expect((await call('GET', messageUrl(hook, id))).body.code).toBe(10008);
    expect((await call('PATCH', messageUrl(hook, id), { content: 'x' })).status).toBe(404);
    const stored = emu.messages(channelId).find((m) => m.id === id)!;
    expect(stored).toMatchObject({ content: 'resolved', deleted: true });
    expect(stored.editedAt).toBeTypeOf('number');
  });
});

describe('components', () => {
  const rows = [
    {
      type: 1,
      components: [
        { type: 2, style: 1, label: 'Ack', custom_id: 'ack:42' },
        { type: 2, style: 5, label: 'Runbook', url: 'https://example.com/runbook' },
      ],
    },
  ];

  it('kept for application-owned webhooks, dropped for external ones (link buttons only with with_components)', async () => {
    const app = emu.createWebhook(channelId, { applicationOwned: true });
    const a = await execute(app, { content: 'x', components: rows });
    expect(a.status).toBe(200);
    expect(a.body.components[0].components).toHaveLength(2);
    expect(a.body.application_id).toMatch(/^\d+$/);

    const b = await execute(hook, { content: 'x', components: rows });
    expect(b.status).toBe(200);
    expect(b.body.components).toEqual([]);
    expect(emu.messages(channelId).find((m) => m.id === b.body.id)!.components).toEqual([]);

    const c = await execute(hook, { content: 'x', components: rows }, '?wait=true&with_components=true');
    expect(c.body.components).toEqual([{ type: 1, components: [rows[0]!.components[1]] }]);

    // Dropped components do not make a message non-empty.
    expect((await execute(hook, { components: rows })).body.code).toBe(50006);
  });

  it('checks custom_id length and rows on application-owned webhooks', async () => {
    const app = emu.createWebhook(channelId, { applicationOwned: true });
    const button = (id: string) => ({ type: 2, style: 1, label: 'b', custom_id: id });
    expect((await execute(app, { content: 'x', components: [{ type: 1, components: [button('c'.repeat(100))] }] })).status).toBe(200);
    const long = await execute(app, { content: 'x', components: [{ type: 1, components: [button('c'.repeat(101))] }] });
    expect(errorsAt(long.body, 'components.0.components.0.custom_id')![0]!.code).toBe('BASE_TYPE_MAX_LENGTH');
    const sixRows = await execute(app, { content: 'x', components: Array.from({ length: 6 }, () => ({ type: 1, components: [button('a')] })) });
    expect(errorsAt(sixRows.body, 'components')).toBeDefined();
  });
});

describe('rate limits', () => {
  it('per-webhook bucket: headers on every answer, then a user-scope 429 that stores nothing', async () => {
    const e = await startEmulator({ webhookBucket: { limit: 3, windowMs: 600 }, channelCap: { limit: 100, windowMs: 1000 } });
    try {
      const ch = e.createChannel().id;
      const h = e.createWebhook(ch);
      const other = e.createWebhook(ch);
      const remaining: string[] = [];
      let bucket: string | null = null;
      for (let i = 0; i < 3; i++) {
        const res = await execute(h, { content: `m${i}` });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBe('3');
        remaining.push(res.headers.get('x-ratelimit-remaining')!);
        bucket ??= res.headers.get('x-ratelimit-bucket');
        expect(res.headers.get('x-ratelimit-bucket')).toBe(bucket);
        const resetAfter = Number(res.headers.get('x-ratelimit-reset-after'));
        expect(resetAfter).toBeGreaterThan(0);
        expect(resetAfter).toBeLessThanOrEqual(0.6);
        expect(Math.abs(Number(res.headers.get('x-ratelimit-reset')) - (Date.now() / 1000 + resetAfter))).toBeLessThan(0.2);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      expect(bucket).toMatch(/^[0-9a-f]{32}$/);
      expect(bucket).not.toContain(h.id);

      const limited = await execute(h, { content: 'over' });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.body).toMatchObject({ message: 'You are being rate limited.', global: false });
      expect(limited.body.retry_after).toBeGreaterThan(0);
      expect(limited.body.retry_after).toBeLessThanOrEqual(0.6);
      // Edits count against the same bucket.
      expect((await call('PATCH', messageUrl(h, e.messages(ch)[0]!.id), { content: 'edit' })).status).toBe(429);
      // Another webhook has its own bucket (and another hash).
      const o = await execute(other, { content: 'other' });
      expect(o.status).toBe(200);
      expect(o.headers.get('x-ratelimit-bucket')).not.toBe(bucket);

      expect(e.messages(ch).map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'other']);
      await sleep(limited.body.retry_after * 1000 + 20);
      const again = await execute(h, { content: 'after the window' });
      expect(again.status).toBe(200);
      expect(again.headers.get('x-ratelimit-remaining')).toBe('2');
      expect(e.stats().rateLimited).toEqual({ user: 2, shared: 0, global: 0 });
    } finally {
      await e.close();
    }
  });

  it('hidden channel cap: shared-scope 429 across webhooks of one channel while the headers show budget left', async () => {
    const e = await startEmulator({ webhookBucket: { limit: 5, windowMs: 2000 }, channelCap: { limit: 3, windowMs: 500 } });
    try {
      const ch = e.createChannel().id;
      const [a, b] = [e.createWebhook(ch), e.createWebhook(ch)];
      const elsewhere = e.createWebhook(e.createChannel().id);
      expect((await execute(a, { content: '1' })).status).toBe(200);
      // '1' was stored no later than this (the emulator's own clock of it is earlier, by the request's latency).
      const firstAt = Date.now();
      await sleep(200); // so that only '1' leaves the window first
      expect((await execute(a, { content: '2' })).status).toBe(200);
      expect((await execute(b, { content: '3' })).status).toBe(200);
      // Not a create: reading does not count against the channel cap.
      expect((await call('GET', b.url)).status).toBe(200);

      // '4' reaches the emulator no sooner than this.
      const cappedSentAt = Date.now();
      const capped = await execute(b, { content: '4' });
      expect(capped.status).toBe(429);
      expect(capped.headers.get('x-ratelimit-scope')).toBe('shared');
      expect(Number(capped.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
      expect(capped.body.global).toBe(false);
      expect(capped.body.retry_after).toBeGreaterThan(0);
      // Seconds until '1' is 500 ms old: about 0.3 s here, not the whole window.
      expect(capped.body.retry_after).toBeLessThanOrEqual((500 - (cappedSentAt - firstAt)) / 1000 + 0.02);
      expect(capped.headers.get('retry-after')).toBe('1');
      // Rotating to the other webhook does not help: the cap is per channel.
      expect((await execute(a, { content: '5' })).headers.get('x-ratelimit-scope')).toBe('shared');
      // Another channel is not affected.
      expect((await execute(elsewhere, { content: 'other channel' })).status).toBe(200);
      expect(e.messages(ch).map((m) => m.content)).toEqual(['1', '2', '3']);

      // retry_after is when the sliding window has room again: a single slot (the oldest message leaves).
      await sleep(capped.body.retry_after * 1000 + 30);
      expect((await execute(b, { content: '6' })).status).toBe(200);
      const stillFull = await execute(b, { content: '7' });
      expect(stillFull.status).toBe(429);
      expect(stillFull.headers.get('x-ratelimit-scope')).toBe('shared');

      const stats = e.stats();
      expect(stats.rateLimited.shared).toBe(3);
      expect(stats.invalidRequests10m).toBe(0); // shared-scope 429s do not count towards the ban
      expect(stats.messagesCreated).toBe(5);
    } finally {
      await e.close();
    }
  });
});

describe('faults', () => {
  it('error: answers the status for `count` matching requests, then recovers; matching by webhook', async () => {
    const other = emu.createWebhook(channelId);
    emu.resetStats();
    emu.injectFault({ kind: 'error', status: 503, count: 2, webhookId: hook.id });
    expect((await execute(other, { content: 'unaffected' })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await execute(hook, { content: 'x' });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ message: 'Internal Server Error', code: 0 });
    }
    expect((await execute(hook, { content: 'recovered' })).status).toBe(200);
    emu.injectFault({ kind: 'error', channelId });
    expect((await execute(other, { content: 'x' })).status).toBe(500);
    expect((await execute(hook, { content: 'x' })).status).toBe(500);
    emu.clearFaults();
    expect((await execute(hook, { content: 'cleared' })).status).toBe(200);
    const stats = emu.stats();
    expect(stats.byStatus).toEqual({ '200': 3, '500': 2, '503': 2 });
    expect(stats.requests).toBe(7);
    expect(stats.messagesCreated).toBe(3);
  });

  it('slow: answers normally after the delay', async () => {
    emu.injectFault({ kind: 'slow', delayMs: 300, count: 1 });
    const started = performance.now();
    const res = await execute(hook, { content: 'slow' });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const fast = performance.now();
    expect((await execute(hook, { content: 'fast' })).status).toBe(200);
    expect(performance.now() - fast).toBeLessThan(250);
  });

  it('rejects a malformed fault', () => {
    expect(() => emu.injectFault({ kind: 'slow' } as never)).toThrow(/delayMs/);
    expect(() => emu.injectFault({ kind: 'error', status: 418 } as never)).toThrow(/status/);
  });

  it('hang: no answer ever (afterSave: the message is stored anyway), and close() does not hang', async () => {
    const e = await startEmulator();
    const ch = e.createChannel().id;
    const h = e.createWebhook(ch);
    const timeout = (ms: number) => AbortSignal.timeout(ms);

    e.injectFault({ kind: 'hang', count: 1 });
    await expect(call('POST', `${h.url}?wait=true`, { content: 'lost' }, { signal: timeout(300) })).rejects.toThrow(/abort|timeout/i);
    expect(e.messages(ch)).toHaveLength(0);

    e.injectFault({ kind: 'hang', afterSave: true, count: 1 });
    await expect(call('POST', `${h.url}?wait=true`, { content: 'saved, reply lost' }, { signal: timeout(300) })).rejects.toThrow(/abort|timeout/i);
    expect(e.messages(ch).map((m) => m.content)).toEqual(['saved, reply lost']);
    // Both were received, neither was answered.
    expect(e.stats()).toMatchObject({ requests: 2, byStatus: {}, messagesCreated: 1 });

    // A request still hanging (never aborted by its client) while the emulator closes.
    e.injectFault({ kind: 'hang' });
    const pending = call('POST', `${h.url}?wait=true`, { content: 'x' }).catch((err: Error) => err);
    e.injectFault({ kind: 'slow', delayMs: 60_000 });
    await sleep(100);
    const started = performance.now();
    await e.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('control API', () => {
  it('round trip: channel, webhook, messages, faults, stats, delete', async () => {
    const base = emu.url.replace(/\/api$/, '/_emulator');
    const ch = await call('POST', `${base}/channels`, { name: 'ops' });
    expect(ch.status).toBe(201);
    expect(ch.body).toMatchObject({ name: 'ops', guildId: expect.stringMatching(/^\d+$/) });
    expect((await call('GET', `${base}/channels`)).body.map((c: { id: string }) => c.id)).toContain(ch.body.id);
    const fixed = await call('POST', `${base}/channels`, { id: '1200000000000000001' });
    expect(fixed.status).toBe(201);
    expect(fixed.body.id).toBe('1200000000000000001');

    const wh = await call('POST', `${base}/channels/${ch.body.id}/webhooks`, { name: 'Pager', application_owned: true });
    expect(wh.status).toBe(201);
    expect(wh.body).toMatchObject({ channelId: ch.body.id, name: 'Pager', applicationOwned: true });
    expect(wh.body.url).toBe(`${emu.url}/webhooks/${wh.body.id}/${wh.body.token}`);

    expect((await execute(wh.body, { content: 'via control' })).status).toBe(200);
    const msgs = await call('GET', `${base}/channels/${ch.body.id}/messages`);
    expect(msgs.status).toBe(200);
    expect(msgs.body).toHaveLength(1);
    expect(msgs.body[0]).toMatchObject({ content: 'via control', webhookId: wh.body.id, deleted: false });

    expect((await call('POST', `${base}/faults`, { kind: 'error', status: 502, webhookId: wh.body.id })).status).toBe(204);
    expect((await execute(wh.body, { content: 'x' })).status).toBe(502);
    expect((await call('DELETE', `${base}/faults`)).status).toBe(204);
    expect((await execute(wh.body, { content: 'y' })).status).toBe(200);

    const stats = await call('GET', `${base}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body.byStatus['502']).toBeGreaterThanOrEqual(1);
    expect(stats.body).toHaveProperty('invalidRequests10m');

    expect((await call('DELETE', `${base}/webhooks/${wh.body.id}`)).status).toBe(204);
    expect((await execute(wh.body, { content: 'z' })).status).toBe(404);
    expect((await call('DELETE', `${base}/webhooks/${wh.body.id}`)).status).toBe(404);
  });

  it('answers only on loopback: the peer address decides, never a header', async () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(controlAllowed(a), a).toBe(true);
    for (const a of ['10.0.0.5', '192.168.1.20', '203.0.113.7', '::ffff:10.0.0.5', 'fe80::1', '::', '0.0.0.0', undefined]) expect(controlAllowed(a), String(a)).toBe(false);

    // The server only listens on loopback in tests, so a request from elsewhere is injected with its peer address.
    const core = buildEmulator({
      webhookBucket: { limit: 5, windowMs: 2000 },
      channelCap: { limit: 30, windowMs: 60_000 },
      botGlobalLimit: { limit: 50, windowMs: 1000 },
      botToken: 'emu.control-test-token',
      heartbeatIntervalMs: 41_250,
      interactionDeadlineMs: 3000,
      deferredEditWaitMs: 10_000,
      logger: false,
      apiUrl: () => 'http://127.0.0.1:1/api',
      gatewayUrl: () => 'ws://127.0.0.1:1/gateway',
    });
    try {
      const remote = await core.app.inject({ method: 'POST', url: '/_emulator/channels', payload: {}, remoteAddress: '192.0.2.10', headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(remote.statusCode).toBe(403);
      expect(remote.json()).toEqual({ error: 'the emulator control API answers only on loopback (127.0.0.1, ::1)' });
      expect(core.state.channels()).toEqual([]);
      expect((await core.app.inject({ method: 'GET', url: '/_emulator/stats', remoteAddress: '192.0.2.10' })).statusCode).toBe(403);
      const local = await core.app.inject({ method: 'POST', url: '/_emulator/channels', payload: {}, remoteAddress: '127.0.0.1' });
      expect(local.statusCode).toBe(201);
    } finally {
      await core.shutdown();
    }
  });

  it('bad input is a 400 with a sentence; an unknown channel a 404', async () => {
    const base = emu.url.replace(/\/api$/, '/_emulator');
    const badFault = await call('POST', `${base}/faults`, { kind: 'explode' });
    expect(badFault.status).toBe(400);
    expect(badFault.body.error).toMatch(/kind/);
    const badId = await call('POST', `${base}/channels`, { id: 'general' });
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatch(/snowflake/);
    const typo = await call('POST', `${base}/channels`, { nmae: 'x' });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatch(/nmae/);
    const badJson = await call('POST', `${base}/channels`, undefined, { raw: '{' });
    expect(badJson.status).toBe(400);
    expect(typeof badJson.body.error).toBe('string');
    expect((await call('POST', `${base}/channels/1999999999999999999/webhooks`, {})).status).toBe(404);
    expect((await call('GET', `${base}/channels/1999999999999999999/messages`)).status).toBe(404);
  });
});

describe('invalid-request accounting', () => {
  it('counts 401s and non-shared 429s over 10 minutes, not 404s or shared 429s', async () => {
    const e = await startEmulator({ webhookBucket: { limit: 1, windowMs: 5000 }, channelCap: { limit: 1, windowMs: 5000 } });
    try {
      const ch = e.createChannel().id;
      const [a, b] = [e.createWebhook(ch), e.createWebhook(ch)];
      const wrong = `${e.url}/webhooks/${a.id}/${'t'.repeat(68)}`;
      expect((await call('POST', wrong, { content: 'x' })).status).toBe(401);
      expect((await call('POST', wrong, { content: 'x' })).status).toBe(401);
      expect((await call('POST', `${e.url}/webhooks/1111111111111111111/x`, { content: 'x' })).status).toBe(404);
      expect((await execute(a, { content: 'ok' })).status).toBe(200);
      const user = await execute(a, { content: 'user 429' });
      expect([user.status, user.headers.get('x-ratelimit-scope')]).toEqual([429, 'user']);
      const shared = await execute(b, { content: 'shared 429' });
      expect([shared.status, shared.headers.get('x-ratelimit-scope')]).toEqual([429, 'shared']);
      const stats = e.stats();
      expect(stats.invalidRequests10m).toBe(3);
      expect(stats.byStatus).toEqual({ '200': 1, '401': 2, '404': 1, '429': 2 });
      expect(stats.rateLimited).toEqual({ user: 1, shared: 1, global: 0 });
      e.resetStats();
      expect(e.stats()).toEqual({ requests: 0, byStatus: {}, rateLimited: { user: 0, shared: 0, global: 0 }, invalidRequests10m: 0, messagesCreated: 0 });
    } finally {
      await e.close();
    }
  });
});
