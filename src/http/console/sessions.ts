import { randomBytes } from 'node:crypto';
import { sameSecret } from '../../domain/tokens.js';

/** How long a console session lasts after login. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Sessions kept at most (each needed the admin token; the oldest goes first beyond this). */
const MAX_SESSIONS = 1000;

export interface ConsoleSession {
  id: string;
  /** The token every form of this session carries and every POST must send back (CSRF). */
  csrf: string;
  expiresAt: number;
  /** The outcome of the last action, shown once on the next page (post, redirect, get). */
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

/**
 * Console sessions, kept in memory: the cookie holds a random id (never the admin token), the server
 * keeps its CSRF token and expiry. A restart logs everyone out, which a console can afford.
 */
export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly clock: () => number = Date.now) {}

  create(): ConsoleSession {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const s = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: this.clock() + SESSION_TTL_MS };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The session of this cookie value, while it has not expired. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** Whether `token` is this session's CSRF token (compared in constant time). */
  csrfMatches(s: ConsoleSession, token: unknown): boolean {
    return typeof token === 'string' && sameSecret(token, s.csrf);
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}
