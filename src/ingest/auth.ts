import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SourceStore } from '../store/sources.js';
import type { Format } from './adapters/index.js';

/** What the hook needs to know about a source besides its id: its default format and signing secrets. */
export interface SourceSettings {
  name: string;
  format: Format;
  secrets: string[];
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new source token: shown once to the admin, stored only as its hash. */
export const newSourceToken = (): string => `hrl_${randomBytes(24).toString('base64url')}`;

export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The hook's view of sources: a token to its source (by hash), a source's settings; the sources store caches both. */
export class SourceAuth {
  constructor(private readonly sources: Pick<SourceStore, 'idForTokenHash' | 'settings'>) {}

  /** The source's format and secrets. */
  settings(sourceId: number): SourceSettings | undefined {
    return this.sources.settings(sourceId) as SourceSettings | undefined;
  }

  sourceFor(token: string): number | undefined {
    return this.sources.idForTokenHash(hashToken(token));
  }
}

/** Constant-time comparison, so the admin token cannot be guessed byte by byte from timings. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message });
}
