import type { LifecycleOutcome } from '../services/lifecycle.js';
import type { MuteView } from '../services/mutes.js';

/**
 * What the bot tells a person whose action found it already done (an alert resolved or acknowledged
 * before, a second Mute press from a stale card): shown to them alone, naming who did it and when, so a
 * second press or command never announces the action again in public.
 */

const unix = (ms: number) => Math.floor(ms / 1000);
/** A Discord user as a mention (answers allow no mention to ping), else the recorded name. */
const who = (e: NonNullable<LifecycleOutcome['earlier']>) => (e.userId ? `<@${e.userId}>` : e.name ? e.name : 'someone');

export function alreadyDone(o: LifecycleOutcome, state: 'acknowledged' | 'resolved'): string {
  const e = o.earlier;
  const by = e ? ` by ${who(e)}${e.at ? ` <t:${unix(e.at)}:R>` : ''}` : '';
  return `Alert #${o.alert.id} "${o.alert.title}" is already ${state}${by}; nothing was changed.`;
}

export function alreadyMuted(alertId: number, m: MuteView): string {
  return `Alert #${alertId} is already muted by mute #${m.id} until <t:${unix(m.expires_at)}:f> (by ${m.created_by}); nothing was changed. /unmute ${m.id} ends it.`;
}
