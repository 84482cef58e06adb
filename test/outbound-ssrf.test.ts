import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { decideTarget, EMPTY_ALLOWLIST, parseAllowlist, type ResolvedAddress, type Resolver } from '../src/outbound/address-policy.js';
import { spawnHerald } from './support/process.js';
import { startStack, type Stack } from './support/stack.js';

/** URLs whose host is (in any spelling) an address Herald must not reach, and what the refusal must say. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['http://127.0.0.1:9/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://127.1/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://2130706433/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://0x7f000001/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://0x7f.0.0.1/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://0177.0.0.1/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://[::1]/hook', /::1 is a loopback address/],
  ['http://[::ffff:127.0.0.1]/hook', /is a loopback address/],
  ['http://[::ffff:10.0.0.1]/hook', /is a private address/],
  ['http://0.0.0.0/hook', /0\.0\.0\.0 is an unspecified address/],
  ['http://0/hook', /0\.0\.0\.0 is an unspecified address/],
  ['http://[::]/hook', /:: is an unspecified address/],
  ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata address/],
  ['http://[::ffff:169.254.169.254]/latest', /is a cloud metadata address/],
  ['http://[fd00:ec2::254]/latest', /is a cloud metadata address/],
  ['http://169.254.1.1/x', /is a link-local address/],
  ['http://[fe80::1]/x', /is a link-local address/],
  ['http://10.1.2.3/x', /10\.1\.2\.3 is a private address/],
  ['http://172.16.0.1/x', /is a private address/],
  ['https://192.168.1.1/x', /is a private address/],
  ['http://[fc00::1]/x', /is a unique-local address/],
  ['http://[fd12:3456::1]/x', /is a unique-local address/],
  ['http://100.64.0.1/x', /is a carrier-grade NAT \(shared\) address/],
  ['http://224.0.0.1/x', /is a multicast address/],
  ['http://[ff02::1]/x', /is a multicast address/],
  ['http://[64:ff9b::7f00:1]/x', /is a NAT64 address/],
  ['http://255.255.255.255/x', /is a broadcast address/],
  ['http://user:pw@example.com/x', /must not contain a user name or password/],
  ['http://token@example.com/x', /must not contain a user name or password/],
  ['ftp://example.com/x', /must use http or https/],
  ['file:///etc/passwd', /must use http or https/],
];

/** A resolver for tests: names map to fixed answers; anything else does not exist. */
function fakeResolver(answers: Record<string, string[]>): Resolver {
  return async (host) => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('the address policy (pure decision, fake resolver)', () => {
  const resolve = fakeResolver({ 'hooks.example.com': ['203.0.114.7'], 'inside.example.com': ['10.0.0.7'], 'mixed.example.com': ['8.8.8.8', '192.168.0.3'] });

  it.each(FORBIDDEN)('refuses %s', async (url, reason) => {
    const d = await decideTarget(url, EMPTY_ALLOWLIST, resolve);
    expect(d).toMatchObject({ ok: false, transient: false });
    if (!d.ok) {
      expect(d.reason).toMatch(reason);
      expect(d.reason).not.toMatch(/hook$|meta-data|passwd|pw@/);
    }
  });

  it('allows a public address and a name that resolves only to public addresses, pinned to the checked address', async () => {
    expect(await decideTarget('https://8.8.8.8/x', EMPTY_ALLOWLIST, resolve)).toMatchObject({ ok: true, address: '8.8.8.8', family: 4 });
    expect(await decideTarget('https://[2606:4700::1111]/x', EMPTY_ALLOWLIST, resolve)).toMatchObject({ ok: true, address: '2606:4700::1111', family: 6 });
    const d = await decideTarget('https://hooks.example.com/services/T/B/secret', EMPTY_ALLOWLIST, resolve);
    expect(d).toMatchObject({ ok: true, address: '203.0.114.7' });
    if (d.ok) expect(d.url.hostname).toBe('hooks.example.com');
  });

  it('refuses a name resolving to an internal address, or to any internal address among public ones', async () => {
    const d = await decideTarget('https://inside.example.com/x', EMPTY_ALLOWLIST, resolve);
    expect(d).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(/inside\.example\.com resolves to 10\.0\.0\.7, a private address/) });
    expect(await decideTarget('https://mixed.example.com/x', EMPTY_ALLOWLIST, resolve)).toMatchObject({ ok: false, reason: expect.stringMatching(/192\.168\.0\.3, a private address/) });
  });

  it('a name that does not resolve is refused as transient (worth a retry at send time)', async () => {
    expect(await decideTarget('https://nowhere.example.com/x', EMPTY_ALLOWLIST, resolve)).toMatchObject({ ok: false, transient: true, reason: expect.stringMatching(/could not be resolved \(ENOTFOUND\)/) });
  });

  it('DNS rebinding: the same target decided again follows the new answer, and the address to connect to is the one just checked', async () => {
    let answer = ['203.0.114.9'];
    const rebinding: Resolver = async () => answer.map((address) => ({ address, family: 4 as const }));
    expect(await decideTarget('https://rebind.example.com/x', EMPTY_ALLOWLIST, rebinding)).toMatchObject({ ok: true, address: '203.0.114.9' });
    answer = ['169.254.169.254'];
    expect(await decideTarget('https://rebind.example.com/x', EMPTY_ALLOWLIST, rebinding)).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(/resolves to 169\.254\.169\.254, a cloud metadata address/) });
    answer = ['127.0.0.1'];
    expect(await decideTarget('https://rebind.example.com/x', EMPTY_ALLOWLIST, rebinding)).toMatchObject({ ok: false });
  });

  it('the allowlist admits listed addresses, ranges and host names, and nothing else', async () => {
    const r = parseAllowlist('127.0.0.1, 10.20.0.0/16, fd00::/8, receiver.internal');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const list = r.allowlist;
    const names = fakeResolver({ 'receiver.internal': ['192.168.5.5'], localhost: ['127.0.0.1'], other: ['127.0.0.2'] });
    expect(await decideTarget('http://127.0.0.1:8080/x', list, names)).toMatchObject({ ok: true, address: '127.0.0.1' });
    expect(await decideTarget('http://2130706433/x', list, names)).toMatchObject({ ok: true, address: '127.0.0.1' });
    expect(await decideTarget('http://[::ffff:127.0.0.1]/x', list, names)).toMatchObject({ ok: true });
    expect(await decideTarget('http://localhost/x', list, names)).toMatchObject({ ok: true, address: '127.0.0.1' });
    expect(await decideTarget('http://10.20.3.4/x', list, names)).toMatchObject({ ok: true });
    expect(await decideTarget('http://[fd00::5]/x', list, names)).toMatchObject({ ok: true });
    expect(await decideTarget('http://receiver.internal./x', list, names)).toMatchObject({ ok: true, address: '192.168.5.5' });
    expect(await decideTarget('http://127.0.0.2/x', list, names)).toMatchObject({ ok: false });
    expect(await decideTarget('http://10.21.0.1/x', list, names)).toMatchObject({ ok: false });
    expect(await decideTarget('http://other/x', list, names)).toMatchObject({ ok: false });
    expect(await decideTarget('http://user:pw@127.0.0.1/x', list, names)).toMatchObject({ ok: false });
  });
});

describe('HERALD_OUTBOUND_ALLOWLIST in the configuration', () => {
  it('accepts host names, IPv4, IPv6 and CIDR ranges', () => {
    const r = loadConfig({ HERALD_OUTBOUND_ALLOWLIST: ' 127.0.0.1 ,::1, 10.0.0.0/8,fd00::/8, hooks.internal ' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.outboundAllowlist.hosts).toEqual(['hooks.internal']);
    expect(loadConfig({}).ok).toBe(true);
  });

  it('a bad entry is one clear problem naming it', () => {
    const r = loadConfig({ HERALD_OUTBOUND_ALLOWLIST: '127.0.0.1, 2130706433, 10.0.0.0/33, http://x.example, 300.1.1.1' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toBe(
      'HERALD_OUTBOUND_ALLOWLIST must be comma-separated host names, IP addresses or CIDR ranges (not: "2130706433", "10.0.0.0/33", "http://x.example", "300.1.1.1")',
    );
  });

  it('the real process exits with code 2 and that one line', async () => {
    const p = await spawnHerald({ HERALD_OUTBOUND_ALLOWLIST: '10.0.0.0/99' }, { expectExit: true });
    expect(await p.exited).toBe(2);
    expect(p.output().trim().split('\n')).toEqual([
      'herald: config: HERALD_OUTBOUND_ALLOWLIST must be comma-separated host names, IP addresses or CIDR ranges (not: "10.0.0.0/99")',
    ]);
  });
});

describe('creating a target (admin API, no allowlist)', () => {
  let stack: Stack;
  let routeId: number;
  beforeAll(async () => {
    stack = await startStack();
    const ch = await stack.admin('POST', '/v1/admin/channels', { name: 'ssrf-ch', discord_channel_id: stack.emulator.createChannel({ name: 'ssrf-ch' }).id });
    routeId = (await stack.admin('POST', '/v1/admin/routes', { channel_id: ch.body.id, service: 'svc-ssrf' })).body.id;
  });
  afterAll(() => stack.close());

  const create = (url: string) => stack.admin('POST', `/v1/admin/routes/${routeId}/outbound`, { kind: 'slack', url });

  it.each(FORBIDDEN.filter(([u]) => /^https?:/.test(u)))('400 with a plain reason for %s', async (url, reason) => {
    const res = await create(url);
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual([{ path: 'url', message: expect.stringMatching(reason) }]);
    expect(res.body.message).toMatch(/^the url/);
    expect(res.body.message).not.toContain('\n');
  });

  it('400 for a host name that resolves to loopback (localhost, the system resolver)', async () => {
    const res = await create('http://localhost:8080/hook');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^the url's host localhost resolves to (127\.0\.0\.1|::1), a loopback address; Herald does not send to internal addresses \(HERALD_OUTBOUND_ALLOWLIST can allow it\)$/);
  });

  it('nothing refused is stored; a public address is accepted', async () => {
    expect((await stack.admin('GET', '/v1/admin/outbound')).body).toEqual([]);
    const ok = await create('https://8.8.8.8/services/T0/B0/xyz');
    expect(ok.status).toBe(201);
    expect((await stack.admin('GET', '/v1/admin/outbound')).body.map((t: { id: number }) => t.id)).toEqual([ok.body.id]);
    expect((await stack.admin('DELETE', `/v1/admin/outbound/${ok.body.id}`)).status).toBe(204);
  });
});
