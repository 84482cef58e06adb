import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alert, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = await stack.source();
});
afterAll(() => stack.close());

describe('a known path with the wrong method', () => {
  it('answers 405 with an Allow header naming the methods the path answers', async () => {
    for (const [method, path, allow] of [
      ['GET', '/v1/alerts', 'POST'],
      ['PUT', '/v1/admin/sources', 'GET, HEAD, POST'],
      ['PUT', '/v1/admin/sources/5', 'DELETE, GET, HEAD, PATCH'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/v1/admin/sources?x=1', 'GET, HEAD, POST'],
    ] as const) {
      const res = await fetch(stack.url + path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(await res.json()).toEqual({ error: 'method_not_allowed', message: `${method} is not allowed on ${path.split('?')[0]}; it answers ${allow}` });
    }
  });

  it('an unknown path is still 404', async () => {
    const res = await fetch(`${stack.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'no route GET /v1/nothing-here' });
  });
});

describe('validation messages in plain words', () => {
  it('says what is missing and what a severity may be, with a hint at the sender formats', async () => {
    const res = await stack.post(token, { service: 'checkout', severity: 'critical' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      problems: [
        {
          path: 'severity',
          message: 'severity must be one of P0, P1, P2, P3 (got "critical"); severity words like critical are read in the alertmanager and pagerduty formats',
        },
        { path: 'title', message: 'title is required' },
      ],
    });
    const batch = await stack.post(token, { alerts: [alert(1), { ...alert(2), severity: 3, title: '' }] });
    expect(batch.body.problems).toEqual([
      { path: 'alerts[1].severity', message: expect.stringMatching(/^severity must be one of P0, P1, P2, P3 \(got 3\)/) },
      { path: 'alerts[1].title', message: 'title must not be empty' },
    ]);
  });

  it('names the field and the kind of value expected', async () => {
    const res = await stack.post(token, { ...alert(1), description: 5, labels: { team: 3 }, links: [{ title: 'x', url: 'ftp://nope' }], extra: true });
    expect(res.body.problems).toEqual([
      { path: 'description', message: 'description must be text (got a number)' },
      { path: 'labels.team', message: 'team must be text (got a number)' },
      { path: 'links[0].url', message: 'url must be an http(s) URL' },
      { path: 'extra', message: 'unknown field' },
    ]);
  });

  it('admin ids and query parameters: "id must be a number"', async () => {
    expect((await stack.admin('GET', '/v1/admin/alerts/abc')).body).toEqual({ error: 'invalid_request', problems: [{ path: 'params.id', message: 'id must be a number' }] });
    expect((await stack.admin('GET', '/v1/admin/alerts/1.5')).body.problems).toEqual([{ path: 'params.id', message: 'id must be a whole number' }]);
    expect((await stack.admin('GET', '/v1/admin/alerts/0')).body.problems).toEqual([{ path: 'params.id', message: 'id must be greater than 0' }]);
    expect((await stack.admin('GET', '/v1/admin/alerts?limit=5000')).body.problems).toEqual([{ path: 'querystring.limit', message: 'limit must be at most 1000' }]);
    expect((await stack.admin('POST', '/v1/admin/sources', {})).body.problems).toEqual([{ path: 'name', message: 'name is required' }]);
  });
});
