import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdWriteLock, ROOT } from './support/process.js';
import { alert, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({ env: { HERALD_BODY_LIMIT: '4096' } });
  token = await stack.source();
});
afterAll(() => stack.close());

const countAlerts = () => (stack.herald.db.$client.prepare('select count(*) n from alerts').get() as { n: number }).n;

describe('POST /v1/alerts', () => {
  it('answers 202 with the id only after the alert is committed (visible to another connection)', async () => {
    const res = await stack.post(token, alert(1, { severity: 'P1', labels: { team: 'payments' }, links: [{ title: 'Runbook', url: 'https://example.com/rb' }] }));
    expect(res.status).toBe(202);
    expect(res.body.ids).toHaveLength(1);
    const other = new Database(join(stack.dir, 'herald.db'), { readonly: true });
    const row = other.prepare('select service, severity, labels from alerts where id = ?').get(res.body.ids[0]) as Record<string, string>;
    other.close();
    expect(row).toEqual({ service: 'checkout', severity: 'P1', labels: '{"team":"payments"}' });
  });

  it('takes a batch as {"alerts": [...]} and answers ids in order', async () => {
    const res = await stack.post(token, { alerts: [alert(1), alert(2), alert(3)] });
    expect(res.status).toBe(202);
    expect(res.body.ids).toHaveLength(3);
    expect(res.body.ids[1]).toBe(res.body.ids[0] + 1);
  });

  it('honours Idempotency-Key: the same key gives the same answer and stores nothing twice', async () => {
    const before = countAlerts();
    const a = await stack.post(token, alert(7), { 'idempotency-key': 'deploy-42' });
    const b = await stack.post(token, alert(7), { 'idempotency-key': 'deploy-42' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.ids).toEqual(a.body.ids);
    expect(countAlerts()).toBe(before + 1);
  });

  it('refuses an Idempotency-Key reused with a different body (422, nothing stored); the same body still gets the first answer', async () => {
    const first = await stack.post(token, alert(8), { 'idempotency-key': 'deploy-43' });
    expect(first.status).toBe(202);
    const before = countAlerts();
    const other = await stack.post(token, alert(8, { title: 'Another alert' }), { 'idempotency-key': 'deploy-43' });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ error: 'idempotency_key_reused', message: expect.stringMatching(/^this Idempotency-Key was already used with a different request/) });
    // The same body in another format is another request too.
    expect((await fetch(`${stack.url}/v1/alerts?format=native`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'deploy-43' }, body: JSON.stringify(alert(8)) })).status).toBe(422);
    expect(countAlerts()).toBe(before);
    const same = await fetch(`${stack.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'deploy-43' }, body: JSON.stringify(alert(8)) });
    expect(same.status).toBe(202);
    expect(same.headers.get('idempotent-replayed')).toBe('true');
    expect(((await same.json()) as { ids: number[] }).ids).toEqual(first.body.ids);
    expect(countAlerts()).toBe(before);
  });

  it('a PagerDuty acknowledge is committed with its request: 503 under a locked database with nothing acknowledged; its Idempotency-Key kept like any request\'s', async () => {
    // Its own Herald: the lock's failed writes make /readyz fail for a while, which the shared one must not.
    const own = await startStack();
    const ownToken = await own.source();
    const fixture = (name: string) => JSON.parse(readFileSync(join(ROOT, 'test/fixtures', `${name}.json`), 'utf8')) as Record<string, unknown>;
    const pagerduty = async (body: unknown, key: string) => {
      const res = await fetch(`${own.url}/v1/alerts?format=pagerduty`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ownToken}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
      return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as { ids?: number[]; acknowledged?: number[]; ignored?: string[] } };
    };
    try {
      const fired = await pagerduty({ ...fixture('pagerduty-trigger'), dedup_key: 'pd-commit' }, 'pd-trigger-1');
      expect(fired.status).toBe(202);
      const id = fired.body.ids![0]!;
      const acknowledgedAt = () => (own.herald.db.$client.prepare('select acknowledged_at as at from alerts where id = ?').get(id) as { at: number | null }).at;
      const ack = { ...fixture('pagerduty-acknowledge'), dedup_key: 'pd-commit' };

      const lock = await holdWriteLock(join(own.dir, 'herald.db'), 2000);
      const busy = await pagerduty(ack, 'pd-ack-1');
      expect(busy.status).toBe(503);
      expect(acknowledgedAt()).toBeNull();
      await lock.released;

      const done = await pagerduty(ack, 'pd-ack-1');
      expect(done).toMatchObject({ status: 202, body: { ids: [], acknowledged: [id] } });
      expect(acknowledgedAt()).toEqual(expect.any(Number));
      // The key was recorded with the acknowledge: another request under it is refused, the same one replayed.
      expect((await pagerduty({ ...ack, dedup_key: 'pd-other' }, 'pd-ack-1')).status).toBe(422);
      expect(await pagerduty(ack, 'pd-ack-1')).toMatchObject({ status: 202, replayed: 'true', body: { ids: [], acknowledged: [id] } });
    } finally {
      await own.close();
    }
  });

  it('keeps an alert no route matches as unrouted, never dropped', async () => {
    const res = await stack.post(token, alert(9));
    const list = await stack.admin('GET', '/v1/admin/alerts?unrouted=true');
    expect(list.body.map((a: { id: number }) => a.id)).toContain(res.body.ids[0]);
  });

  describe('rejects bad requests and stores nothing', () => {
    it('401 without a token or with an unknown one', async () => {
      const before = countAlerts();
      const none = await fetch(`${stack.url}/v1/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert(1)) });
      expect(none.status).toBe(401);
      const wrong = await stack.post('hrl_not-a-real-token', alert(1));
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('unauthorized');
      expect(countAlerts()).toBe(before);
    });

    it('400 listing every problem with its path', async () => {
      const before = countAlerts();
      const res = await stack.post(token, { service: '', severity: 'P9', description: 5, labels: { team: 3 }, links: [{ title: 'x', url: 'ftp://nope' }], extra: true });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      const paths = res.body.problems.map((p: { path: string }) => p.path);
      for (const p of ['service', 'severity', 'title', 'description', 'labels.team', 'links[0].url']) expect(paths).toContain(p);
      for (const p of res.body.problems) expect(typeof p.message).toBe('string');
      expect(countAlerts()).toBe(before);
    });

    it('400 for a bad alert inside a batch, naming its index; the good ones are not stored either', async () => {
      const before = countAlerts();
      const res = await stack.post(token, { alerts: [alert(1), { ...alert(2), severity: 'urgent' }] });
      expect(res.status).toBe(400);
      expect(res.body.problems.map((p: { path: string }) => p.path)).toContain('alerts[1].severity');
      expect(countAlerts()).toBe(before);
    });

    it('400 for a body that is not JSON', async () => {
      const res = await fetch(`${stack.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"service": ' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    });

    it('413 for a body over the limit', async () => {
      const before = countAlerts();
      const res = await stack.post(token, alert(1, { description: 'x'.repeat(5000) }));
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('payload_too_large');
      expect(countAlerts()).toBe(before);
    });

    it('415 for a body that is not JSON by content type', async () => {
      const res = await fetch(`${stack.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: 'disk full' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: string }).error).toBe('unsupported_media_type');
    });
  });
});

describe('operations endpoints', () => {
  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    for (const name of ['herald_alerts_accepted_total', 'herald_queue_depth', 'herald_delivery_latency_seconds', 'herald_discord_429_total', 'herald_webhook_breakers']) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/herald_alerts_accepted_total\{severity="P2"\} \d+/);
  });

  it('serves an OpenAPI document that covers the hook and the admin API', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/alerts', '/v1/admin/sources', '/v1/admin/routes']));
  });
});
