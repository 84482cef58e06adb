import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodError, type z } from 'zod';
import { ServiceError } from '../../services/errors.js';
import type { Html, Renderable } from './html.js';
import { page, type Flash } from './layout.js';
import type { ConsoleSession } from './sessions.js';
import type { EmulatedDiscord } from './emulated.js';

/** A parsed form body (application/x-www-form-urlencoded): a field repeated is an array. */
export type FormBody = Record<string, string | string[] | undefined>;

const sessionOfRequest = new WeakMap<FastifyRequest, ConsoleSession>();

/** The helpers every console page uses: its session, rendering with the frame, and acting on a form. */
export class Kit {
  constructor(readonly emulated: EmulatedDiscord | undefined) {}

  /** Set by the console's session check for each request it let through. */
  attach(req: FastifyRequest, s: ConsoleSession): void {
    sessionOfRequest.set(req, s);
  }

  session(req: FastifyRequest): ConsoleSession {
    const s = sessionOfRequest.get(req);
    if (!s) throw new Error('console: a page ran without a session (the session check did not run)');
    return s;
  }

  /** Answers a page in the console's frame, with the flash the last action left (shown once). */
  show(req: FastifyRequest, reply: FastifyReply, p: { title: string; active: string; body: Renderable }): FastifyReply {
    const s = this.session(req);
    const flash = s.flash;
    s.flash = undefined;
    return this.send(reply, page({ ...p, csrf: s.csrf, flash, emulated: this.emulated !== undefined }));
  }

  send(reply: FastifyReply, doc: Html, status = 200): FastifyReply {
    return reply.code(status).type('text/html; charset=utf-8').send(doc.value);
  }

  /**
   * Runs a form's action and goes back to `back` (post/redirect/get) with its outcome as the flash: what
   * `fn` returns on success (a string, or a Flash when the outcome is itself bad news, e.g. a failed test send); on an error a person caused (a ServiceError: unknown id, conflict, bad
   * input; a form field zod refused) its one-line message. Anything else is Herald's fault: rethrown.
   */
  async act(req: FastifyRequest, reply: FastifyReply, back: string, fn: () => string | Flash | Promise<string | Flash>): Promise<FastifyReply> {
    const s = this.session(req);
    try {
      const outcome = await fn();
      s.flash = typeof outcome === 'string' ? { kind: 'ok', text: outcome } : outcome;
    } catch (err) {
      const text = personError(err);
      if (text === undefined) throw err;
      s.flash = { kind: 'error', text };
    }
    return reply.code(303).header('location', back).send();
  }
}

/** The one-line message of an error the person caused, or undefined for Herald's own failures. */
export function personError(err: unknown): string | undefined {
  // A field's problem names the field (the admin API puts it in `problems[].path`).
  if (err instanceof ServiceError) return err.status < 500 || err.status === 502 || err.status === 503 ? (err.status === 400 && err.path && !err.message.startsWith(err.path) ? `${err.path}: ${err.message}` : err.message) : undefined;
  if (err instanceof ZodError) return err.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; ');
  return undefined;
}

/** One field of a form, trimmed; undefined when absent or empty. */
export function field(body: FormBody | undefined, name: string): string | undefined {
  const v = body?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  const t = one?.trim();
  return t ? t : undefined;
}

/** Every value of a repeated field (checkboxes), empty ones dropped. */
export function fields(body: FormBody | undefined, name: string): string[] {
  const v = body?.[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => x.trim()).filter(Boolean);
}

/** Parses with a zod schema; its refusal becomes the flash (a ZodError is a person's error). */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  return schema.parse(value);
}

/** How many rows a list page (alerts, incidents) shows before its "next page" link. */
export const LIST_PAGE = 50;

/**
 * A list page's filters read from its query: what `schema` makes of it, or, when it refuses, its defaults and the
 * problem, which the page shows above the unfiltered list (a bad filter is said, not answered 400).
 */
export function listQuery<S extends z.ZodType>(schema: S, query: unknown): { filters: z.output<S>; problem?: string } {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return { filters: parsed.data };
  return { filters: schema.parse({}), problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

/** The link to a list page's next page: its query kept but `before_id`, which becomes the last row's id; none after a page that was not full. */
export function nextPageHref(path: string, query: unknown, rows: readonly { id: number }[]): string | undefined {
  if (rows.length !== LIST_PAGE) return undefined;
  const keep = new URLSearchParams();
  for (const [k, v] of Object.entries(query as Record<string, string | string[]>)) if (k !== 'before_id') for (const one of [v].flat()) if (one) keep.append(k, one);
  return `${path}?${keep.toString()}${keep.size ? '&' : ''}before_id=${rows.at(-1)!.id}`;
}

/** A positive integer id from a path parameter, or a ServiceError 404 a person sees as one line. */
export function idParam(raw: string, what: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ServiceError(404, 'not_found', `no ${what} with id ${raw}`);
  return n;
}
