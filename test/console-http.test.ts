import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { ADMIN_TOKEN, FAST, startStack, waitFor, type Stack } from './support/stack.js';

/** A console client over plain HTTP (no browser): its session cookie and the CSRF token of its pages. */
class ConsoleClient {
  cookie = '';
  csrf = '';
  constructor(private readonly url: string) {}

  async login(token = ADMIN_TOKEN): Promise<Response> {
    const res = await this.request('POST', '/console/login', { token });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    if (res.status === 303) await this.get('/console');
    return res;
  }

  async get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(this.url + path, { headers: this.cookie ? { cookie: this.cookie } : {}, redirect: 'manual' });
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1]!;
    return { status: res.status, text, headers: res.headers };
  }

  /** A form post; `_csrf` is added unless `form` says otherwise (undefined leaves it out). */
  async request(method: string, path: string, form: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) if (v !== undefined) body.append(k, v);
    return fetch(this.url + path, {
      method,
      body,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
    });
  }

  post(path: string, form: Record<string, string | undefined> = {}, headers: Record<string, string> = {}): Promise<Response> {
    return this.request('POST', path, { _csrf: this.csrf, ...form }, headers);
  }

  /** The flash message the last action left, read from the page it redirected to. */
  async flashAfter(res: Response): Promise<string> {
    expect(res.status).toBe(303);
    const page = await this.get(res.headers.get('location')!);
    const text = /<div class="flash (?:ok|error)" role="status">([^<]*)<\/div>/.exec(page.text)?.[1] ?? '(no flash)';
    return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  }
}

describe('web console over HTTP', () => {
  let stack: Stack;
  let c: ConsoleClient;
  let source: string;
  let receiver: Server;
  let received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let receiverUrl = '';

  beforeAll(async () => {
    stack = await startStack({ emulator: FAST.emulator, env: { ...FAST.env, HERALD_OUTBOUND_ALLOWLIST: '127.0.0.1' } });
    await stack.channel({ name: 'ops' });
    source = await stack.source('console-http');
    c = new ConsoleClient(stack.url);
    expect((await c.login()).status).toBe(303);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  });

  afterAll(async () => {
    await stack?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('sends every page with a Content-Security-Policy that allows no inline script or style', async () => {
    const page = await c.get('/console');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.text).not.toMatch(/<script>|<style>| style="/);
    // htmx comes from node_modules, through the console, not from a CDN.
    expect(page.text).toContain('<script src="/console/assets/htmx.min.js" defer></script>');
    const htmx = await fetch(`${stack.url}/console/assets/htmx.min.js`);
    expect(htmx.headers.get('content-type')).toContain('javascript');
    expect(await htmx.text()).toContain('htmx');
  });

  it('counts on the overview the requests made to Discord (a packed message once) and the queue by severity', async () => {
    // A second channel with no webhook yet: its deliveries wait, then, more than its budget lets through
    // at once, go out packed once it has one.
    const emu = stack.emulator.createChannel({ name: 'packed' });
    const channel = (await stack.admin('POST', '/v1/admin/channels', { name: 'packed', discord_channel_id: emu.id })).body.id;
    expect((await stack.admin('POST', '/v1/admin/routes', { channel_id: channel, service: 'packed-*' })).status).toBe(201);
    const ids = await Promise.all(Array.from({ length: 40 }, async (_, i) => (await stack.post(source, { service: 'packed-api', severity: 'P3', title: `packed ${i}` })).body.ids[0] as number));
    const queued = Number(/data-testid="queued">(\d+)</.exec((await c.get('/console')).text)![1]);
    expect(queued).toBeGreaterThanOrEqual(40);
    const hook = stack.emulator.createWebhook(emu.id);
    expect((await stack.admin('POST', `/v1/admin/channels/${channel}/webhooks`, { url: hook.url })).status).toBe(201);
    await waitFor('every alert posted in both channels', async () => {
      for (const id of ids) if ((await stack.admin('GET', `/v1/admin/alerts/${id}`)).body.deliveries.some((d: { state: string }) => d.state !== 'sent')) return false;
      return true;
    });
    const stats = stack.emulator.stats();
    const requests = stats.messagesCreated + stats.rateLimited.user + stats.rateLimited.shared + stats.rateLimited.global;
    expect(stack.emulator.messages(emu.id).length).toBeLessThan(40); // packed: fewer requests than deliveries
    const page = (await c.get('/console')).text;
    expect(page).toContain(`${requests} in the last 30 min`);
    expect(page).toContain('<div class="big" data-testid="queued">0</div>');
  });

  it('refuses a POST without the CSRF token, with a wrong one, from another Origin, or without a session, and changes nothing', async () => {
    const form = { target: 'service', value: 'csrf-*', duration_minutes: '10' };
    const none = await c.request('POST', '/console/mutes', form);
    expect(none.status).toBe(403);
    expect(await none.text()).toContain('no valid CSRF token');
    expect((await c.request('POST', '/console/mutes', { ...form, _csrf: 'guessed' })).status).toBe(403);
    const foreign = await c.post('/console/mutes', form, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('posted from another site');
    const stranger = new ConsoleClient(stack.url);
    expect((await stranger.request('POST', '/console/mutes', { ...form, _csrf: c.csrf })).status).toBe(401);
    expect((await stack.admin('GET', '/v1/admin/mutes')).body).toEqual([]);

    // Behind a proxy that rewrites Host, the public host it passes on counts as this console's.
    const proxied = await c.post('/console/mutes', { ...form, value: 'proxied-*' }, { origin: 'https://herald.example', 'x-forwarded-host': 'herald.example' });
    expect(proxied.status).toBe(303);
    expect((await stack.admin('DELETE', `/v1/admin/mutes/${(await stack.admin('GET', '/v1/admin/mutes')).body[0].id}`)).status).toBe(204);

    // The same form from this console's own page is taken.
    const ok = await c.post('/console/mutes', form, { origin: stack.url });
    expect(await c.flashAfter(ok)).toMatch(/^Mute #\d+ in force until/);
    expect((await stack.admin('GET', '/v1/admin/mutes?active=true')).body).toEqual([expect.objectContaining({ service: 'csrf-*', created_by: 'console' })]);
  });

  it('sends a page to the login form without a session, and says a bad action in one line', async () => {
    const stranger = new ConsoleClient(stack.url);
    const page = await stranger.get('/console/alerts');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login');
    expect(await c.flashAfter(await c.post('/console/dead-letters/999999/replay'))).toBe('no dead letter with id 999999');
    expect(await c.flashAfter(await c.post('/console/mutes', { target: 'service', value: 'x', duration_minutes: '0' }))).toBe('duration_minutes: Too small: expected number to be >=1');
    const unknown = await c.get('/console/alerts/424242');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('no alert with id 424242');
    expect(unknown.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('escapes what senders write: a script in a title or a javascript: link stays text', async () => {
    const res = await stack.post(source, {
      service: 'xss',
      severity: 'P2',
      title: '<script>alert(1)</script>',
      description: '<img src=x onerror=alert(2)>',
      links: [{ title: 'runbook"><b>', url: 'https://runbooks.example/x?a=1&b="2"' }],
    });
    expect(res.status).toBe(202);
    const id = res.body.ids[0];
    const page = await c.get(`/console/alerts/${id}`);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('<a href="https://runbooks.example/x?a=1&amp;b=%222%22" rel="noopener noreferrer">runbook&quot;&gt;&lt;b&gt;</a>');
    const list = await c.get('/console/alerts?q=script');
    expect(list.text).toContain(`data-testid="alert-${id}"`);
  });

  it('filters alerts by service, severity, state and time', async () => {
    const post = async (body: Record<string, unknown>) => (await stack.post(source, body)).body.ids[0] as number;
    const a = await post({ service: 'filter-api', severity: 'P0', title: 'filter one' });
    const b = await post({ service: 'filter-web', severity: 'P3', title: 'filter two' });
    await stack.admin('POST', `/v1/admin/alerts/${b}/resolve`);
    const ids = async (query: string) => [...(await c.get(`/console/alerts?${query}`)).text.matchAll(/data-testid="alert-(\d+)"/g)].map((m) => Number(m[1]));
    expect(await ids('service=filter-*')).toEqual([b, a]);
    expect(await ids('service=filter-api')).toEqual([a]);
    expect(await ids('q=filter&severity=P3')).toEqual([b]);
    expect(await ids('q=filter&severity=P0&severity=P3')).toEqual([b, a]);
    expect(await ids('q=filter&state=resolved')).toEqual([b]);
    expect(await ids('q=filter&state=firing')).toEqual([a]);
    expect(await ids(`q=filter&from=${Date.now() + 60_000}`)).toEqual([]);
    const channels = (await stack.admin('GET', '/v1/admin/channels')).body as { id: number; name: string }[];
    expect(await ids(`q=filter&channel=${channels.find((ch) => ch.name === 'ops')!.id}`)).toEqual([b, a]);
    expect(await ids(`q=filter&channel=${channels.find((ch) => ch.name === 'packed')!.id}`)).toEqual([]);
    const bad = await c.get('/console/alerts?from=yesterday');
    expect(bad.text).toContain('is not a time');
  });

  it('test-sends to an outbound target, from the console and the admin API, and shows a failure in one line', async () => {
    const route = (await stack.admin('GET', '/v1/admin/routes')).body[0].id;
    const created = await stack.admin('POST', `/v1/admin/routes/${route}/outbound`, { kind: 'webhook', url: receiverUrl });
    expect(created.status).toBe(201);
    received = [];
    const flash = await c.flashAfter(await c.post(`/console/outbound/${created.body.id}/test`, { back: '/console/outbound' }));
    expect(flash).toMatch(new RegExp(`^Test send to target #${created.body.id}: answered 204 in \\d+ ms\\.$`));
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'herald.test', data: { target_id: created.body.id, route_id: route } });
    expect(received[0]!.headers['webhook-signature']).toMatch(/^v1,/);

    const api = await stack.admin('POST', `/v1/admin/outbound/${created.body.id}/test`);
    expect(api.status).toBe(200);
    expect(api.body).toEqual({ ok: true, status: 204, latency_ms: expect.any(Number), error: null });

    // A target that answers nothing: the console says why, never the URL.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/secret-path-token`;
    await new Promise((r) => closed.close(r));
    const dead = await stack.admin('POST', `/v1/admin/routes/${route}/outbound`, { kind: 'slack', url: deadUrl });
    const failed = await c.flashAfter(await c.post(`/console/outbound/${dead.body.id}/test`));
    expect(failed).toMatch(new RegExp(`^Test send to target #${dead.body.id} failed after \\d+ ms: request failed: ECONNREFUSED$`));
    expect(failed).not.toContain('secret-path-token');
    expect((await stack.admin('POST', '/v1/admin/outbound/999999/test')).status).toBe(404);
  });

  it('has no emulated-Discord pages outside emulator mode', async () => {
    expect((await c.get('/console/emulator')).status).toBe(404);
    expect((await c.post('/console/emulator/members', { username: 'mallory' })).status).toBe(404);
    expect((await c.get('/console')).text).not.toContain('Emulated Discord');
  });

  it('logs out: the session ends on the server, the cookie is cleared', async () => {
    const other = new ConsoleClient(stack.url);
    await other.login();
    const out = await other.post('/console/logout');
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console/login?bye=1');
    expect(out.headers.get('set-cookie')).toMatch(/^herald_console=;/);
    expect((await other.get('/console')).status).toBe(303);
  });

  it('lists incidents with their filters, shows one with its members and card, and acknowledges and resolves it through the services', async () => {
    // Grouped alerts wait group_wait for their first card: none here, so the card goes at once.
    const route = (await stack.admin('GET', '/v1/admin/routes')).body.find((r: { service: string | null }) => r.service === null).id;
    expect((await stack.admin('PATCH', `/v1/admin/routes/${route}`, { group_wait: '0' })).status).toBe(200);
    const res = await stack.post(source, {
      alerts: [
        { service: 'db-1', severity: 'P1', title: 'Replication lag 94 s', group: 'db-outage' },
        { service: 'db-2', severity: 'P2', title: 'Replication lag 41 s', group: 'db-outage' },
        { service: 'checkout', severity: 'P2', title: 'Slow queries', group: 'db-outage' },
      ],
    });
    expect(res.status).toBe(202);
    const members = res.body.ids as number[];
    const incident = (await stack.admin('GET', `/v1/admin/alerts/${members[0]}`)).body.incident_id as number;
    expect(incident).toBeGreaterThan(0);
    await waitFor('the incident card posted', async () => (await stack.admin('GET', `/v1/admin/alerts/${members[2]}`)).body.deliveries.every((d: { state: string }) => d.state === 'sent'));

    const list = await c.get('/console/incidents');
    expect(list.status).toBe(200);
    const row = new RegExp(`<tr data-testid="incident-${incident}">.*?</tr>`, 's').exec(list.text)?.[0] ?? '';
    expect(row).toContain('db-outage');
    expect(row).toContain('sev-P1');
    expect(row).toContain('3 / 0 / 0');
    expect(row).toContain('<span class="pill">ops</span>');
    expect(row).toContain('firing');
    // Each filter keeps it or leaves it out.
    const shown = async (query: string) => (await c.get(`/console/incidents?${query}`)).text.includes(`data-testid="incident-${incident}"`);
    expect(await shown('service=checkout')).toBe(true);
    expect(await shown('service=db-*')).toBe(true);
    expect(await shown('service=web')).toBe(false);
    expect(await shown('severity=P1')).toBe(true);
    expect(await shown('severity=P2&severity=P3')).toBe(false); // its worst is P1
    expect(await shown('state=firing')).toBe(true);
    expect(await shown('state=resolved')).toBe(false);
    const channels = (await stack.admin('GET', '/v1/admin/channels')).body as { id: number; name: string }[];
    expect(await shown(`channel=${channels.find((x) => x.name === 'ops')!.id}`)).toBe(true);
    expect(await shown(`channel=${channels.find((x) => x.name === 'packed')!.id}`)).toBe(false);
    expect(await shown('from=2000-01-01T00:00')).toBe(true);
    expect(await shown('to=2000-01-01T00:00')).toBe(false);
    expect((await c.get('/console/incidents?from=yesterday')).text).toContain('from: &quot;yesterday&quot; is not a time');

    // Its page: every member linked to its page, its card linked to where it is shown.
    const page = await c.get(`/console/incidents/${incident}`);
    for (const id of members) expect(page.text).toContain(`<a href="/console/alerts/${id}">${id}</a>`);
    const sent = (await stack.admin('GET', `/v1/admin/alerts/${members[0]}`)).body.deliveries[0];
    expect(sent.discord_message_id).toBeTruthy();
    expect(page.text).toContain(`data-testid="incident-message-${sent.discord_message_id}"`);
    // The alert's page names its incident.
    expect((await c.get(`/console/alerts/${members[1]}`)).text).toContain(`<a href="/console/incidents/${incident}">incident #${incident}</a>`);

    // Acknowledge: the session's CSRF token is needed, as for every console action.
    expect((await c.request('POST', `/console/incidents/${incident}/ack`, {})).status).toBe(403);
    expect((await stack.admin('GET', `/v1/admin/incidents/${incident}`)).body.acknowledged).toBe(0);
    expect(await c.flashAfter(await c.post(`/console/incidents/${incident}/ack`))).toBe(`Incident #${incident} acknowledged: 3 alerts acknowledged; its cards are being edited.`);
    expect((await stack.admin('GET', `/v1/admin/incidents/${incident}`)).body).toMatchObject({ acknowledged: 3, status: 'firing' });
    expect((await stack.admin('GET', `/v1/admin/alerts/${members[0]}`)).body.acknowledged_by).toBe('console');
    expect(await shown('state=acknowledged')).toBe(true);
    expect(await c.flashAfter(await c.post(`/console/incidents/${incident}/resolve`))).toBe(`Incident #${incident} resolved: 3 alerts resolved; its cards are being edited.`);
    expect((await stack.admin('GET', `/v1/admin/incidents/${incident}`)).body.status).toBe('resolved');
    expect(await shown('state=resolved')).toBe(true);
    expect(await c.flashAfter(await c.post(`/console/incidents/${incident}/resolve`))).toBe(`Incident #${incident}: nothing to do (no firing member left to be resolved).`);
    const unknown = await c.get('/console/incidents/999999');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('no incident with id 999999');
    expect((await stack.admin('PATCH', `/v1/admin/routes/${route}`, { group_wait: null })).status).toBe(200);
  });
});

describe('web console login throttle', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { HERALD_AUTH_FAILURE_LIMIT: '3', HERALD_AUTH_FAILURE_WINDOW_MS: '60000' } });
  });
  afterAll(async () => stack?.close());

  it('counts wrong tokens with the admin API: after the limit even the right token gets 429 with Retry-After', async () => {
    const c = new ConsoleClient(stack.url);
    const first = await c.login('wrong-token-1');
    expect(first.status).toBe(401);
    expect(await first.text()).toContain('That is not the admin token');
    expect(first.headers.get('set-cookie')).toBeNull();
    // A wrong bearer token on the admin API counts against the same address.
    expect((await fetch(`${stack.url}/v1/admin/status`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await c.login('wrong-token-3')).status).toBe(401);
    const throttled = await c.login(ADMIN_TOKEN);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await throttled.text()).toMatch(/Too many wrong tokens from this address: try again in \d+ s\./);
    expect(c.cookie).toBe('');
    expect((await stack.admin('GET', '/v1/admin/status')).status).toBe(429);
  });
});

describe('web console with a configuration file', () => {
  let stack: Stack;
  let emulator: Emulator;
  let dir: string;
  let file: string;
  let c: ConsoleClient;
  let opsChannel = '';
  const env: Record<string, string> = {};
  const good = () => `version: 1
channels:
  - name: ops
    discord_channel_id: "${opsChannel}"
    default: true
    webhooks:
      - \${OPS_HOOK}
routes:
  - name: payments-critical
    channel: ops
    service: "payments-*"
    severities: [P0, P1]
maintenance:
  - name: migration
    service: "db-*"
    start: "2030-01-07T22:00:00Z"
    end: "2030-01-08T02:00:00Z"
    reason: database migration
  - name: weekly-deploys
    route: payments-critical
    cron: "0 6 * * tue"
    duration: 90m
    timezone: Europe/Paris
`;

  beforeAll(async () => {
    emulator = await startEmulator(FAST.emulator);
    dir = mkdtempSync(join(tmpdir(), 'herald-console-config-'));
    opsChannel = emulator.createChannel({ name: 'ops' }).id;
    env.OPS_HOOK = emulator.createWebhook(opsChannel).url;
    file = join(dir, 'herald.yaml');
    writeFileSync(file, good());
    stack = await startStack({ ...FAST, emulatorInstance: emulator, env: { ...FAST.env, HERALD_CONFIG: file }, configEnv: env });
    expect((await stack.herald.configFile!.reload('start')).applied).toBe(true);
    c = new ConsoleClient(stack.url);
    expect((await c.login()).status).toBe(303);
  });

  afterAll(async () => {
    await stack?.close();
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows the file's state on the overview; a refused reload lists every problem at its line and column and keeps the configuration; Reload applies a fixed file", async () => {
    const before = await c.get('/console');
    const card = /<div class="card config" data-testid="config-file">.*?<\/form>/s.exec(before.text)?.[0] ?? '';
    expect(card).toContain(`<code>${file}</code>`);
    expect(card).toContain('<span class="pill ok">applied</span>');
    expect(card).not.toContain('data-testid="config-problems"');

    // Two problems: a severity that does not exist, a window's duration that is not one.
    writeFileSync(file, good().replace('[P0, P1]', '[P0, P9]').replace('duration: 90m', 'duration: soon'));
    const refused = await c.post('/console/config/reload');
    expect(await c.flashAfter(refused)).toMatch(/^Configuration file refused \(2 problems, listed below\); the configuration in force stays\. First: .*herald\.yaml:\d+:\d+: /);
    const after = await c.get('/console');
    expect(after.text).toContain('<span class="pill bad">failed</span>');
    const problems = [...(/<ul class="problems" data-testid="config-problems">(.*?)<\/ul>/s.exec(after.text)?.[1] ?? '').matchAll(/<li class="mono">([^<]*)<\/li>/g)].map((m) => m[1]!);
    expect(problems).toEqual((await stack.admin('GET', '/v1/admin/config')).body.problems.map((p: string) => p.replace(/"/g, '&quot;')));
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
    expect(problems[0]).toMatch(/herald\.yaml:12:22: routes\[0\]\.severities\[1\]: /);
    expect(problems[1]).toMatch(/herald\.yaml:\d+:\d+: maintenance\[1\]\.duration: /);
    // The configuration in force stays: the route still goes to ops.
    expect((await stack.admin('GET', '/v1/admin/routes')).body).toEqual([expect.objectContaining({ name: 'payments-critical', channel_name: 'ops', severities: ['P0', 'P1'] })]);

    writeFileSync(file, good().replace('[P0, P1]', '[P0, P1, P2]'));
    expect(await c.flashAfter(await c.post('/console/config/reload'))).toBe('Configuration file applied: 1 change (~ route payments-critical: severities: ["P0","P1"] → ["P0","P1","P2"]).');
    expect((await c.get('/console')).text).toContain('<span class="pill ok">applied</span>');
    // Without the CSRF token nothing is reloaded.
    expect((await c.request('POST', '/console/config/reload', {})).status).toBe(403);
  });

  it('marks file-managed channels, webhooks and routes, offers no Remove or Delete for them, and refuses one posted anyway with the API\'s message', async () => {
    const channels = await c.get('/console/channels');
    expect(/<h2>ops .*?<\/h2>/s.exec(channels.text)?.[0]).toContain('<span class="pill file"');
    const ops = ((await stack.admin('GET', '/v1/admin/channels')).body as { id: number; name: string }[]).find((x) => x.name === 'ops')!.id;
    const hook = ((await stack.admin('GET', `/v1/admin/channels/${ops}/webhooks`)).body as { id: number; managed_by?: string }[])[0]!;
    expect(hook.managed_by).toBe('file');
    const hookRow = new RegExp(`<tr data-testid="webhook-${hook.id}">.*?</tr>`, 's').exec(channels.text)?.[0] ?? '';
    expect(hookRow).toContain('<span class="pill file"');
    expect(hookRow).not.toMatch(/Remove|Rotate/);
    const refusedHook = await stack.admin('DELETE', `/v1/admin/webhooks/${hook.id}`);
    expect(refusedHook.status).toBe(409);
    expect(await c.flashAfter(await c.post(`/console/webhooks/${hook.id}/remove`))).toBe(refusedHook.body.error.message ?? refusedHook.body.message);
    const route = (await stack.admin('GET', '/v1/admin/routes')).body[0].id as number;
    const routes = await c.get('/console/routes');
    const row = new RegExp(`<tr data-testid="route-${route}">.*?</tr>`, 's').exec(routes.text)?.[0] ?? '';
    expect(row).toContain('<span class="pill file"');
    expect(row).not.toContain('Delete');
    const api = await stack.admin('DELETE', `/v1/admin/routes/${route}`);
    expect(api.status).toBe(409);
    expect(await c.flashAfter(await c.post(`/console/routes/${route}/delete`))).toBe(api.body.error.message ?? api.body.message);
    expect((await stack.admin('GET', '/v1/admin/routes')).body).toHaveLength(1);
  });

  it('lists maintenance windows on the mutes page; lifting one is refused as the API refuses it, an API-made mute is lifted', async () => {
    const page = await c.get('/console/mutes');
    const mutes = (await stack.admin('GET', '/v1/admin/mutes')).body as { id: number; name?: string }[];
    const migration = mutes.find((m) => m.name === 'migration')!.id;
    const weekly = mutes.find((m) => m.name === 'weekly-deploys')!.id;
    const one = new RegExp(`<tr data-testid="window-${migration}">.*?</tr>`, 's').exec(page.text)?.[0] ?? '';
    expect(one).toContain('migration');
    expect(one).toContain('service <code>db-*</code>');
    expect(one).toContain('2030-01-07 22:00:00 → 2030-01-08 02:00:00 UTC');
    expect(one).toContain('<span class="pill">closed</span>');
    expect(one).toContain('<span class="pill file"');
    expect(one).not.toContain('Lift');
    const recurring = new RegExp(`<tr data-testid="window-${weekly}">.*?</tr>`, 's').exec(page.text)?.[0] ?? '';
    expect(recurring).toContain('<code>0 6 * * tue</code> for 1 h 30 min');
    expect(recurring).toContain('Europe/Paris');
    // Windows are not in the table of plain mutes.
    expect(page.text).not.toContain(`data-testid="mute-${migration}"`);

    const api = await stack.admin('DELETE', `/v1/admin/mutes/${migration}`);
    expect(api.status).toBe(409);
    expect(await c.flashAfter(await c.post(`/console/mutes/${migration}/lift`))).toBe(api.body.error.message ?? api.body.message);

    expect(await c.flashAfter(await c.post('/console/mutes', { target: 'service', value: 'web-*', duration_minutes: '30' }))).toMatch(/^Mute #\d+ in force until/);
    const made = ((await stack.admin('GET', '/v1/admin/mutes?active=true')).body as { id: number; service: string | null }[]).find((m) => m.service === 'web-*')!.id;
    expect(await c.flashAfter(await c.post(`/console/mutes/${made}/lift`))).toBe(`Mute #${made} lifted: matching alerts are delivered again.`);
  });
});

describe('web console without a configuration file', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FAST);
  });
  afterAll(async () => stack?.close());

  it('says no file is in use, and a reload posted anyway is refused with the API\'s message', async () => {
    const c = new ConsoleClient(stack.url);
    await c.login();
    const page = await c.get('/console');
    expect(page.text).toContain('data-testid="config-file"');
    expect(page.text).toContain('none in use');
    expect(page.text).not.toContain('action="/console/config/reload"');
    const api = await stack.admin('POST', '/v1/admin/config/reload');
    expect(api.status).toBe(409);
    expect(await c.flashAfter(await c.post('/console/config/reload'))).toBe(api.body.error.message ?? api.body.message);
  });
});
