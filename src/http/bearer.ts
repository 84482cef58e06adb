import type { FastifyReply, FastifyRequest } from 'fastify';

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The 401 answer for a missing or wrong token, with the challenge RFC 6750 asks for. */
export function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message });
}
