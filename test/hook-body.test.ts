import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, alert, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = await stack.source();
});
afterAll(() => stack.close());

const countAlerts = () => (stack.herald.db.$client.prepare('select count(*) n from alerts').get() as { n: number }).n;
const countSources = () => (stack.herald.db.$client.prepare('select count(*) n from sources').get() as { n: number }).n;

async function send(path: string, body: Buffer | string, contentType: string, bearer = token): Promise<{ status: number; body: any }> {
  const res = await fetch(stack.url + path, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': contentType }, body });
  return { status: res.status, body: await res.json() };
}

/** `{"service": "caf<0xE9>", …}`: latin1 bytes, not UTF-8. */
const latin1Body = Buffer.concat([Buffer.from('{"service":"caf'), Buffer.from([0xe9]), Buffer.from('","severity":"P2","title":"t"}')]);

describe('hook bodies: one JSON parser for the hook and the admin API', () => {
  it('400 for bytes that are not valid UTF-8, on the hook and the admin API; nothing stored', async () => {
    const alerts = countAlerts();
    const hook = await send('/v1/alerts', latin1Body, 'application/json');
    expect(hook.status).toBe(400);
    expect(hook.body).toEqual({ error: 'invalid_request', problems: [{ path: '(body)', message: 'body is not valid UTF-8' }] });
    expect(countAlerts()).toBe(alerts);

    const sources = countSources();
    const admin = await send('/v1/admin/sources', Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9, 0x22, 0x7d])]), 'application/json', ADMIN_TOKEN);
    expect(admin.status).toBe(400);
    expect(admin.body.problems).toEqual([{ path: '(body)', message: 'body is not valid UTF-8' }]);
    expect(countSources()).toBe(sources);
  });

  it('415 for a declared charset other than UTF-8; UTF-8 declared in any spelling is fine', async () => {
    const alerts = countAlerts();
    for (const ct of ['application/json; charset=latin1', 'application/json; charset="ISO-8859-1"', 'application/json;charset=utf-16']) {
      const res = await send('/v1/alerts', JSON.stringify(alert(1)), ct);
      expect(res.status, ct).toBe(415);
      expect(res.body).toEqual({ error: 'unsupported_media_type', message: expect.stringMatching(/^charset ".+" is not supported: send the JSON body as UTF-8/) });
    }
    expect(countAlerts()).toBe(alerts);
    for (const ct of ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json;charset=utf8', 'application/json']) {
      expect((await send('/v1/alerts', JSON.stringify(alert(2, { title: 'café ✓' })), ct)).status, ct).toBe(202);
    }
    expect(countAlerts()).toBe(alerts + 4);
  });

  it('400 for __proto__ and constructor.prototype keys, in a loose sender format too, as on the admin API', async () => {
    const alerts = countAlerts();
    const fixture = readFileSync(new URL('./fixtures/alertmanager-firing.json', import.meta.url), 'utf8');
    for (const poisoned of [
      fixture.replace(/^\{/, '{"__proto__": {"isAdmin": true},'),
      fixture.replace(/^\{/, '{"constructor": {"prototype": {"isAdmin": true}},'),
      fixture.replace('"labels": {', '"labels": {"__proto__": {"x": "y"},'),
    ]) {
      const res = await send('/v1/alerts?format=alertmanager', poisoned, 'application/json');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', problems: [{ path: '(body)', message: expect.stringMatching(/__proto__/) }] });
    }
    expect(countAlerts()).toBe(alerts);
    // The untouched fixture is accepted (the refusals above are about the keys, nothing else).
    expect((await send('/v1/alerts?format=alertmanager', fixture, 'application/json')).status).toBe(202);

    const admin = await send('/v1/admin/sources', '{"name": "x", "__proto__": {"a": 1}}', 'application/json', ADMIN_TOKEN);
    expect(admin.status).toBe(400);
    expect(admin.body.problems[0].message).toMatch(/__proto__/);
  });

  it('400 for an empty body declared as JSON, and for text that is not JSON', async () => {
    expect((await send('/v1/alerts', '', 'application/json')).body).toEqual({ error: 'invalid_request', problems: [{ path: '(body)', message: expect.stringMatching(/^body is empty/) }] });
    expect((await send('/v1/alerts', '{"service": ', 'application/json')).body.problems[0].message).toMatch(/^body is not valid JSON/);
  });
});
