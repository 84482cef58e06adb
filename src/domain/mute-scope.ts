import picomatch from 'picomatch';
import type { Severity } from './alert.js';

/**
 * Which mutes are broad enough to need an admin rather than an on-call person: one that would silence
 * every service, or one aimed at a P0 (the page that must not be silenced by one tired click).
 * Pure: the caller looks up the route or the alert a mute names.
 */

/**
 * Names as different as services get. A glob matching all of them is taken as "every service": `*`,
 * `**`, `*?*` and the like, which a literal check for "*" would miss. (No "/" among them: `*` stops at
 * one, yet it is the very pattern meant by "every service".)
 */
const PROBES = ['a', 'Z', '0', '-', '_', 'payments-api', 'db.primary', '.hidden', 'x y'];

export function matchesEveryService(glob: string | null): boolean {
  if (glob === null || glob.trim() === '') return true; // no service filter at all
  const match = picomatch(glob.trim(), { nocase: true, dot: true });
  return PROBES.every((name) => match(name));
}

export type MuteTarget =
  | { kind: 'service'; glob: string }
  | { kind: 'route'; service: string | null }
  | { kind: 'alert'; severity: Severity };

/** Why this mute needs an admin, as the end of a sentence ("You need … to mute every service"), or undefined when on-call may. */
export function broadMuteReason(t: MuteTarget): string | undefined {
  if (t.kind === 'service' && matchesEveryService(t.glob)) return 'to mute every service';
  if (t.kind === 'route' && matchesEveryService(t.service)) return 'to mute a route without a service filter (that silences every service)';
  if (t.kind === 'alert' && t.severity === 'P0') return 'to mute a P0 alert';
  return undefined;
}
