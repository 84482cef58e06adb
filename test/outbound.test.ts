import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import type { Resolver } from '../src/outbound/address-policy.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/domain/signatures.js';
import { holdWriteLock } from './support/process.js';
import { alert, startStack, waitFor, type Stack } from './support/stack.js';

/** A real HTTP receiver on loopback: records every request; answers from a per-path script (default 200). */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  at: number;
}
let server: Server;
let base: string;
const received: Received[] = [];
const script = new Map<string, number[]>();
/** Paths whose requests wait for their answer until the test calls it (a send kept in flight). */
const parked = new Map<string, (() => void)[]>();
const got = (path: string) => received.filter((r) => r.path === path);

let stack: Stack;
let token: string;
let channelId: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() });
      const wait = parked.get(path);
      if (wait) return void wait.push(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
      const plan = script.get(path);
      const status = plan && plan.length > 1 ? plan.shift()! : (plan?.[0] ?? 200);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // The receivers listen on loopback, which outbound targets may reach only when allowed.
  stack = await startStack({ env: { HERALD_RETRY_BASE_MS: '20', HERALD_MAX_ATTEMPTS: '3', HERALD_REQUEST_TIMEOUT_MS: '1000', HERALD_OUTBOUND_ALLOWLIST: '127.0.0.1' } });
  token = await stack.source();
  const ch = await stack.admin('POST', '/v1/admin/channels', { name: 'outbound-ch', discord_channel_id: stack.emulator.createChannel({ name: 'outbound-ch' }).id });
  channelId = ch.body.id;
});
afterAll(async () => {
  await stack.close();
  await new Promise((r) => server.close(r));
});

/** A route for `service` with one outbound target at `path`. */
async function target(service: string, kind: 'slack' | 'webhook', path: string) {
  const route = await stack.admin('POST', '/v1/admin/routes', { channel_id: channelId, service });
  expect(route.status).toBe(201);
  const t = await stack.admin('POST', `/v1/admin/routes/${route.body.id}/outbound`, { kind, url: `${base}${path}` });
  expect(t.status).toBe(201);
  return t.body as { id: number; secret?: string; url_masked: string };
}
const deliveries = async (q: string) => (await stack.admin('GET', `/v1/admin/outbound/deliveries?${q}`)).body as any[];

describe('outbound targets per route', () => {
  it('Slack-compatible: {"text": …} with severity, service, title, links; Discord still gets its delivery', async () => {
    const t = await target('svc-slack', 'slack', '/slack/T000/B000/secretpart');
    expect(t.url_masked).toBe(`${base}/****`);
    expect(t.secret).toBeUndefined();
    const res = await stack.post(token, alert(1, { service: 'svc-slack', severity: 'P1', title: 'Queue <backlog> & lag', links: [{ title: 'Runbook', url: 'https://example.com/rb' }] }));
    expect(res.status).toBe(202);
    await waitFor('the Slack message', () => got('/slack/T000/B000/secretpart').length === 1, 5000);
    const body = JSON.parse(got('/slack/T000/B000/secretpart')[0]!.raw.toString());
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toContain('*[P1] FIRING* svc-slack: Queue &lt;backlog&gt; &amp; lag');
    expect(body.text).toContain('<https://example.com/rb|Runbook>');
    await waitFor('the delivery marked sent', async () => (await deliveries(`alert_id=${res.body.ids[0]}`))[0]?.state === 'sent', 5000);
    // The Discord side is untouched: the alert has its own channel delivery too.
    const n = stack.herald.db.$client.prepare('select count(*) n from deliveries where alert_id = ?').get(res.body.ids[0]) as { n: number };
    expect(n.n).toBe(1);
    // The list masks the URL.
    const list = await stack.admin('GET', '/v1/admin/outbound');
    expect(JSON.stringify(list.body)).not.toContain('secretpart');
  });

  it('generic JSON webhook: signed with Standard Webhooks headers the receiver can verify', async () => {
    const t = await target('svc-hook', 'webhook', '/hook');
    expect(t.secret).toMatch(/^whsec_/);
    const res = await stack.post(token, alert(2, { service: 'svc-hook', dedup_key: 'k-hook' }));
    await waitFor('the webhook', () => got('/hook').length === 1, 5000);
    const r = got('/hook')[0]!;
    const v = verifySignature(r.headers, r.raw, [t.secret!]);
    expect(v).toMatchObject({ ok: true, id: `msg_herald_${(await deliveries(`alert_id=${res.body.ids[0]}`))[0].id}` });
    expect(verifySignature(r.headers, Buffer.concat([r.raw, Buffer.from(' ')]), [t.secret!]).ok).toBe(false);
    const body = JSON.parse(r.raw.toString());
    expect(body).toMatchObject({ type: 'alert.firing', timestamp: expect.any(String), data: { id: res.body.ids[0], service: 'svc-hook', severity: 'P2', title: 'Alert 2', status: 'firing', dedup_key: 'k-hook' } });
    expect(JSON.stringify((await stack.admin('GET', '/v1/admin/outbound')).body)).not.toContain(t.secret!);
  });

  it('retries a failing receiver with backoff, same webhook-id each time, until it answers 2xx', async () => {
    script.set('/flaky', [500, 503, 200]);
    const t = await target('svc-flaky', 'webhook', '/flaky');
    const res = await stack.post(token, alert(3, { service: 'svc-flaky' }));
    await waitFor('three tries', () => got('/flaky').length === 3, 5000);
    await waitFor('sent', async () => (await deliveries(`alert_id=${res.body.ids[0]}`))[0]?.state === 'sent', 5000);
    const d = (await deliveries(`alert_id=${res.body.ids[0]}`))[0];
    expect(d).toMatchObject({ attempts: 3, last_status: 200, last_error: null });
    const tries = got('/flaky');
    expect(new Set(tries.map((x) => x.headers['webhook-id'])).size).toBe(1);
    for (const x of tries) expect(verifySignature(x.headers, x.raw, [t.secret!]).ok).toBe(true);
    expect(tries[2]!.at - tries[0]!.at).toBeGreaterThanOrEqual(20);
  });

  it('dead-letters after HERALD_MAX_ATTEMPTS, keeps the reason, and replays on request', async () => {
    script.set('/down', [500]);
    await target('svc-down', 'slack', '/down');
    const res = await stack.post(token, alert(4, { service: 'svc-down' }));
    const alertId = res.body.ids[0];
    await waitFor('dead', async () => (await deliveries(`alert_id=${alertId}`))[0]?.state === 'dead', 5000);
    expect(got('/down')).toHaveLength(3);
    const dead = (await deliveries('state=dead')).find((d) => d.alert_id === alertId);
    expect(dead).toMatchObject({ attempts: 3, last_status: 500, last_error: expect.stringMatching(/^HTTP 500: receiver says no \(gave up after 3 attempts\)$/), dead_at: expect.any(Number) });

    script.set('/down', [200]);
    const replay = await stack.admin('POST', `/v1/admin/outbound/deliveries/${dead.id}/replay`);
    expect(replay.status).toBe(200);
    await waitFor('sent after replay', async () => (await deliveries(`alert_id=${alertId}`))[0]?.state === 'sent', 5000);
    expect((await stack.admin('POST', `/v1/admin/outbound/deliveries/${dead.id}/replay`)).status).toBe(409);
  });

  it('a permanent refusal (404) is dead at once; an unreachable receiver is retried', async () => {
    script.set('/gone', [404]);
    await target('svc-gone', 'webhook', '/gone');
    const res = await stack.post(token, alert(5, { service: 'svc-gone' }));
    await waitFor('dead', async () => (await deliveries(`alert_id=${res.body.ids[0]}`))[0]?.state === 'dead', 5000);
    expect((await deliveries(`alert_id=${res.body.ids[0]}`))[0]).toMatchObject({ attempts: 1, last_status: 404 });

    const route = await stack.admin('POST', '/v1/admin/routes', { channel_id: channelId, service: 'svc-nowhere' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    await stack.admin('POST', `/v1/admin/routes/${route.body.id}/outbound`, { kind: 'slack', url: `http://127.0.0.1:${port}/nothing-listens` });
    const r2 = await stack.post(token, alert(6, { service: 'svc-nowhere' }));
    await waitFor('dead after retries', async () => (await deliveries(`alert_id=${r2.body.ids[0]}`))[0]?.state === 'dead', 5000);
    const d = (await deliveries(`alert_id=${r2.body.ids[0]}`))[0];
    expect(d.attempts).toBe(3);
    expect(d.last_status).toBeNull();
    expect(d.last_error).toMatch(/request failed: ECONNREFUSED/);
    expect(d.last_error).not.toContain('nothing-listens');
  });

  it('a muted alert and an alert of another route send nothing', async () => {
    await target('svc-muted', 'slack', '/muted');
    const mute = await stack.admin('POST', '/v1/admin/mutes', { service: 'svc-muted', duration_minutes: 5 });
    expect(mute.status).toBe(201);
    await stack.post(token, alert(7, { service: 'svc-muted' }));
    await stack.post(token, alert(8, { service: 'svc-unrelated' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(got('/muted')).toHaveLength(0);
  });

  it('a follow-up (resolved) goes to the targets that had the firing message', async () => {
    await target('svc-follow', 'webhook', '/follow');
    const res = await stack.post(token, alert(9, { service: 'svc-follow' }));
    await waitFor('firing', () => got('/follow').length === 1, 5000);
    const h = stack.herald;
    const n = await h.store.transaction((tx) => h.outboundTargets.enqueueFollowUp(tx, res.body.ids[0], 'alert.resolved', Date.now()));
    expect(n).toBe(1);
    await waitFor('resolved', () => got('/follow').length === 2, 5000);
    expect(JSON.parse(got('/follow')[1]!.raw.toString()).type).toBe('alert.resolved');
  });

  it('acknowledging and resolving through the admin API each send one signed follow-up; a re-ack sends nothing', async () => {
    const t = await target('svc-life', 'webhook', '/life');
    const id = (await stack.post(token, alert(12, { service: 'svc-life', dedup_key: 'k-life' }))).body.ids[0];
    await waitFor('firing', () => got('/life').length === 1, 5000);
    const events = () => got('/life').map((r) => JSON.parse(r.raw.toString()) as { type: string; data: Record<string, unknown> });

    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'olga' })).status).toBe(200);
    await waitFor('the acknowledged follow-up', () => got('/life').length === 2, 5000);
    expect(events()[1]).toMatchObject({ type: 'alert.acknowledged', data: { id, acknowledged_by: 'olga', status: 'firing' } });

    // A second ack is a no-op: no follow-up, no outbound row.
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'olga' })).status).toBe(200);

    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`, { by: 'olga' })).status).toBe(200);
    await waitFor('the resolved follow-up', () => got('/life').length === 3, 5000);
    expect(events()[2]).toMatchObject({ type: 'alert.resolved', data: { id, resolved_by: 'olga', status: 'resolved' } });
    // Resolving again changes nothing either.
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`)).status).toBe(200);

    for (const r of got('/life')) expect(verifySignature(r.headers, r.raw, [t.secret!]).ok).toBe(true);
    expect(new Set(got('/life').map((r) => r.headers['webhook-id'])).size).toBe(3);
    await waitFor('all sent', async () => (await deliveries(`alert_id=${id}`)).every((d) => d.state === 'sent'), 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(events().map((e) => e.type)).toEqual(['alert.firing', 'alert.acknowledged', 'alert.resolved']);
    expect((await deliveries(`alert_id=${id}`)).map((d) => d.event).sort()).toEqual(['alert.acknowledged', 'alert.firing', 'alert.resolved']);
  });

  it("a sender's resolve sends exactly one resolved follow-up; a second resolved sends nothing", async () => {
    await target('svc-sender-res', 'webhook', '/sender-res');
    const id = (await stack.post(token, alert(13, { service: 'svc-sender-res', dedup_key: 'k-sres' }))).body.ids[0];
    await waitFor('firing', () => got('/sender-res').length === 1, 5000);
    const res = await stack.post(token, alert(13, { service: 'svc-sender-res', dedup_key: 'k-sres', status: 'resolved' }));
    expect(res.body.ids).toEqual([id]);
    await waitFor('resolved', () => got('/sender-res').length === 2, 5000);
    expect(JSON.parse(got('/sender-res')[1]!.raw.toString())).toMatchObject({ type: 'alert.resolved', data: { id, status: 'resolved' } });
    await stack.post(token, alert(13, { service: 'svc-sender-res', dedup_key: 'k-sres', status: 'resolved' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(got('/sender-res')).toHaveLength(2);
    expect((await deliveries(`alert_id=${id}`)).map((d) => d.event).sort()).toEqual(['alert.firing', 'alert.resolved']);
  });

  it('a delivery whose lease ran out (a crash mid-send) is sent again', async () => {
    await target('svc-lease', 'slack', '/lease');
    const route = stack.herald.db.$client.prepare("select id from outbound_targets where url like '%/lease'").get() as { id: number };
    const alertId = (await stack.post(token, alert(10, { service: 'svc-lease' }))).body.ids[0];
    await waitFor('first send', () => got('/lease').length === 1, 5000);
    // As if Herald had died after claiming it: leased, with a lease in the past.
    stack.herald.db.$client.prepare("update outbound_deliveries set state = 'leased', lease_until = ? where target_id = ?").run(Date.now() - 1, route.id);
    stack.herald.outbound.wake();
    await waitFor('sent again', () => got('/lease').length === 2, 5000);
    await waitFor('sent', async () => (await deliveries(`alert_id=${alertId}`))[0]?.state === 'sent', 5000);
  });

  it('a send whose outcome meets a locked database is recorded once the lock goes: the receiver gets it once, the row ends sent', async () => {
    // Its own Herald: a request timeout long enough to keep the send in flight while another process takes
    // the lock, and a lease (2 × timeout + 1 s) that expires while the lock is still held.
    const own = await startStack({ env: { HERALD_RETRY_BASE_MS: '20', HERALD_REQUEST_TIMEOUT_MS: '4000', HERALD_OUTBOUND_ALLOWLIST: '127.0.0.1' } });
    try {
      const sourceToken = await own.source();
      const ch = await own.channel({ webhooks: 1 });
      const route = await own.admin('POST', '/v1/admin/routes', { channel_id: ch.id, service: 'svc-locked' });
      expect((await own.admin('POST', `/v1/admin/routes/${route.body.id}/outbound`, { kind: 'webhook', url: `${base}/locked` })).status).toBe(201);
      const answers: (() => void)[] = [];
      parked.set('/locked', answers);
      const alertId = (await own.post(sourceToken, alert(12, { service: 'svc-locked' }))).body.ids[0];
      const row = () => own.herald.db.$client.prepare('select state, attempts from outbound_deliveries where alert_id = ?').get(alertId) as { state: string; attempts: number };
      await waitFor('the send in flight', () => answers.length === 1, 5000);
      // Held past the lease's end (9 s after the claim), so a re-claim of the row would find it expired.
      const lock = await holdWriteLock(join(own.dir, 'herald.db'), 11_000);
      parked.delete('/locked');
      answers[0]!(); // answered while the lock is held: recording "sent" fails (SQLITE_BUSY)
      await lock.released;
      await waitFor('the outcome recorded', () => row().state === 'sent', 10_000);
      // Not sent again, though its lease ran out while the outcome waited in memory.
      expect(got('/locked')).toHaveLength(1);
      expect(row().attempts).toBe(1);
      expect(own.logs.join('')).toContain('could not record the outcome of a request already made');
    } finally {
      parked.delete('/locked');
      await own.close();
    }
  });

  it('deleting the route removes its targets; ingest goes on', async () => {
    const route = await stack.admin('POST', '/v1/admin/routes', { channel_id: channelId, service: 'svc-deleted' });
    const t = await stack.admin('POST', `/v1/admin/routes/${route.body.id}/outbound`, { kind: 'slack', url: `${base}/deleted` });
    expect((await stack.admin('DELETE', `/v1/admin/routes/${route.body.id}`)).status).toBe(204);
    expect((await stack.admin('GET', '/v1/admin/outbound')).body.map((x: { id: number }) => x.id)).not.toContain(t.body.id);
    expect((await stack.post(token, alert(11, { service: 'svc-deleted' }))).status).toBe(202);
    expect((await stack.admin('DELETE', `/v1/admin/outbound/${t.body.id}`)).status).toBe(404);
  });

  it('404 for a target on an unknown route; 400 for a bad URL or kind', async () => {
    expect((await stack.admin('POST', '/v1/admin/routes/999999/outbound', { kind: 'slack', url: `${base}/x` })).status).toBe(404);
    const bad = await stack.admin('POST', '/v1/admin/routes/999999/outbound', { kind: 'teams', url: 'ftp://x' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems.map((p: { path: string }) => p.path)).toEqual(expect.arrayContaining(['kind', 'url']));
  });

  it('Slack mrkdwn: every piece of sender text is escaped, label keys and values included; follow-ups say who acted', async () => {
    await target('svc-esc', 'slack', '/esc');
    const id = (
      await stack.post(
        token,
        alert(14, {
          service: 'svc-esc',
          title: '<!here> title',
          description: 'desc <!channel> & <@U123>',
          labels: { '<!channel>': '<!everyone> & <@U1>', env: 'prod`<!here>' },
          fields: [{ name: '<!subteam^S1>', value: '<https://evil.example|click>' }],
          links: [{ title: '<!channel>', url: 'https://example.com/a?x=1&y=2' }],
        }),
      )
    ).body.ids[0];
    await waitFor('the Slack message', () => got('/esc').length === 1, 5000);
    const text = (i: number) => (JSON.parse(got('/esc')[i]!.raw.toString()) as { text: string }).text;
    const firing = text(0);
    // The only `<…>` left is Herald's own link; every `<` of sender text arrives as `&lt;`.
    expect(firing.match(/</g)).toHaveLength(1);
    expect(firing).toContain('<https://example.com/a?x=1&amp;y=2|&lt;!channel&gt;>');
    expect(firing).toContain('svc-esc: &lt;!here&gt; title');
    expect(firing).toContain('desc &lt;!channel&gt; &amp; &lt;@U123&gt;');
    expect(firing).toContain('*&lt;!subteam^S1&gt;:* &lt;https://evil.example|click&gt;');
    expect(firing).toContain("`&lt;!channel&gt;=&lt;!everyone&gt; &amp; &lt;@U1&gt;` `env=prod'&lt;!here&gt;`");

    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: '<!channel> olga' })).status).toBe(200);
    await waitFor('the acknowledged follow-up', () => got('/esc').length === 2, 5000);
    expect(text(1)).toMatch(/^\*\[P2\] ACKNOWLEDGED\* by &lt;!channel&gt; olga svc-esc: /);
    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/resolve`, { by: 'Ana & co' })).status).toBe(200);
    await waitFor('the resolved follow-up', () => got('/esc').length === 3, 5000);
    expect(text(2)).toMatch(/^\*\[P2\] RESOLVED\* by Ana &amp; co svc-esc: /);
  });

  it('DNS rebinding: a name allowed at creation that later resolves to a forbidden address is not connected to', async () => {
    const port = new URL(base).port;
    const guard = stack.herald.outboundGuard;
    const system = guard.resolve;
    let answer = '127.0.0.1';
    // A DNS server the test plays: rebind.test is unknown to the system resolver, so a send can reach the
    // receiver only through the address Herald checked.
    const playing: Resolver = async (host) => (host === 'rebind.test' ? [{ address: answer, family: 4 }] : system(host));
    guard.resolve = playing;
    try {
      const route = await stack.admin('POST', '/v1/admin/routes', { channel_id: channelId, service: 'svc-rebind' });
      const t = await stack.admin('POST', `/v1/admin/routes/${route.body.id}/outbound`, { kind: 'webhook', url: `http://rebind.test:${port}/rebind` });
      expect(t.status).toBe(201);
      const first = (await stack.post(token, alert(15, { service: 'svc-rebind' }))).body.ids[0];
      await waitFor('the first send', async () => (await deliveries(`alert_id=${first}`))[0]?.state === 'sent', 5000);
      expect(got('/rebind')).toHaveLength(1);
      expect(got('/rebind')[0]!.headers.host).toBe(`rebind.test:${port}`);

      answer = '10.0.0.7';
      const second = (await stack.post(token, alert(16, { service: 'svc-rebind' }))).body.ids[0];
      await waitFor('refused', async () => (await deliveries(`alert_id=${second}`))[0]?.state === 'dead', 5000);
      expect((await deliveries(`alert_id=${second}`))[0]).toMatchObject({
        attempts: 1,
        last_status: null,
        last_error: "refused: the url's host rebind.test resolves to 10.0.0.7, a private address; Herald does not send to internal addresses (HERALD_OUTBOUND_ALLOWLIST can allow it)",
      });
      expect(got('/rebind')).toHaveLength(1);
    } finally {
      guard.resolve = system;
    }
  });

  it("reads only a few KB of an answer: a receiver streaming a huge body is cut off and a short sanitized reason is stored", async () => {
    const total = 300 * 1024 * 1024;
    let written = 0;
    let closedEarly = false;
    const huge = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.on('close', () => (closedEarly = !res.writableFinished));
        res.writeHead(400, { 'content-type': 'text/plain' });
        // An echo of the request path (the target's credential), control characters, then 300 MB.
        res.write(`bad request to ${req.url}:\u001b[31m\u0000 caf\u00e9 ${'<'.repeat(5)}\n`);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (written < total && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      });
    });
    await new Promise<void>((r) => huge.listen(0, '127.0.0.1', r));
    try {
      const port = (huge.address() as { port: number }).port;
      const route = await stack.admin('POST', '/v1/admin/routes', { channel_id: channelId, service: 'svc-huge' });
      const secretPath = '/services/T0HUGE/B0HUGE/xoxHugeSecret123';
      expect((await stack.admin('POST', `/v1/admin/routes/${route.body.id}/outbound`, { kind: 'slack', url: `http://127.0.0.1:${port}${secretPath}` })).status).toBe(201);
      const id = (await stack.post(token, alert(17, { service: 'svc-huge' }))).body.ids[0];
      await waitFor('dead', async () => (await deliveries(`alert_id=${id}`))[0]?.state === 'dead', 5000);
      await waitFor("the receiver's socket closed", () => closedEarly, 5000);
      expect(written).toBeLessThan(total);
      const d = (await deliveries(`alert_id=${id}`))[0];
      expect(d.last_status).toBe(400);
      expect(d.last_error).toMatch(/^HTTP 400: bad request to \*\*\*\*: \[31m caf <<<<< x+\.\.\.$/);
      expect(d.last_error.length).toBeLessThanOrEqual('HTTP 400: '.length + 200);
      expect(d.last_error).not.toMatch(/HugeSecret|T0HUGE/);
      expect(d.last_error).toMatch(/^[\x20-\x7e]+$/);
    } finally {
      huge.closeAllConnections();
      await new Promise((r) => huge.close(r));
    }
  });
});
