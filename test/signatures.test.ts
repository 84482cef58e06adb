import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSigningSecret, sign, signedHeaders, verifySignature } from '../src/domain/signatures.js';
import { alert, startStack, type Stack } from './support/stack.js';

describe('Standard Webhooks signatures (unit)', () => {
  // The specification's published test vector.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const ts = 1614265330;
  const body = '{"test": 2432232314}';
  const vector = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

  it('reproduces the reference signature', () => {
    expect(sign(secret, id, ts, body)).toBe(vector);
  });

  it('verifies it within the tolerance and refuses it outside', () => {
    const h = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': vector };
    expect(verifySignature(h, Buffer.from(body), [secret], ts * 1000 + 299_000)).toEqual({ ok: true, id, timestamp: ts });
    expect(verifySignature(h, Buffer.from(body), [secret], ts * 1000 + 301_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/old/) });
    expect(verifySignature(h, Buffer.from(body), [secret], ts * 1000 - 301_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/future/) });
  });

  it('generates whsec_ secrets of 32 bytes that sign and verify', () => {
    const s = newSigningSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const h = signedHeaders([s], 'msg_1', 'x');
    expect(verifySignature(h, Buffer.from('x'), [s]).ok).toBe(true);
  });
});

describe('signed sources on POST /v1/alerts', () => {
  let stack: Stack;
  let token: string;
  let sourceId: number;
  let secret: string;
  let n = 0;

  beforeAll(async () => {
    stack = await startStack();
    const created = await stack.admin('POST', '/v1/admin/sources', { name: 'signed' });
    token = created.body.token;
    sourceId = created.body.id;
    const s = await stack.admin('POST', `/v1/admin/sources/${sourceId}/secrets`);
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    secret = s.body.secret;
  });
  afterAll(() => stack.close());

  const countAlerts = () => (stack.herald.db.$client.prepare('select count(*) n from alerts').get() as { n: number }).n;
  const msgId = () => `msg_${Date.now()}_${++n}`;
  const send = async (body: string, headers: Record<string, string>) => {
    const res = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const body = (i = 1) => JSON.stringify(alert(i));

  it('the secret is shown once: the source lists it by hint only', async () => {
    const detail = await stack.admin('GET', `/v1/admin/sources/${sourceId}`);
    expect(detail.body.secrets).toEqual([{ id: expect.any(Number), hint: `…${secret.slice(-4)}`, created_at: expect.any(Number) }]);
    expect(JSON.stringify(detail.body)).not.toContain(secret);
    expect(stack.logs.join('')).not.toContain(secret.slice(6));
  });

  it('accepts a valid signature over the raw bytes', async () => {
    // Odd spacing: the signature is over the bytes as sent, not over a re-serialisation.
    const raw = `{ "service":"checkout",  "severity":"P2", "title":"signed" }`;
    const res = await send(raw, signedHeaders([secret], msgId(), raw));
    expect(res.status).toBe(202);
    expect(res.body.ids).toHaveLength(1);
  });

  it('401 with a plain reason, nothing stored: unsigned, missing headers, tampered body, wrong secret, bad or expired timestamp', async () => {
    const before = countAlerts();
    const b = body();
    const good = signedHeaders([secret], msgId(), b);
    const cases: [Record<string, string>, string, RegExp][] = [
      [{}, b, /missing webhook-id, webhook-timestamp, webhook-signature headers/],
      [{ 'webhook-id': good['webhook-id']!, 'webhook-signature': good['webhook-signature']! }, b, /missing webhook-timestamp header/],
      [good, b.replace('checkout', 'checkouT'), /no signature .* matches/],
      [signedHeaders([newSigningSecret()], msgId(), b), b, /no signature .* matches/],
      [{ ...good, 'webhook-timestamp': 'yesterday' }, b, /Unix time/],
      [signedHeaders([secret], msgId(), b, Math.floor(Date.now() / 1000) - 6 * 60), b, /s old; at most 300 s/],
      [signedHeaders([secret], msgId(), b, Math.floor(Date.now() / 1000) + 6 * 60), b, /in the future/],
      [{ ...good, 'webhook-signature': 'v2,abc' }, b, /no v1 signature/],
    ];
    for (const [headers, payload, reason] of cases) {
      const res = await send(payload, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.body.error).toBe('bad_signature');
      expect(res.body.message).toMatch(reason);
    }
    expect(countAlerts()).toBe(before);
  });

  it('a replay or a sender\'s retry of a webhook-id is answered like the first time and stores nothing again, durably', async () => {
    const b = body(2);
    const id = msgId();
    const headers = signedHeaders([secret], id, b);
    const first = await send(b, headers);
    expect(first.status).toBe(202);
    const before = countAlerts();
    // An exact replay, and a retry as Standard Webhooks senders make it: same id, new timestamp, new signature.
    const replay = await send(b, headers);
    const retry = await send(b, signedHeaders([secret], id, b, Math.floor(Date.now() / 1000) + 5));
    for (const again of [replay, retry]) {
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
    }
    expect(countAlerts()).toBe(before);
    // Kept for longer than senders retry (more than a day), not just the 5-minute timestamp window.
    const row = stack.herald.db.$client.prepare('select expires_at from seen_webhook_ids where source_id = ? and message_id = ?').get(sourceId, id) as { expires_at: number };
    expect(row.expires_at).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    // Another Herald on the same database (as after a restart) answers the same.
    const second = await startStack({ dir: stack.dir });
    try {
      const res = await fetch(`${second.url}/v1/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...signedHeaders([secret], id, b) },
        body: b,
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('idempotent-replayed')).toBe('true');
      expect(await res.json()).toEqual(first.body);
    } finally {
      await second.close();
    }
    expect(countAlerts()).toBe(before);
    // A bad signature is still refused, whatever the id.
    expect((await send(b, { ...headers, 'webhook-signature': signedHeaders([newSigningSecret()], id, b)['webhook-signature']! })).status).toBe(401);
  });

  it('copies of one message in flight at once store it once and all get its answer', async () => {
    const b = body(7);
    const headers = signedHeaders([secret], msgId(), b);
    const before = countAlerts();
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(b, headers)));
    for (const a of answers) expect(a.status).toBe(202);
    expect(new Set(answers.map((a) => JSON.stringify(a.body.ids))).size).toBe(1);
    expect(countAlerts()).toBe(before + 1);
  });

  it('a message that stored nothing (503, or invalid) is judged again when retried', async () => {
    const b = body(6);
    const headers = signedHeaders([secret], msgId(), b);
    const acceptor = stack.herald.acceptor;
    const submit = acceptor.submit;
    acceptor.submit = () => Promise.reject(new Error('disk I/O error'));
    try {
      expect((await send(b, headers)).status).toBe(503);
    } finally {
      acceptor.submit = submit;
    }
    const before = countAlerts();
    const stored = await send(b, headers);
    expect(stored.status).toBe(202);
    const again = await send(b, headers);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(stored.body);
    expect(countAlerts()).toBe(before + 1);
    // An invalid body stores nothing either: the same message is judged again (and is still invalid).
    const bad = JSON.stringify({ service: 'x' });
    const h2 = signedHeaders([secret], msgId(), bad);
    expect((await send(bad, h2)).status).toBe(400);
    expect((await send(bad, h2)).status).toBe(400);
  });

  it('the same webhook-id from another source is not a replay', async () => {
    const other = await stack.admin('POST', '/v1/admin/sources', { name: 'signed-2' });
    const s2 = (await stack.admin('POST', `/v1/admin/sources/${other.body.id}/secrets`)).body.secret as string;
    const b = body(3);
    const id = msgId();
    expect((await send(b, signedHeaders([secret], id, b))).status).toBe(202);
    const res = await fetch(`${stack.url}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.body.token}`, 'content-type': 'application/json', ...signedHeaders([s2], id, b) },
      body: b,
    });
    expect(res.status).toBe(202);
  });

  it('key rotation: several signatures in one header, several secrets per source, the old secret removed', async () => {
    const oldSecret = secret;
    const added = await stack.admin('POST', `/v1/admin/sources/${sourceId}/secrets`);
    const newSecret = added.body.secret as string;
    const b = body(4);
    // The sender signs with an unknown and the new secret: one match is enough.
    expect((await send(b, signedHeaders([newSigningSecret(), newSecret], msgId(), b))).status).toBe(202);
    // Both secrets are valid during the rotation.
    expect((await send(b, signedHeaders([oldSecret], msgId(), b))).status).toBe(202);
    expect((await send(b, signedHeaders([newSecret], msgId(), b))).status).toBe(202);
    // End of the rotation: the old one stops working at once.
    const list = (await stack.admin('GET', `/v1/admin/sources/${sourceId}`)).body.secrets as { id: number }[];
    expect(list).toHaveLength(2);
    expect((await stack.admin('DELETE', `/v1/admin/sources/${sourceId}/secrets/${list[0]!.id}`)).status).toBe(204);
    expect((await send(b, signedHeaders([oldSecret], msgId(), b))).status).toBe(401);
    expect((await send(b, signedHeaders([newSecret], msgId(), b))).status).toBe(202);
    secret = newSecret;
  });

  it("imports the sender's own secret; refuses a malformed one and a duplicate", async () => {
    const mine = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const res = await stack.admin('POST', `/v1/admin/sources/${sourceId}/secrets`, { secret: mine });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBe(mine);
    expect((await stack.admin('POST', `/v1/admin/sources/${sourceId}/secrets`, { secret: mine })).status).toBe(409);
    const bad = await stack.admin('POST', `/v1/admin/sources/${sourceId}/secrets`, { secret: 'hunter2' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems[0].path).toBe('secret');
    // Shorter than 24 bytes once decoded: refused with a plain reason that repeats no part of it.
    const short = `whsec_${Buffer.from('0123456789abcdefghij').toString('base64')}`;
    const weak = await stack.admin('POST', `/v1/admin/sources/${sourceId}/secrets`, { secret: short });
    expect(weak.status).toBe(400);
    expect(weak.body).toEqual({
      error: 'invalid_request',
      message: 'this secret is only 20 bytes long; at least 24 are needed (let Herald generate one: send no secret)',
      problems: [{ path: 'secret', message: 'this secret is only 20 bytes long; at least 24 are needed (let Herald generate one: send no secret)' }],
    });
    expect((await stack.admin('POST', '/v1/admin/sources/999999/secrets')).status).toBe(404);
    const b = body(5);
    expect((await send(b, signedHeaders([mine], msgId(), b))).status).toBe(202);
  });

  it('an unsigned source stays unsigned: no headers needed', async () => {
    const plain = await stack.source();
    expect((await stack.post(plain, alert(1))).status).toBe(202);
  });

  it('a signed request in a sender format is verified before the format is read', async () => {
    const am = JSON.stringify({ version: '4' });
    const res = await fetch(`${stack.url}/v1/alerts?format=alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: am });
    expect(res.status).toBe(401);
  });
});
