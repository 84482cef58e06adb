import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * Where an outbound target may point (SSRF). A target's URL comes from whoever holds the admin token,
 * and Herald posts to it from inside the operator's network: without this, a target could reach the
 * loopback interface, the LAN or a cloud metadata service. Only public unicast addresses pass, unless the
 * operator's HERALD_OUTBOUND_ALLOWLIST names the host, the address or a range containing it.
 *
 * The same decision runs at creation and before every send, against the addresses the name resolves to
 * then; the sender connects to the address that was checked (DNS rebinding cannot slip in between).
 */

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

export interface OutboundAllowlist {
  /** Host names, lower case, without a trailing dot: trusted whatever they resolve to. */
  hosts: readonly string[];
  /** Addresses (as /32 or /128) and CIDR ranges that may be sent to. */
  ranges: ReadonlyArray<readonly [Ip, number]>;
}

export const EMPTY_ALLOWLIST: OutboundAllowlist = { hosts: [], ranges: [] };

/** A host name as DNS spells it; the last label has a letter (an all-digit name is read as an IPv4 address by URL parsers). */
const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9-]*[a-z][a-z0-9-]*$/;

/** Parses HERALD_OUTBOUND_ALLOWLIST: comma-separated host names, IP addresses (dotted IPv4 or IPv6) and CIDR ranges. */
export function parseAllowlist(raw: string | undefined): { ok: true; allowlist: OutboundAllowlist } | { ok: false; bad: string[] } {
  const hosts: string[] = [];
  const ranges: Array<readonly [Ip, number]> = [];
  const bad: string[] = [];
  for (const entry of (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const e = entry.toLowerCase().replace(/\.$/, '');
    if (e.includes('/')) {
      if (ipaddr.IPv4.isValidCIDRFourPartDecimal(e) || ipaddr.IPv6.isValidCIDR(e)) ranges.push(ipaddr.parseCIDR(e));
      else bad.push(entry);
    } else if (ipaddr.IPv4.isValidFourPartDecimal(e) || ipaddr.IPv6.isValid(e)) {
      const ip = ipaddr.process(e);
      ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else if (HOST_NAME.test(e)) {
      hosts.push(e);
    } else {
      bad.push(entry);
    }
  }
  return bad.length ? { ok: false, bad } : { ok: true, allowlist: { hosts, ranges } };
}

/** Words for the ranges ipaddr.js names, for a person reading the refusal. */
const RANGE_WORDS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (shared) address',
  private: 'a private address',
  uniqueLocal: 'a unique-local address',
  deprecatedSiteLocal: 'a site-local address',
  ipv4Mapped: 'an IPv4-mapped address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a NAT64 address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
};

/**
 * Cloud metadata services that sit on otherwise ordinary addresses (169.254.169.254 and fd00:ec2::254
 * are already link-local / unique-local; these are named so the refusal says what they are).
 */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '168.63.129.16', '192.0.0.192', 'fd00:ec2::254']);

/** IPv6's global unicast block: anything outside it (IPv4-compatible `::a.b.c.d`, reserved space) is refused too. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * Why Herald must not connect to this address, or null when it may. `address` is a literal IP;
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries.
 */
export function forbiddenAddress(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const ip = ipaddr.process(address);
  if (METADATA.has(ip.toString())) return 'a cloud metadata address';
  const range = ip.range();
  if (range !== 'unicast') return RANGE_WORDS[range] ?? 'a reserved address';
  if (ip.kind() === 'ipv6' && !ip.match(GLOBAL_UNICAST_V6)) return 'a reserved address';
  return null;
}

function allowedByList(address: string, list: OutboundAllowlist): boolean {
  const ip = ipaddr.process(address);
  return list.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Every address a host name resolves to (the system resolver by default; tests pass their own). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export type TargetDecision =
  | { ok: true; url: URL; address: string; family: 4 | 6 }
  /** `transient`: the name could not be resolved just now (worth a retry); otherwise the URL itself is refused. */
  | { ok: false; reason: string; transient: boolean };

const refuse = (reason: string, transient = false): TargetDecision => ({ ok: false, reason, transient });
const EXCEPTIONS = 'HERALD_OUTBOUND_ALLOWLIST can allow it';

/**
 * Decides whether Herald may POST to `rawUrl` now, and to which address. The URL is parsed as the sender
 * parses it (WHATWG), so decimal, octal, hex and bracketed forms of an address are judged as the address
 * they are. Reasons are one sentence naming the host, never the path (a Slack URL's path is its token).
 * A name is refused if any address it resolves to is forbidden: the connection could go to any of them.
 */
export async function decideTarget(rawUrl: string, allowlist: OutboundAllowlist, resolve: Resolver): Promise<TargetDecision> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return refuse('the url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse('the url must use http or https');
  if (url.username || url.password) return refuse('the url must not contain a user name or password');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const name = host.replace(/\.$/, '');

  if (ipaddr.isValid(host)) {
    const why = forbiddenAddress(host);
    if (why && !allowedByList(host, allowlist)) return refuse(`the url's host ${host} is ${why}; Herald does not send to internal addresses (${EXCEPTIONS})`);
    return { ok: true, url, address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 };
  }

  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(name);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return refuse(`the url's host ${name} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`, true);
  }
  if (addresses.length === 0) return refuse(`the url's host ${name} could not be resolved`, true);
  if (!allowlist.hosts.includes(name)) {
    for (const a of addresses) {
      const why = forbiddenAddress(a.address);
      if (why && !allowedByList(a.address, allowlist)) {
        return refuse(`the url's host ${name} resolves to ${a.address}, ${why}; Herald does not send to internal addresses (${EXCEPTIONS})`);
      }
    }
  }
  const first = addresses[0]!;
  return { ok: true, url, address: first.address, family: first.family };
}

/** The allowlist and resolver Herald decides with; `resolve` is replaceable so tests can play a DNS server. */
export class OutboundAddressGuard {
  constructor(
    private readonly allowlist: OutboundAllowlist,
    public resolve: Resolver = systemResolver,
  ) {}

  decide(url: string): Promise<TargetDecision> {
    return decideTarget(url, this.allowlist, (host) => this.resolve(host));
  }
}
