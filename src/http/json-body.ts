import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';

/**
 * Herald's one JSON body parser, for every route (the alert hook and the admin API alike):
 * - the raw bytes are kept on `req.rawBody` (Standard Webhooks signatures are over the bytes as sent);
 * - a declared charset other than UTF-8 is 415: JSON on the wire is UTF-8 (RFC 8259), and reading
 *   latin1 bytes as UTF-8 would store mangled text;
 * - bytes that are not valid UTF-8 are 400, rather than silently replaced with U+FFFD;
 * - `__proto__` and `constructor.prototype` keys are 400 (secure-json-parse, as fastify's own parser).
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const raw = body as Buffer;
    req.rawBody = raw;
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(bodyError(415, `charset "${charset.slice(0, 40)}" is not supported: send the JSON body as UTF-8 (charset=utf-8, or no charset)`), undefined);
    }
    if (raw.length === 0) return done(bodyError(400, 'body is empty: send JSON, or no Content-Type'), undefined);
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return done(bodyError(400, 'body is not valid UTF-8'), undefined);
    }
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const forbidden = /forbidden prototype property/.test((err as Error).message);
      done(bodyError(400, forbidden ? 'body has a "__proto__" or "constructor.prototype" key; such keys are refused' : `body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}

/** Throws on bytes that are not UTF-8 instead of replacing them. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The charset parameter of a Content-Type header, lower-cased, or undefined when there is none. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2] ?? '').toLowerCase() : undefined;
}

/** An error the server's error handler answers with this status and message (see server.ts). */
export class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}
const bodyError = (status: number, message: string) => new BodyError(status, message);

declare module 'fastify' {
  interface FastifyRequest {
    /** The body as received, for signature checks. */
    rawBody?: Buffer;
  }
}
