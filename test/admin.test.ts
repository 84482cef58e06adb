import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { createHerald, type Herald } from '../src/herald.js';
import { buildServer } from '../src/http/server.js';
import type { App } from '../src/http/typed-app.js';
import { createLogger } from '../src/log.js';
import { waitFor } from './support/stack.js';

const ADMIN = 'admin-test-token-0123456789abcde'; // 32 characters

let dir: string;
let emu: Emulator;
let herald: Herald;
let app: App;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-admin-'));
  // Herald asks Discord (here the emulator) which channel a pasted webhook posts to before it takes it.
  emu = await startEmulator();
  const parsed = loadConfig({
    HERALD_DB: join(dir, 'herald.db'),
    HERALD_ADMIN_TOKEN: ADMIN,
    DISCORD_API_URL: emu.url,
    HERALD_LOG_LEVEL: 'silent',
    HERALD_DB_SYNC: 'normal',
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  herald = createHerald(parsed.config, createLogger('silent'));
  app = await buildServer(herald);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
  await herald?.close();
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: any;
  text: string;
}

async function call(method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

const snowflake = () => String(100_000_000_000_000_000n + BigInt(`0x${randomBytes(7).toString('hex')}`));
const hookToken = () => randomBytes(51).toString('base64url'); // 68 characters, like Discord's
/** Herald channel id → its Discord (emulated) channel id. */
const discordChannelOf = new Map<number, string>();
/** A webhook the emulator knows, in that Herald channel's Discord channel, pasted as a discord.com URL. */
const discordUrl = (channel?: number) => {
  const hook = emu.createWebhook(channel === undefined ? emu.createChannel().id : discordChannelOf.get(channel)!);
  return { id: hook.id, token: hook.token, url: `https://discord.com/api/webhooks/${hook.id}/${hook.token}` };
};

async function createChannel(name: string, extra: Record<string, unknown> = {}): Promise<number> {
  const discordId = emu.createChannel({ ...(typeof extra.discord_channel_id === 'string' ? { id: extra.discord_channel_id } : {}) }).id;
  const res = await call('POST', '/v1/admin/channels', { name, discord_channel_id: discordId, ...extra });
  expect(res.status, res.text).toBe(201);
  discordChannelOf.set(res.body.id as number, discordId);
  return res.body.id as number;
}

async function createSource(name: string): Promise<{ id: number; token: string }> {
  const res = await call('POST', '/v1/admin/sources', { name });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function postAlert(token: string, alert: Record<string, unknown>): Promise<number> {
  const res = await call('POST', '/v1/alerts', { severity: 'P2', title: 'Something broke', ...alert }, token);
  expect(res.status, res.text).toBe(202);
  return res.body.ids[0] as number;
}

async function channelsOf(alertId: number): Promise<number[]> {
  const res = await call('GET', `/v1/admin/alerts/${alertId}`);
  expect(res.status).toBe(200);
  return (res.body.deliveries as { channel_id: number }[]).map((d) => d.channel_id).sort((a, b) => a - b);
}

describe('admin auth', () => {
  it('answers 401 without a token or with a wrong one, on every kind of endpoint', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/admin/sources', undefined],
      ['POST', '/v1/admin/channels', { name: 'x', discord_channel_id: snowflake() }],
      ['DELETE', '/v1/admin/routes/1', undefined],
      ['GET', '/v1/admin/status', undefined],
      // Even an invalid id is refused before it is validated.
      ['GET', '/v1/admin/alerts/not-a-number', undefined],
    ] as const) {
      const none = await call(method, path, body, null);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error).toBe('unauthorized');
      const wrong = await call(method, path, body, 'not-the-admin-token-0123456789ab');
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
    // Nothing was created by the refused POST.
    expect((await call('GET', '/v1/admin/channels')).body).toEqual([]);
    // A source token is not an admin token.
    const source = await createSource('auth-check');
    expect((await call('GET', '/v1/admin/sources', undefined, source.token)).status).toBe(401);
    expect((await call('DELETE', `/v1/admin/sources/${source.id}`)).status).toBe(204);
  });
});

describe('sources', () => {
  it('creates a source whose token is shown once, works on the hook, and stops working when the source is deleted', async () => {
    const created = await call('POST', '/v1/admin/sources', { name: 'prometheus' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(Number), name: 'prometheus', token: expect.stringMatching(/^hrl_[A-Za-z0-9_-]{20,}$/) });
    const { id, token } = created.body as { id: number; token: string };

    const list = await call('GET', '/v1/admin/sources');
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual({ id, name: 'prometheus', created_at: expect.any(Number) });
    expect(list.text).not.toContain(token);
    expect(list.text).not.toContain('token');

    const alertId = await postAlert(token, { service: 'source-check' });
    expect((await call('GET', `/v1/admin/alerts/${alertId}`)).body.source_id).toBe(id);

    const dup = await call('POST', '/v1/admin/sources', { name: 'prometheus' });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error: 'conflict', message: expect.stringContaining('prometheus') });

    const del = await call('DELETE', `/v1/admin/sources/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const refused = await call('POST', '/v1/alerts', { service: 'source-check', severity: 'P2', title: 'after delete' }, token);
    expect(refused.status).toBe(401);
    expect((await call('GET', '/v1/admin/sources')).body.map((s: { id: number }) => s.id)).not.toContain(id);
    // The alert it sent is kept.
    expect((await call('GET', `/v1/admin/alerts/${alertId}`)).body.source_id).toBeNull();
    expect((await call('DELETE', `/v1/admin/sources/${id}`)).status).toBe(404);
  });
});

describe('validation and unknown ids', () => {
  it('lists every problem of a body with its path and message', async () => {
    const res = await call('POST', '/v1/admin/channels', { name: '', discord_channel_id: '123', default: 'yes', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const problems = res.body.problems as { path: string; message: string }[];
    for (const p of problems) expect(p.message.length).toBeGreaterThan(0);
    const paths = problems.map((p) => p.path);
    expect(paths.sort()).toEqual(['colour', 'default', 'discord_channel_id', 'name']);
    expect(problems.find((p) => p.path === 'discord_channel_id')!.message).toMatch(/17 to 20 digits/);

    const route = await call('POST', '/v1/admin/routes', { channel_id: 'one', severities: [], labels: { team: 5 } });
    expect(route.status).toBe(400);
    expect(route.body.problems.map((p: { path: string }) => p.path)).toEqual(expect.arrayContaining(['channel_id', 'severities', 'labels.team']));
    const sev = await call('POST', '/v1/admin/routes', { channel_id: 1, severities: ['P0', 'P9'] });
    expect(sev.status).toBe(400);
    expect(sev.body.problems).toEqual([{ path: 'severities[1]', message: expect.any(String) }]);

    const missing = await call('POST', '/v1/admin/sources', {});
    expect(missing.status).toBe(400);
    expect(missing.body.problems).toEqual([{ path: 'name', message: expect.any(String) }]);
  });

  it('answers 400 for ids that are not positive integers, and bad query parameters', async () => {
    for (const path of ['/v1/admin/alerts/abc', '/v1/admin/alerts/0', '/v1/admin/alerts/-3', '/v1/admin/alerts/1.5']) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.problems[0].path).toBe('params.id');
    }
    const del = await call('DELETE', '/v1/admin/channels/x');
    expect(del.status).toBe(400);
    expect(del.body.problems).toEqual([{ path: 'params.id', message: expect.any(String) }]);
    const q = await call('GET', '/v1/admin/alerts?limit=0&unrouted=maybe');
    expect(q.status).toBe(400);
    expect(q.body.problems.map((p: { path: string }) => p.path).sort()).toEqual(['querystring.limit', 'querystring.unrouted']);
    expect((await call('GET', '/v1/admin/attempts?webhook_id=abc')).status).toBe(400);
  });

  it('answers 404 {error: not_found, message} for unknown ids', async () => {
    const { url } = discordUrl();
    for (const [method, path, body] of [
      ['DELETE', '/v1/admin/sources/999999', undefined],
      ['DELETE', '/v1/admin/channels/999999', undefined],
      ['PATCH', '/v1/admin/channels/999999', { default: true }],
      ['GET', '/v1/admin/channels/999999/webhooks', undefined],
      ['POST', '/v1/admin/channels/999999/webhooks', { url }],
      ['DELETE', '/v1/admin/webhooks/999999', undefined],
      ['POST', '/v1/admin/webhooks/999999/restore', undefined],
      ['DELETE', '/v1/admin/routes/999999', undefined],
      ['POST', '/v1/admin/routes', { channel_id: 999999, service: 'x' }],
      ['GET', '/v1/admin/alerts/999999', undefined],
      ['POST', '/v1/admin/dead-letters/999999/replay', undefined],
    ] as const) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual({ error: 'not_found', message: expect.stringContaining('999999') });
    }
  });
});

describe('routing', () => {
  let token: string;
  const ch: Record<string, number> = {};

  beforeAll(async () => {
    token = (await createSource('routing')).token;
    for (const name of ['payments', 'pager', 'database']) ch[name] = await createChannel(`route-${name}`);
  });

  it('keeps an alert that no route takes, with no default channel, as unrouted', async () => {
    const id = await postAlert(token, { service: 'nobody-routes-me', severity: 'P3', labels: { team: 'x' }, links: [{ title: 'Runbook', url: 'https://example.com/rb' }] });
    const detail = await call('GET', `/v1/admin/alerts/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id,
      service: 'nobody-routes-me',
      severity: 'P3',
      title: 'Something broke',
      status: 'firing',
      unrouted: true,
      labels: { team: 'x' },
      links: [{ title: 'Runbook', url: 'https://example.com/rb' }],
      fields: null,
      deliveries: [],
    });
    const unrouted = await call('GET', '/v1/admin/alerts?unrouted=true');
    expect(unrouted.status).toBe(200);
    expect(unrouted.body[0].id).toBe(id);
    expect(unrouted.body.every((a: { unrouted: boolean }) => a.unrouted)).toBe(true);
    const routed = await call('GET', '/v1/admin/alerts?unrouted=false');
    expect(routed.body.map((a: { id: number }) => a.id)).not.toContain(id);
  });

  it('decides channels by service glob, severities, environment and labels', async () => {
    const r1 = await call('POST', '/v1/admin/routes', { channel_id: ch.payments, service: 'payments-*' });
    const r2 = await call('POST', '/v1/admin/routes', { channel_id: ch.pager, severities: ['P0'] });
    const r3 = await call('POST', '/v1/admin/routes', { channel_id: ch.database, environment: 'prod', labels: { team: 'db' } });
    for (const r of [r1, r2, r3]) expect(r.status, r.text).toBe(201);

    const list = await call('GET', '/v1/admin/routes');
    expect(list.body).toEqual([
      { id: r1.body.id, channel_id: ch.payments, channel_name: 'route-payments', service: 'payments-*', severities: null, environment: null, labels: null, business_hours: null, created_at: expect.any(Number) },
      { id: r2.body.id, channel_id: ch.pager, channel_name: 'route-pager', service: null, severities: ['P0'], environment: null, labels: null, business_hours: null, created_at: expect.any(Number) },
      { id: r3.body.id, channel_id: ch.database, channel_name: 'route-database', service: null, severities: null, environment: 'prod', labels: { team: 'db' }, business_hours: null, created_at: expect.any(Number) },
    ]);

    expect(await channelsOf(await postAlert(token, { service: 'payments-api', severity: 'P2' }))).toEqual([ch.payments]);
    expect(await channelsOf(await postAlert(token, { service: 'Payments-API', severity: 'P0' }))).toEqual([ch.payments, ch.pager].sort((a, b) => a! - b!));
    expect(await channelsOf(await postAlert(token, { service: 'search', severity: 'P0' }))).toEqual([ch.pager]);
    expect(await channelsOf(await postAlert(token, { service: 'pg', severity: 'P1', environment: 'prod', labels: { team: 'db', region: 'eu' } }))).toEqual([ch.database]);
    const staging = await postAlert(token, { service: 'pg', severity: 'P1', environment: 'staging', labels: { team: 'db' } });
    expect(await channelsOf(staging)).toEqual([]);
    expect((await call('GET', `/v1/admin/alerts/${staging}`)).body.unrouted).toBe(true);
    expect(await channelsOf(await postAlert(token, { service: 'pg', severity: 'P1', environment: 'prod', labels: { team: 'web' } }))).toEqual([]);

    const detail = (await call('GET', `/v1/admin/alerts/${await postAlert(token, { service: 'payments-db', severity: 'P1' })}`)).body;
    expect(detail.deliveries).toEqual([
      { id: expect.any(Number), channel_id: ch.payments, state: 'pending', available_at: expect.any(Number), attempts: 0, last_error: null, webhook_id: null, discord_message_id: null, sent_at: null },
    ]);

    // Deleting a route takes effect at once.
    expect((await call('DELETE', `/v1/admin/routes/${r2.body.id}`)).status).toBe(204);
    expect(await channelsOf(await postAlert(token, { service: 'search', severity: 'P0' }))).toEqual([]);
    expect((await call('GET', '/v1/admin/routes')).body.map((r: { id: number }) => r.id)).toEqual([r1.body.id, r3.body.id]);
    expect((await call('DELETE', `/v1/admin/routes/${r2.body.id}`)).status).toBe(404);
  });

  it('sends what no route takes to the default channel, of which there is only one', async () => {
    const first = await createChannel('default-1', { default: true });
    // A second default is refused, naming the current one, unless the request says to move the default.
    const refused = await call('POST', '/v1/admin/channels', { name: 'default-2', discord_channel_id: emu.createChannel().id, default: true });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'conflict', message: `channel "default-1" (id ${first}) is already the default; send "move_default": true to make this channel the default instead` });
    expect((await call('GET', '/v1/admin/channels')).body.map((c: { name: string }) => c.name)).not.toContain('default-2');
    const second = await createChannel('default-2', { default: true, move_default: true });
    const channels = (await call('GET', '/v1/admin/channels')).body as { id: number; default: boolean }[];
    expect(channels.filter((c) => c.default).map((c) => c.id)).toEqual([second]);

    const id = await postAlert(token, { service: 'nobody-routes-me', severity: 'P3' });
    expect(await channelsOf(id)).toEqual([second]);
    expect((await call('GET', `/v1/admin/alerts/${id}`)).body.unrouted).toBe(false);
    expect((await call('GET', '/v1/admin/alerts?unrouted=true&limit=100')).body.map((a: { id: number }) => a.id)).not.toContain(id);
    // A matching route still wins over the default.
    expect(await channelsOf(await postAlert(token, { service: 'payments-web' }))).toEqual([ch.payments]);

    const notMoved = await call('PATCH', `/v1/admin/channels/${first}`, { default: true });
    expect(notMoved.status).toBe(409);
    expect(notMoved.body.message).toContain(`channel "default-2" (id ${second}) is already the default`);
    expect((await call('PATCH', `/v1/admin/channels/${second}`, { default: true })).status).toBe(200); // already the default: nothing moves
    const patched = await call('PATCH', `/v1/admin/channels/${first}`, { default: true, move_default: true });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: first, default: true });
    const toFirst = await postAlert(token, { service: 'nobody-routes-me' });
    expect(await channelsOf(toFirst)).toEqual([first]);
    expect((await call('GET', '/v1/admin/channels')).body.find((c: { id: number }) => c.id === second).default).toBe(false);

    // Deleting the default channel: its deliveries go with it, and alerts are unrouted again.
    expect((await call('DELETE', `/v1/admin/channels/${first}`)).status).toBe(204);
    expect((await call('GET', `/v1/admin/alerts/${toFirst}`)).body.deliveries).toEqual([]);
    expect(await channelsOf(id)).toEqual([second]);
    const after = await postAlert(token, { service: 'nobody-routes-me' });
    expect((await call('GET', `/v1/admin/alerts/${after}`)).body).toMatchObject({ unrouted: true, deliveries: [] });
    expect((await call('PATCH', `/v1/admin/channels/${second}`, { default: true })).status).toBe(200);
  });

  it('lists alerts newest first, with a limit and paging', async () => {
    const page = (await call('GET', '/v1/admin/alerts?limit=3')).body as { id: number }[];
    expect(page).toHaveLength(3);
    expect(page[0]!.id).toBeGreaterThan(page[1]!.id);
    expect(page[1]!.id).toBeGreaterThan(page[2]!.id);
    const next = (await call('GET', `/v1/admin/alerts?limit=2&before_id=${page[2]!.id}`)).body as { id: number }[];
    expect(next.map((a) => a.id)).toEqual([page[2]!.id - 1, page[2]!.id - 2]);
  });
});

describe('channels', () => {
  it('creates, lists with webhook counts and backlog, refuses duplicates, and deletes with everything in it', async () => {
    const discordId = emu.createChannel().id;
    const created = await call('POST', '/v1/admin/channels', { name: 'ops', discord_channel_id: discordId });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(Number) });
    const id = created.body.id as number;
    discordChannelOf.set(id, discordId);
    expect((await call('POST', '/v1/admin/channels', { name: 'ops', discord_channel_id: snowflake() })).status).toBe(409);

    const hooks = [discordUrl(id), discordUrl(id)];
    for (const h of hooks) expect((await call('POST', `/v1/admin/channels/${id}/webhooks`, { url: h.url })).status).toBe(201);
    const route = await call('POST', '/v1/admin/routes', { channel_id: id, service: 'ops-*' });
    expect(route.status).toBe(201);

    const list = (await call('GET', '/v1/admin/channels')).body as { id: number }[];
    expect(list.find((c) => c.id === id)).toEqual({
      id,
      name: 'ops',
      discord_channel_id: discordId,
      default: false,
      created_at: expect.any(Number),
      webhooks: { active: 2, quarantined: 0 },
      backlog: 0,
    });

    expect((await call('DELETE', `/v1/admin/channels/${id}`)).status).toBe(204);
    expect((await call('GET', '/v1/admin/channels')).body.map((c: { id: number }) => c.id)).not.toContain(id);
    expect((await call('GET', '/v1/admin/routes')).body.map((r: { id: number }) => r.id)).not.toContain(route.body.id);
    expect((await call('GET', `/v1/admin/channels/${id}/webhooks`)).status).toBe(404);
    expect((await call('DELETE', `/v1/admin/channels/${id}`)).status).toBe(404);
    // Its webhooks went with it, so the same Discord webhook can join another pool (of the same Discord channel).
    const other = await createChannel('ops-2', { discord_channel_id: discordId });
    expect((await call('POST', `/v1/admin/channels/${other}/webhooks`, { url: hooks[0]!.url })).status).toBe(201);
  });

  it('counts the backlog of a channel with no webhook', async () => {
    const id = await createChannel('backlog');
    await call('POST', '/v1/admin/routes', { channel_id: id, service: 'backlog-svc' });
    const token = (await createSource('backlog')).token;
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await postAlert(token, { service: 'backlog-svc' }));
    const view = (await call('GET', '/v1/admin/channels')).body.find((c: { id: number }) => c.id === id);
    expect(view).toMatchObject({ backlog: 3, webhooks: { active: 0, quarantined: 0 } });
    // Deleting the channel takes its queued deliveries with it; the alerts stay.
    expect((await call('DELETE', `/v1/admin/channels/${id}`)).status).toBe(204);
    for (const alertId of ids) expect((await call('GET', `/v1/admin/alerts/${alertId}`)).body).toMatchObject({ id: alertId, deliveries: [] });
  });
});

describe('mode', () => {
  it('/readyz and /metrics say Herald delivers to a configured Discord, not its emulator', async () => {
    const ready = await call('GET', '/readyz', undefined, null);
    expect(ready.body).toMatchObject({ mode: 'discord' });
    const metrics = await fetch(`${base}/metrics`);
    expect(await metrics.text()).toMatch(/^herald_mode\{mode="discord"\} 1$/m);
  });
});

describe('webhooks', () => {
  let channel: number;
  beforeAll(async () => {
    channel = await createChannel('webhooks');
  });

  it('adds a webhook and never shows its token', async () => {
    const h = discordUrl(channel);
    const res = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: h.url });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      channel_id: channel,
      discord_webhook_id: h.id,
      url_masked: `${emu.url}/webhooks/${h.id}/****`,
      owner: 'external',
      state: 'active',
      breaker_state: 'closed',
      last_error: null,
      created_at: expect.any(Number),
    });
    expect(res.text).not.toContain(h.token);
    // Stored for sending.
    expect((await herald.webhooks.activeFor(channel)).find((w) => w.id === res.body.id)).toMatchObject({ discordWebhookId: h.id, token: h.token, owner: 'external' });

    const list = await call('GET', `/v1/admin/channels/${channel}/webhooks`);
    expect(list.status).toBe(200);
    expect(list.body.map((w: { id: number }) => w.id)).toContain(res.body.id);
    expect(list.text).not.toContain(h.token);

    const dup = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: `https://discordapp.com/api/v10/webhooks/${h.id}/${hookToken()}` });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('conflict');
    expect(dup.body.message).toContain(h.id);
    expect(dup.text).not.toContain(h.token);
  });

  it('accepts the URL forms Discord gives and the configured API host', async () => {
    const forms = [
      (id: string, t: string) => `https://discord.com/api/v10/webhooks/${id}/${t}`,
      (id: string, t: string) => `https://canary.discord.com/api/webhooks/${id}/${t}`,
      (id: string, t: string) => `https://ptb.discord.com/api/webhooks/${id}/${t}`,
      (id: string, t: string) => `https://discordapp.com/api/webhooks/${id}/${t}/`,
      (id: string, t: string) => `${emu.url}/webhooks/${id}/${t}`,
      (id: string, t: string) => `${emu.url}/v10/webhooks/${id}/${t}`,
    ];
    for (const form of forms) {
      const { id, token } = discordUrl(channel);
      const res = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: form(id, token), owner: 'app' });
      expect(res.status, form('ID', 'TOKEN')).toBe(201);
      expect(res.body).toMatchObject({ discord_webhook_id: id, owner: 'app' });
    }
  });

  it('rejects URLs that are not Discord webhooks, without repeating the token', async () => {
    const id = snowflake();
    const token = hookToken();
    const bad = [
      `https://evil.example.com/api/webhooks/${id}/${token}`,
      `https://discord.com.evil.example/api/webhooks/${id}/${token}`,
      `http://discord.com/api/webhooks/${id}/${token}`,
      `ftp://discord.com/api/webhooks/${id}/${token}`,
      `https://discord.com/api/webhooks/12345/${token}`,
      `https://discord.com/api/webhooks/${id}`,
      `https://discord.com/api/webhooks/${id}/${token}/github`,
      `https://discord.com/api/webhooks/${id}/${token}?thread_id=1`,
      `https://discord.com/channels/webhooks/${id}/${token}`,
      `https://discord.com/api/webhooks/${id}/short`,
      `https://user:${token}@discord.com/api/webhooks/${id}/${token}`,
      `https://discord.com:8443/api/webhooks/${id}/${token}`,
      `http://127.0.0.2:9/api/webhooks/${id}/${token}`,
      `discord.com/api/webhooks/${id}/${token}`,
      `https://discord.com/api/webhooks/${id}/${token.slice(0, 30)}!${token.slice(31)}`,
    ];
    for (const url of bad) {
      const res = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url });
      expect(res.status, url.replace(token, 'TOKEN')).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.message.length).toBeGreaterThan(10);
      expect(res.body.problems).toEqual([{ path: 'url', message: res.body.message }]);
      expect(res.text).not.toContain(token);
      expect(res.text).not.toContain(token.slice(0, 20));
    }
    const http = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: `http://discord.com/api/webhooks/${id}/${token}` });
    expect(http.body.message).toMatch(/https/);
    const host = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: `https://evil.example.com/api/webhooks/${id}/${token}` });
    expect(host.body.message).toContain('evil.example.com');
    // None of them was stored.
    expect((await herald.webhooks.activeFor(channel)).some((w) => w.discordWebhookId === id)).toBe(false);
    const owner = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: discordUrl().url, owner: 'bot' });
    expect(owner.status).toBe(400);
    expect(owner.body.problems[0].path).toBe('owner');
  });

  it("refuses a 16th webhook in one channel (Discord's limit is 15)", async () => {
    const full = await createChannel('full-pool');
    for (let i = 0; i < 15; i++) expect((await call('POST', `/v1/admin/channels/${full}/webhooks`, { url: discordUrl(full).url })).status).toBe(201);
    // (Discord would not make a 16th in that channel either: this one is of another channel, refused before Discord is asked.)
    const extra = await call('POST', `/v1/admin/channels/${full}/webhooks`, { url: discordUrl().url });
    expect(extra.status).toBe(409);
    expect(extra.body.message).toMatch(/at most 15/);
    expect((await call('GET', `/v1/admin/channels/${full}/webhooks`)).body).toHaveLength(15);
  });

  it('removes a webhook (kept as removed) and can add it back', async () => {
    const h = discordUrl(channel);
    const added = (await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: h.url })).body as { id: number };
    const del = await call('DELETE', `/v1/admin/webhooks/${added.id}`);
    expect(del.status).toBe(204);
    expect((await herald.webhooks.activeFor(channel)).map((w) => w.id)).not.toContain(added.id);
    expect((await call('GET', `/v1/admin/channels/${channel}/webhooks`)).body.map((w: { id: number }) => w.id)).not.toContain(added.id);
    const all = (await call('GET', `/v1/admin/channels/${channel}/webhooks?include_removed=true`)).body as { id: number; state: string }[];
    expect(all.find((w) => w.id === added.id)?.state).toBe('removed');
    expect((await call('DELETE', `/v1/admin/webhooks/${added.id}`)).status).toBe(404);
    expect((await call('POST', `/v1/admin/webhooks/${added.id}/restore`)).status).toBe(409);

    const again = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: h.url });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ id: added.id, state: 'active' });
  });

  it("wipes a removed webhook's token from the database: the row stays, the token does not", async () => {
    const h = discordUrl(channel);
    const added = (await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: h.url })).body as { id: number };
    const row = () => herald.db.$client.prepare('select token, state, gone_at from webhooks where id = ?').get(added.id) as { token: string; state: string; gone_at: number | null };
    expect(row().token).toBe(h.token);
    expect((await call('DELETE', `/v1/admin/webhooks/${added.id}`)).status).toBe(204);
    expect(row()).toEqual({ token: '', state: 'removed', gone_at: expect.any(Number) });
    // Not in the file either, once the WAL is written back: the old bytes were overwritten, not just unlinked.
    herald.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(dir, 'herald.db')).includes(Buffer.from(h.token))).toBe(false);
  });

  it("refuses a webhook that posts to another Discord channel than the Herald channel's, naming both ids", async () => {
    const elsewhere = emu.createChannel().id;
    const hook = emu.createWebhook(elsewhere);
    const res = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: hook.url });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      message: `webhook ${hook.id} posts to Discord channel ${elsewhere}, but Herald channel ${channel} is Discord channel ${discordChannelOf.get(channel)}; use a webhook of that channel`,
      problems: [{ path: 'url', message: expect.any(String) }],
    });
    expect(res.text).not.toContain(hook.token);
    expect((await herald.webhooks.activeFor(channel)).some((w) => w.discordWebhookId === hook.id)).toBe(false);
    // One Discord does not know (deleted, or a wrong token) is refused too.
    const unknown = await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: `https://discord.com/api/webhooks/${hook.id}/${hookToken()}` });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(new RegExp(`^Discord does not know webhook ${hook.id} `));
  });

  it('restores a quarantined webhook with its breaker closed, and records both events', async () => {
    const h = discordUrl(channel);
    const added = (await call('POST', `/v1/admin/channels/${channel}/webhooks`, { url: h.url })).body as { id: number };
    await herald.webhooks.quarantine(added.id, channel, 'Discord answered 404: Unknown Webhook', Date.now());
    await herald.webhooks.saveBreaker(added.id, { state: 'open', failures: 5, openedAt: Date.now() });
    const before = (await call('GET', `/v1/admin/channels/${channel}/webhooks`)).body.find((w: { id: number }) => w.id === added.id);
    expect(before).toMatchObject({ state: 'quarantined', breaker_state: 'open', last_error: 'Discord answered 404: Unknown Webhook' });
    const counts = (await call('GET', '/v1/admin/channels')).body.find((c: { id: number }) => c.id === channel);
    expect(counts.webhooks.quarantined).toBe(1);

    const restored = await call('POST', `/v1/admin/webhooks/${added.id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ id: added.id, state: 'active', breaker_state: 'closed', last_error: null });
    expect(restored.text).not.toContain(h.token);
    expect((await herald.webhooks.activeFor(channel)).find((w) => w.id === added.id)?.breaker).toEqual({ state: 'closed', failures: 0, openedAt: null });

    const events = (await call('GET', `/v1/admin/events?channel_id=${channel}`)).body as { kind: string; webhook_id: number; message: string; at: number }[];
    expect(events.map((e) => e.kind)).toEqual(['webhook_restored', 'webhook_quarantined']);
    expect(events.every((e) => e.webhook_id === added.id)).toBe(true);
    const onlyQuarantine = (await call('GET', '/v1/admin/events?kind=webhook_quarantined')).body as { kind: string }[];
    expect(onlyQuarantine.length).toBeGreaterThan(0);
    expect(onlyQuarantine.every((e) => e.kind === 'webhook_quarantined')).toBe(true);
  });
});

describe('dead letters, attempts, events and status', () => {
  let channel: number;
  let token: string;
  let webhookA: number;
  let webhookB: number;

  beforeAll(async () => {
    // A channel with alerts but no webhook: its lane never claims, so the test owns the deliveries.
    channel = await createChannel('dead-letters');
    await call('POST', '/v1/admin/routes', { channel_id: channel, service: 'dl-*' });
    token = (await createSource('dead-letters')).token;
    const hooks = await createChannel('attempt-hooks');
    webhookA = (await call('POST', `/v1/admin/channels/${hooks}/webhooks`, { url: discordUrl(hooks).url })).body.id;
    webhookB = (await call('POST', `/v1/admin/channels/${hooks}/webhooks`, { url: discordUrl(hooks).url })).body.id;
  });

  it('lists a dead letter with its reason and Discord error, and replays it to pending', async () => {
    const alertId = await postAlert(token, { service: 'dl-api', severity: 'P1', title: 'Too long for Discord' });
    const claimed = await herald.outbox.claim(channel, Date.now(), 10, 3, 60_000);
    expect(claimed.map((d) => d.alertId)).toEqual([alertId]);
    const deliveryId = claimed[0]!.id;
    // Four refused tries before, the last ones in the degraded form (through the outbox, as the lane records them).
    for (let i = 0; i < 4; i++) {
      await herald.outbox.release([deliveryId], { availableAt: Date.now(), countAttempt: true, renderLevel: 2 });
      expect((await herald.outbox.claim(channel, Date.now(), 10, 3, 60_000)).map((d) => d.id)).toEqual([deliveryId]);
    }
    const discordError = '{"code":50035,"message":"Invalid Form Body"}';
    await herald.outbox.deadLetter([deliveryId], 'Discord rejected the message (400) even in degraded form', discordError, Date.now(), {
      deliveryIds: [deliveryId],
      webhookId: webhookA,
      at: Date.now(),
      status: 400,
      latencyMs: 12,
      outcome: 'rejected',
      error: discordError,
    });
    expect((await call('GET', `/v1/admin/alerts/${alertId}`)).body.deliveries[0]).toMatchObject({ id: deliveryId, state: 'dead', attempts: 5 });

    const status = (await call('GET', '/v1/admin/status')).body;
    expect(status.dead_letters_pending).toBe(1);

    const list = await call('GET', '/v1/admin/dead-letters');
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    const letter = list.body[0];
    expect(letter).toEqual({
      id: expect.any(Number),
      delivery_id: deliveryId,
      alert_id: alertId,
      channel_id: channel,
      alert_title: 'Too long for Discord',
      severity: 'P1',
      reason: 'Discord rejected the message (400) even in degraded form',
      discord_error: discordError,
      created_at: expect.any(Number),
      replayed_at: null,
    });

    const replay = await call('POST', `/v1/admin/dead-letters/${letter.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ delivery_id: deliveryId });
    const row = herald.db.$client
      .prepare('select state, attempts, render_level, available_at, lease_until from deliveries where id = ?')
      .get(deliveryId) as { state: string; attempts: number; render_level: number; available_at: number; lease_until: number | null };
    expect(row).toMatchObject({ state: 'pending', attempts: 0, render_level: 0, lease_until: null });
    expect(Math.abs(row.available_at - Date.now())).toBeLessThan(5_000);
    expect((await call('GET', `/v1/admin/alerts/${alertId}`)).body.deliveries[0]).toMatchObject({ state: 'pending', attempts: 0 });
    // Ready to be claimed again at once.
    expect(await herald.outbox.nextAvailableAt(channel)).toBeLessThanOrEqual(Date.now());

    const after = (await call('GET', '/v1/admin/dead-letters')).body[0];
    expect(after.replayed_at).toEqual(expect.any(Number));
    expect((await call('GET', '/v1/admin/dead-letters?pending=true')).body).toEqual([]);
    expect((await call('GET', '/v1/admin/status')).body.dead_letters_pending).toBe(0);

    const twice = await call('POST', `/v1/admin/dead-letters/${letter.id}/replay`);
    expect(twice.status).toBe(409);
    expect(twice.body).toEqual({ error: 'conflict', message: expect.stringContaining('already replayed') });
  });

  it('lists attempts newest first, filtered by webhook and status, with tokens scrubbed', async () => {
    const secret = hookToken();
    await postAlert(token, { service: 'dl-worker' });
    const [d] = await herald.outbox.claim(channel, Date.now() + 1000, 1, 3, 60_000);
    expect(d).toBeDefined();
    await herald.outbox.release([d!.id], {
      availableAt: Date.now(),
      countAttempt: true,
      error: 'Discord answered 502',
      attempt: {
        deliveryIds: [d!.id],
        webhookId: webhookB,
        at: Date.now(),
        status: 502,
        latencyMs: 40,
        outcome: 'server_error',
        error: `bad gateway from https://discord.com/api/webhooks/123456789012345678/${secret}`,
      },
    });

    const all = await call('GET', '/v1/admin/attempts');
    expect(all.status).toBe(200);
    expect(all.body.length).toBeGreaterThanOrEqual(2);
    expect(all.body[0]).toMatchObject({ delivery_id: d!.id, webhook_id: webhookB, status: 502, latency_ms: 40, outcome: 'server_error', rate_limit_scope: null });
    expect(all.body[0].id).toBeGreaterThan(all.body[1].id);
    expect(all.text).not.toContain(secret);
    expect(all.body[0].error).toContain('/webhooks/123456789012345678/****');

    const byA = (await call('GET', `/v1/admin/attempts?webhook_id=${webhookA}`)).body as { webhook_id: number; status: number }[];
    expect(byA).toHaveLength(1);
    expect(byA[0]).toMatchObject({ webhook_id: webhookA, status: 400, outcome: 'rejected' });
    expect((await call('GET', '/v1/admin/attempts?status=502')).body.map((a: { webhook_id: number }) => a.webhook_id)).toEqual([webhookB]);
    expect((await call('GET', '/v1/admin/attempts?limit=1')).body).toHaveLength(1);
    expect((await call('GET', '/v1/admin/attempts?status=429')).body).toEqual([]);
  });

  it('lists events newest first, including channels left without a webhook', async () => {
    // The lane of a channel with alerts and no webhook says so once (recorded as the lane finds it out).
    type Event = { id: number; kind: string; channel_id: number | null; message: string };
    let events: Event[] = [];
    await waitFor('the channel_without_webhook event', async () => {
      events = (await call('GET', '/v1/admin/events?limit=100')).body as Event[];
      return events.some((e) => e.kind === 'channel_without_webhook' && e.channel_id === channel);
    });
    expect(events.length).toBeGreaterThan(0);
    for (let i = 1; i < events.length; i++) expect(events[i - 1]!.id).toBeGreaterThan(events[i]!.id);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'channel_without_webhook', channel_id: channel, message: expect.stringContaining('no healthy webhook') }));
    expect((await call('GET', '/v1/admin/events?limit=1')).body).toHaveLength(1);
  });

  it('shows status: queue depth by severity, lanes, dead letters and breakers', async () => {
    const res = await call('GET', '/v1/admin/status');
    expect(res.status).toBe(200);
    const depth = res.body.queue_depth_by_priority as Record<string, number>;
    expect(Object.keys(depth).sort()).toEqual(['P0', 'P1', 'P2', 'P3']);
    const queued = herald.db.$client.prepare("select count(*) n from deliveries where state in ('pending','leased')").get() as { n: number };
    expect(Object.values(depth).reduce((a, b) => a + b, 0)).toBe(queued.n);
    expect(depth.P1).toBeGreaterThan(0);
    const lane = (res.body.lanes as { channel_id: number; webhooks: number; budget: { cap: number } }[]).find((l) => l.channel_id === channel);
    expect(lane).toMatchObject({ webhooks: 0, budget: { cap: 30 } });
    expect(res.body.dead_letters_pending).toBe(0);
    expect(res.body.breakers).toMatchObject({ closed: expect.any(Number), open: expect.any(Number), half_open: expect.any(Number) });
    expect(res.body.breakers.closed).toBeGreaterThanOrEqual(2);
  });
});

describe('OpenAPI', () => {
  it('documents every admin endpoint with its security, tag and parameters', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; summary?: string; parameters?: { name: string; in: string }[]; requestBody?: unknown }>> };
    const expected: [string, string][] = [
      ['/v1/admin/sources', 'post'],
      ['/v1/admin/sources', 'get'],
      ['/v1/admin/sources/{id}', 'delete'],
      ['/v1/admin/channels', 'post'],
      ['/v1/admin/channels', 'get'],
      ['/v1/admin/channels/{id}', 'delete'],
      ['/v1/admin/channels/{id}', 'patch'],
      ['/v1/admin/channels/{id}/webhooks', 'post'],
      ['/v1/admin/channels/{id}/webhooks', 'get'],
      ['/v1/admin/webhooks/{id}', 'delete'],
      ['/v1/admin/webhooks/{id}/restore', 'post'],
      ['/v1/admin/routes', 'post'],
      ['/v1/admin/routes', 'get'],
      ['/v1/admin/routes/{id}', 'delete'],
      ['/v1/admin/alerts', 'get'],
      ['/v1/admin/alerts/{id}', 'get'],
      ['/v1/admin/dead-letters', 'get'],
      ['/v1/admin/dead-letters/{id}/replay', 'post'],
      ['/v1/admin/attempts', 'get'],
      ['/v1/admin/events', 'get'],
      ['/v1/admin/status', 'get'],
    ];
    for (const [path, method] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op!.tags).toEqual(['admin']);
      expect(op!.security).toEqual([{ adminToken: [] }]);
      expect(op!.summary).toEqual(expect.any(String));
      if (path.includes('{id}')) expect(op!.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }));
    }
    expect(doc.paths['/v1/admin/alerts']!.get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['unrouted', 'limit']));
    expect(doc.paths['/v1/admin/channels/{id}/webhooks']!.post!.requestBody).toBeDefined();
  });
});
