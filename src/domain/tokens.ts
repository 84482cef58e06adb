import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Source tokens are stored and looked up only as this hash (SHA-256, hex): the database never holds one. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new source token: shown once to the admin, stored only as its hash. */
export const newSourceToken = (): string => `hrl_${randomBytes(24).toString('base64url')}`;

/** Constant-time comparison, so the admin token cannot be guessed byte by byte from timings. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
