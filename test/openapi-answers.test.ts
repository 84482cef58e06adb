import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, alert, startStack, type Stack } from './support/stack.js';

type Operation = { security?: unknown[]; parameters?: unknown[]; requestBody?: unknown; responses: Record<string, { description: string }> };
type Doc = { paths: Record<string, Record<string, Operation>> };

let stack: Stack;
let doc: Doc;
beforeAll(async () => {
  // A small body limit and failure limit, so that 413 and 429 are cheap to provoke.
  stack = await startStack({ env: { HERALD_BODY_LIMIT: '2048', HERALD_AUTH_FAILURE_LIMIT: '3' } });
  doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as Doc;
});
afterAll(() => stack.close());

const documented = (path: string, method: string): string[] => Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort();

const request = (method: string, path: string, init: { token?: string; body?: string; type?: string; headers?: Record<string, string> } = {}) =>
  fetch(stack.url + path, {
    method,
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'content-type': init.type ?? 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });

describe('the OpenAPI document lists every answer each route gives', () => {
  it('names the statuses of the hook, the ops endpoints and a few admin routes', () => {
    expect(documented('/v1/alerts', 'post')).toEqual(['202', '400', '401', '405', '413', '415', '422', '429', '503']);
    expect(documented('/readyz', 'get')).toEqual(['200', '405', '503']);
    expect(documented('/healthz', 'get')).toEqual(['200', '405', '503']);
    expect(documented('/metrics', 'get')).toEqual(['200', '405', '503']);
    expect(documented('/v1/admin/sources', 'get')).toEqual(['200', '400', '401', '405', '429', '503']);
    expect(documented('/v1/admin/sources', 'post')).toEqual(['201', '400', '401', '405', '409', '413', '415', '429', '503']);
    expect(documented('/v1/admin/sources/{id}', 'delete')).toEqual(['204', '400', '401', '404', '405', '413', '415', '429', '503']);
    expect(documented('/v1/admin/alerts/{id}/ack', 'post')).toEqual(['200', '400', '401', '404', '405', '409', '413', '415', '429', '503']);
    expect(documented('/v1/admin/channels/{id}/webhooks/create', 'post')).toEqual(['201', '400', '401', '404', '405', '409', '413', '415', '429', '502', '503']);
    expect(documented('/v1/heartbeats/{name}', 'post')).toEqual(['202', '400', '401', '404', '405', '413', '415', '429', '503']);
    expect(documented('/v1/admin/heartbeats', 'post')).toEqual(['201', '400', '401', '404', '405', '409', '413', '415', '429', '503']);
    expect(documented('/v1/admin/heartbeats', 'get')).toEqual(['200', '400', '401', '405', '429', '503']);
    expect(documented('/v1/admin/heartbeats/{id}', 'delete')).toEqual(['204', '400', '401', '404', '405', '413', '415', '429', '503']);
  });

  it('documents the answers every route can give by how the server works, with a description each', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ name: `${method} ${path}`, method, op })));
    expect(operations.length).toBeGreaterThan(40);
    for (const { name, method, op } of operations) {
      const statuses = Object.keys(op.responses);
      expect(statuses, `${name}: a wrong method on its path, and a failure to process`).toEqual(expect.arrayContaining(['405', '503']));
      expect(statuses.some((s) => s.startsWith('2')), `${name}: its success`).toBe(true);
      if (op.security?.length) expect(statuses, `${name}: behind a token`).toEqual(expect.arrayContaining(['401', '429']));
      if (method !== 'get') expect(statuses, `${name}: takes a body`).toEqual(expect.arrayContaining(['400', '413', '415']));
      if (op.parameters?.length || op.requestBody) expect(statuses, `${name}: validates its input`).toContain('400');
      for (const s of statuses) expect(op.responses[s]!.description, `${name} ${s}`).not.toBe('Default Response');
    }
  });

  it('every status the hook and the admin API are made to answer here is one the document lists for the route', async () => {
    const token = await stack.source('answers');
    const admin = ADMIN_TOKEN;
    const body = JSON.stringify(alert(1));
    const idem = { 'idempotency-key': 'answers-1' };
    // One after another: the 422 reuses the first request's Idempotency-Key.
    const cases: [string, string, string, () => Promise<Response>, number][] = [
      ['post', '/v1/alerts', '/v1/alerts', () => request('POST', '/v1/alerts', { token, body, headers: idem }), 202],
      ['post', '/v1/alerts', '/v1/alerts', () => request('POST', '/v1/alerts', { token, body: JSON.stringify(alert(2)), headers: idem }), 422],
      ['post', '/v1/alerts', '/v1/alerts', () => request('POST', '/v1/alerts', { token, body: '{"title": 5}' }), 400],
      ['post', '/v1/alerts', '/v1/alerts', () => request('POST', '/v1/alerts', { body }), 401],
      ['post', '/v1/alerts', '/v1/alerts', () => request('GET', '/v1/alerts', { token }), 405],
      ['post', '/v1/alerts', '/v1/alerts', () => request('POST', '/v1/alerts', { token, body: JSON.stringify(alert(3, { description: 'x'.repeat(4096) })) }), 413],
      ['post', '/v1/alerts', '/v1/alerts', () => request('POST', '/v1/alerts', { token, body: 'title=x', type: 'application/x-www-form-urlencoded' }), 415],
      ['post', '/v1/admin/sources', '/v1/admin/sources', () => request('POST', '/v1/admin/sources', { token: admin, body: '{"name": "answers"}' }), 409],
      ['post', '/v1/admin/sources', '/v1/admin/sources', () => request('POST', '/v1/admin/sources', { token: admin, body: '{"name": "y"}', type: 'text/plain' }), 415],
      ['post', '/v1/admin/sources', '/v1/admin/sources', () => request('POST', '/v1/admin/sources', { token: admin, body: JSON.stringify({ name: 'z'.repeat(4096) }) }), 413],
      ['delete', '/v1/admin/sources/{id}', '/v1/admin/sources/999999', () => request('DELETE', '/v1/admin/sources/999999', { token: admin }), 404],
      ['get', '/v1/admin/sources', '/v1/admin/sources', () => request('PUT', '/v1/admin/sources', { token: admin }), 405],
    ];
    for (const [method, route, path, response, expected] of cases) {
      const res = await response();
      expect(res.status, `${method} ${path}`).toBe(expected);
      expect(documented(route, method), `${method} ${route} answered ${res.status}`).toContain(String(res.status));
    }

    // Heartbeats: declared, beaten, and every refusal each route gives.
    const sourceId = ((await stack.admin('GET', '/v1/admin/sources')).body as { id: number; name: string }[]).find((x) => x.name === 'answers')!.id;
    const declare = (name: string, interval: unknown) => request('POST', '/v1/admin/heartbeats', { token: admin, body: JSON.stringify({ source_id: sourceId, name, interval }) });
    const heartbeatCases: [string, string, () => Promise<Response>, number][] = [
      ['post', '/v1/admin/heartbeats', () => declare('answers-hb', '1h'), 201],
      ['post', '/v1/admin/heartbeats', () => declare('answers-hb', '1h'), 409],
      ['post', '/v1/admin/heartbeats', () => declare('too-fast', '1s'), 400],
      ['post', '/v1/admin/heartbeats', () => request('POST', '/v1/admin/heartbeats', { token: admin, body: JSON.stringify({ source_id: 999999, name: 'x', interval: '1h' }) }), 404],
      ['get', '/v1/admin/heartbeats', () => request('GET', '/v1/admin/heartbeats', { token: admin }), 200],
      ['post', '/v1/heartbeats/{name}', () => request('POST', '/v1/heartbeats/answers-hb', { token }), 202],
      ['post', '/v1/heartbeats/{name}', () => request('POST', '/v1/heartbeats/nope', { token }), 404],
      ['post', '/v1/heartbeats/{name}', () => request('POST', '/v1/heartbeats/answers-hb', {}), 401],
      ['post', '/v1/heartbeats/{name}', () => request('POST', '/v1/heartbeats/answers-hb', { token, body: '' }), 400],
      ['post', '/v1/heartbeats/{name}', () => request('POST', '/v1/heartbeats/answers-hb', { token, body: 'x', type: 'text/plain' }), 415],
      ['delete', '/v1/admin/heartbeats/{id}', () => request('DELETE', '/v1/admin/heartbeats/999999', { token: admin }), 404],
    ];
    for (const [method, route, response, expected] of heartbeatCases) {
      const res = await response();
      expect(res.status, `${method} ${route}`).toBe(expected);
      expect(documented(route, method), `${method} ${route} answered ${res.status}`).toContain(String(res.status));
    }

    // A source's severity and service mapping: set with PATCH, refused with a 400 when it is not one.
    const patchSource = (body: unknown) => request('PATCH', `/v1/admin/sources/${sourceId}`, { token: admin, body: JSON.stringify(body) });
    const mappingCases: [() => Promise<Response>, number][] = [
      [() => patchSource({ mapping: { severity_label: 'priority', severity_words: { sev1: 'P1' }, service_labels: ['team'] } }), 200],
      [() => patchSource({ mapping: { severity_words: { sev1: 'P7' } } }), 400],
      [() => patchSource({ mapping: null }), 200],
    ];
    for (const [response, expected] of mappingCases) {
      const res = await response();
      expect(res.status, 'patch /v1/admin/sources/{id} (mapping)').toBe(expected);
      expect(documented('/v1/admin/sources/{id}', 'patch'), `patch answered ${res.status}`).toContain(String(res.status));
    }

    // A channel without a webhook makes Herald not ready.
    await stack.admin('POST', '/v1/admin/channels', { name: 'no-webhook', discord_channel_id: '123456789012345678' });
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(documented('/readyz', 'get')).toContain('503');

    // Last, as it locks this address out: wrong tokens until the throttle answers 429.
    for (const [route, method, path, init] of [
      ['/v1/alerts', 'post', '/v1/alerts', { token: 'wrong', body }],
      ['/v1/admin/sources', 'get', '/v1/admin/sources', { token: 'wrong' }],
    ] as const) {
      let status = 0;
      for (let i = 0; i < 5 && status !== 429; i++) status = (await request(method.toUpperCase(), path, init)).status;
      expect(status, `${method} ${path}`).toBe(429);
      expect(documented(route, method)).toContain('429');
    }
  });
});
