import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com, the spec Svix published): a signed request carries
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`. Several signatures let a sender sign with
 * an old and a new secret during a key rotation; several secrets per source let Herald accept either.
 * Secrets are `whsec_<base64 of the key bytes>`.
 */
export const SECRET_PREFIX = 'whsec_';
/** Timestamps further than this from now (either way) are refused: the spec's recommended 5 minutes. */
export const TOLERANCE_SECONDS = 5 * 60;

/** A new secret: 32 random bytes, as `whsec_<base64>`. */
export const newSigningSecret = (): string => SECRET_PREFIX + randomBytes(32).toString('base64');

/** `whsec_…` → the key bytes; undefined when it is not a well-formed secret. */
export function secretKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const key = Buffer.from(b64, 'base64');
  return key.length >= 16 && key.length <= 64 ? key : undefined;
}

/** Imported secrets shorter than this (decoded) are refused: the spec's secrets are 24 to 64 bytes. */
export const MIN_SECRET_BYTES = 24;

/** Why a secret an admin imports is unfit, as one plain sentence (naming no part of it), or undefined. */
export function importedSecretProblem(secret: string): string | undefined {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  if (b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return `a secret is whsec_ followed by the base64 of ${MIN_SECRET_BYTES} to 64 bytes`;
  const bytes = Buffer.from(b64, 'base64').length;
  if (bytes < MIN_SECRET_BYTES) return `this secret is only ${bytes} bytes long; at least ${MIN_SECRET_BYTES} are needed (let Herald generate one: send no secret)`;
  if (!secretKey(secret)) return `a secret is whsec_ followed by the base64 of ${MIN_SECRET_BYTES} to 64 bytes`;
  return undefined;
}

/** The `v1,<base64>` signature of one message. */
export function sign(secret: string, id: string, timestamp: number | string, body: Buffer | string): string {
  const key = secretKey(secret);
  if (!key) throw new Error('not a whsec_ secret');
  return `v1,${hmac(key, id, String(timestamp), body).toString('base64')}`;
}

/** The three headers of a signed request (for Herald's own outbound webhooks and for tests). */
export function signedHeaders(secrets: string[], id: string, body: Buffer | string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, body)).join(' '),
  };
}

function hmac(key: Buffer, id: string, timestamp: string, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

export type Verified = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

/**
 * Checks a request's signature against the source's secrets, on the raw body bytes as received.
 * The answer's `reason` is plain and safe to send back (it names no secret).
 */
export function verifySignature(
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  secrets: string[],
  nowMs = Date.now(),
): Verified {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one('webhook-id');
  const ts = one('webhook-timestamp');
  const sigs = one('webhook-signature');
  const missing = [!id && 'webhook-id', !ts && 'webhook-timestamp', !sigs && 'webhook-signature'].filter(Boolean);
  if (missing.length) return { ok: false, reason: `this source requires signed requests (Standard Webhooks): missing ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}` };
  if (id!.length > 255) return { ok: false, reason: 'webhook-id is longer than 255 characters' };
  if (!/^\d{1,12}$/.test(ts!)) return { ok: false, reason: 'webhook-timestamp must be a Unix time in whole seconds' };
  const timestamp = Number(ts);
  const skew = Math.floor(nowMs / 1000) - timestamp;
  if (skew > TOLERANCE_SECONDS) return { ok: false, reason: `webhook-timestamp is ${skew} s old; at most ${TOLERANCE_SECONDS} s are accepted` };
  if (-skew > TOLERANCE_SECONDS) return { ok: false, reason: `webhook-timestamp is ${-skew} s in the future; at most ${TOLERANCE_SECONDS} s are accepted` };
  const given = sigs!
    .split(' ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  if (given.length === 0) return { ok: false, reason: 'webhook-signature has no v1 signature' };
  for (const secret of secrets) {
    const key = secretKey(secret);
    if (!key) continue;
    const expected = hmac(key, id!, ts!, body);
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return { ok: true, id: id!, timestamp };
  }
  return { ok: false, reason: 'no signature in webhook-signature matches a secret of this source (wrong secret, or the body was changed)' };
}
