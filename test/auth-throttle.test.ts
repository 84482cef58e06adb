import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, alert, startStack, waitFor, type Stack } from './support/stack.js';

let stack: Stack;
let sourceToken: string;
beforeAll(async () => {
  stack = await startStack({ env: { HERALD_AUTH_FAILURE_LIMIT: '3', HERALD_AUTH_FAILURE_WINDOW_MS: '3000' } });
  sourceToken = await stack.source();
});
afterAll(() => stack.close());

const adminWith = (token: string) => fetch(`${stack.url}/v1/admin/sources`, { headers: { authorization: `Bearer ${token}` } });
const hookWith = (token: string) =>
  fetch(`${stack.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(alert(1)) });

describe('repeated wrong tokens from one address are throttled', () => {
  it('admin API: after the limit of 401s, 429 with Retry-After, even for the right token, until the window ends', async () => {
    for (let i = 0; i < 3; i++) expect((await adminWith(`wrong-admin-token-${i}-0123456789`)).status).toBe(401);
    const limited = await adminWith('wrong-admin-token-x-0123456789');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(await limited.json()).toEqual({ error: 'too_many_requests', message: expect.stringMatching(/^too many requests with a wrong token from this address; try again in \d+ s$/) });
    // A right guess is not confirmed while throttled.
    expect((await adminWith(ADMIN_TOKEN)).status).toBe(429);
    // The hook counts its own refusals: a sender on the same address is not locked out by the admin's.
    expect((await hookWith(sourceToken)).status).toBe(202);
    // The window ends and the right token works again.
    await waitFor('the admin throttle to lift', async () => (await adminWith(ADMIN_TOKEN)).status === 200, 10_000, 200);
  });

  it('alert hook: unknown source tokens are throttled the same way', async () => {
    const before = (await stack.admin('GET', '/v1/admin/alerts?limit=1000')).body.length as number;
    for (let i = 0; i < 3; i++) expect((await hookWith(`hrl_guess-${i}`)).status).toBe(401);
    const limited = await hookWith('hrl_guess-x');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await hookWith(sourceToken)).status).toBe(429);
    // Nothing was stored by any refused request.
    expect((await stack.admin('GET', '/v1/admin/alerts?limit=1000')).body.length).toBe(before);
    await waitFor('the hook throttle to lift', async () => (await hookWith(sourceToken)).status === 202, 10_000, 200);
  });
});
