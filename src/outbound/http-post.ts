import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** The most of a target's answer Herald reads: enough for a reason, never enough to hurt (a 300 MB body once did). */
export const RESPONSE_READ_LIMIT = 4096;

export type PostResult =
  | { kind: 'answered'; status: number; retryAfter: string | undefined; head: Buffer }
  | { kind: 'timeout' }
  | { kind: 'failed'; code: string };

/** A lookup that answers every name with the address that was checked, so the connection cannot go elsewhere. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_host, options, callback) => {
    // net asks for every address when it races families (autoSelectFamily); either way: only this one.
    if (options.all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/**
 * One POST to `url`, connected to `address` (already judged by the address policy) while the Host header
 * and TLS server name stay the URL's host. No redirects are followed and no connection is reused (a pooled
 * socket would be to an address judged earlier). At most RESPONSE_READ_LIMIT bytes of the answer are read,
 * then the socket is destroyed; `timeoutMs` bounds the whole exchange, body included.
 */
export function postPinned(
  target: { url: URL; address: string; family: 4 | 6 },
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  const { url } = target;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = client.request(
      {
        method: 'POST',
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        lookup: pinnedLookup(target.address, target.family),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answered = (): PostResult => {
          const retryAfter = res.headers['retry-after'];
          return { kind: 'answered', status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, head: Buffer.concat(chunks) };
        };
        res.on('data', (chunk: Buffer) => {
          const room = RESPONSE_READ_LIMIT - size;
          chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
          size += Math.min(chunk.length, room);
          if (size >= RESPONSE_READ_LIMIT) settle(answered());
        });
        res.on('end', () => settle(answered()));
        // The status arrived; a body cut short (reset, closed early) does not change it.
        res.on('error', () => settle(answered()));
        res.on('close', () => settle(answered()));
      },
    );
    req.on('error', (err: Error & { code?: string }) => settle({ kind: 'failed', code: err.code ?? err.name }));
    const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
    req.end(body);
  });
}
