import { describe, expect, it } from 'vitest';
import { ConsoleSessions, SESSION_TTL_MS } from '../src/http/console/sessions.js';

describe('console sessions', () => {
  it('keeps a session (a random id and CSRF token, never the same twice) until it expires, or is ended', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions(() => now);
    const a = sessions.create();
    const b = sessions.create();
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.get(a.id)).toBe(a);
    expect(sessions.get(undefined)).toBeUndefined();
    expect(sessions.get('made-up')).toBeUndefined();

    expect(sessions.csrfMatches(a, a.csrf)).toBe(true);
    expect(sessions.csrfMatches(a, b.csrf)).toBe(false);
    expect(sessions.csrfMatches(a, undefined)).toBe(false);
    expect(sessions.csrfMatches(a, [a.csrf])).toBe(false);

    sessions.destroy(b.id);
    expect(sessions.get(b.id)).toBeUndefined();
    now += SESSION_TTL_MS - 1;
    expect(sessions.get(a.id)).toBe(a);
    now += 1;
    expect(sessions.get(a.id)).toBeUndefined();
  });
});
