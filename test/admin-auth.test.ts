import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  // Generous failure limits: this file sends many refused requests on purpose and tests the paths, not the throttle.
  stack = await startStack({ env: { HERALD_AUTH_FAILURE_LIMIT: '10000' } });
});
afterAll(() => stack.close());

/**
 * One raw HTTP request with the path exactly as given: fetch() and URL() normalise `..`, `%2e` and
 * friends before sending, which is what an attacker's client need not do.
 */
function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { port } = new URL(stack.url);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(port), method, path, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const sourceNames = async () => ((await stack.admin('GET', '/v1/admin/sources')).body as { name: string }[]).map((s) => s.name).sort();

/** Spellings of /v1/admin/sources that a router or a proxy might read as the admin path. */
const VARIANTS = [
  '/v1/%61dmin/sources', // a percent-encoded letter
  '/v1/admi%6e/sources',
  '/%761/admin/sources',
  '/v1/%41dmin/sources', // encoded upper case
  '/v1/admin/%73ources',
  '/v1%2fadmin/sources', // an encoded slash
  '/v1/%2561dmin/sources', // double encoding
  '/v1/admin%252fsources',
  '//v1/admin/sources', // doubled slashes
  '/v1//admin/sources',
  '/v1/admin//sources',
  '/v1/x/../admin/sources', // dot segments
  '/v1/admin/./sources',
  '/v1/%2e%2e/v1/admin/sources',
  '/x/..%2fv1/admin/sources',
  '/V1/ADMIN/SOURCES', // case
  '/v1/Admin/sources',
  '/v1/admin/sources/', // a trailing slash
  '/v1/admin/sources?x=/v1/other', // query strings
  '/v1/admin/sources;x',
  '/v1/admin/sources%00',
  '/v1/admin/sources%20',
];

describe('admin API authentication by matched route', () => {
  it('the plain path still needs the token (baseline)', async () => {
    expect((await raw('GET', '/v1/admin/sources')).status).toBe(401);
    expect((await raw('GET', '/v1/admin/sources', undefined, { authorization: 'Bearer test-admin-token-0123456789abcdef' })).status).toBe(200);
  });

  it('every spelling of an admin path is 401 or 404 without a token, on GET and POST, and reaches no handler', async () => {
    await stack.source('existing');
    const before = await sourceNames();
    for (const [i, path] of VARIANTS.entries()) {
      const get = await raw('GET', path);
      expect([401, 404], `GET ${path}: ${get.status} ${get.body}`).toContain(get.status);
      expect(get.body, `GET ${path}`).not.toContain('existing');
      const post = await raw('POST', path, { name: `intruder-${i}` });
      // 405: the spelling matched a path that has no POST route (`/v1/admin/sources/` is `/sources/:id` with an empty id).
      expect([401, 404, 405], `POST ${path}: ${post.status} ${post.body}`).toContain(post.status);
    }
    // No handler ran: no source was created by any POST, and the list is what it was.
    expect(await sourceNames()).toEqual(before);
  });

  it('routes outside the admin API never ask for the admin token', async () => {
    expect((await raw('GET', '/healthz')).status).toBe(200);
    expect((await raw('GET', '/openapi.json')).status).toBe(200);
  });
});
