import { CliFailure, UsageError } from './errors.js';

/** How long one request to Herald may take before the command gives up. */
const TIMEOUT_MS = 15_000;

interface Refusal {
  error?: string;
  message?: string;
  problems?: { path: string; message: string }[];
}

export interface HeraldClient {
  url: string;
  /** A JSON request with the given bearer token (the admin token unless `token` says otherwise); resolves to the parsed answer. */
  request<T = unknown>(method: string, path: string, opts?: { body?: unknown; token?: string }): Promise<T>;
}

/**
 * A client for a running Herald's HTTP API. Every failure is one plain sentence: not reachable names the
 * URL (exit 1), a 400 lists Herald's problems (exit 2), other refusals carry Herald's message (exit 1).
 * Tokens go only into the Authorization header, never into a message.
 */
export function heraldClient(where: string, url: string, adminToken: string): HeraldClient {
  return {
    url,
    async request<T>(method: string, path: string, opts: { body?: unknown; token?: string } = {}): Promise<T> {
      let res: Response;
      try {
        res = await fetch(url + path, {
          method,
          headers: { authorization: `Bearer ${opts.token ?? adminToken}`, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        throw new CliFailure(`${where}: cannot reach Herald at ${url} (${networkCause(err)}); is it running? (--url or HERALD_URL sets the address)`);
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        throw new CliFailure(`${where}: ${url} answered ${res.status} with something that is not JSON: is it Herald?`);
      }
      if (res.ok) return body as T;
      throw refusal(where, url, res.status, (body ?? {}) as Refusal, opts.token !== undefined);
    },
  };
}

function refusal(where: string, url: string, status: number, body: Refusal, sourceToken: boolean): Error {
  const said = body.message ?? body.error ?? `HTTP ${status}`;
  if (status === 401) {
    return new CliFailure(
      sourceToken
        ? `${where}: Herald at ${url} refused the source token (401 ${body.error ?? 'unauthorized'}): check HERALD_SOURCE_TOKEN`
        : `${where}: Herald at ${url} refused the admin token (401): check HERALD_ADMIN_TOKEN`,
    );
  }
  if (status === 400 && body.problems?.length) {
    return new UsageError(`${where}: Herald refused the request: ${body.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
  }
  if (status === 400) return new UsageError(`${where}: Herald refused the request: ${said}`);
  if (status === 404 && (body.error === undefined || /^no route /.test(body.message ?? ''))) return new CliFailure(`${where}: ${url} has no such endpoint (404): is it Herald, and as new as this CLI?`);
  return new CliFailure(`${where}: ${said} (HTTP ${status})`);
}

/** What fetch's error says about the network, in a few words (undici hides it in `cause`). */
function networkCause(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
