import type { AutocompleteInteraction } from 'discord.js';
import { formatDuration } from '../domain/duration.js';
import { describeHours } from '../domain/hours.js';
import { cleanText } from '../discord/text.js';
import type { Store } from '../store/index.js';
import { listAlerts } from '../services/alerts.js';
import { listChannels } from '../services/channels.js';
import { listRoutes, type RouteView } from '../services/routes.js';
import type { AlertView } from '../services/views.js';
import type { Choice } from './types.js';

const RECENT = 500;
const matches = (text: string, typed: string) => text.toLowerCase().includes(typed.trim().toLowerCase());

/** Discord's limits on an autocomplete choice: its name, and a string value (a longer one fails the whole answer). */
export const CHOICE_NAME_MAX = 100;
export const CHOICE_VALUE_MAX = 100;

/**
 * A choice's name from text that may be a sender's (titles, services, dedup keys): on one line without
 * control or bidi characters (an override could make one alert read as another), and at most
 * CHOICE_NAME_MAX characters, cut with "…" where it splits no surrogate pair.
 */
export function choiceName(text: string): string {
  const clean = cleanText(text);
  if (clean.length <= CHOICE_NAME_MAX) return clean;
  let end = CHOICE_NAME_MAX - 1;
  const last = clean.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate whose pair would be cut off
  return `${clean.slice(0, end)}…`;
}

/** Distinct services of recent alerts (newest first), filtered by what is typed. */
/** What the choices read: recent alerts, routes, channels. */
type Deps = { store: Pick<Store, 'alerts' | 'routes' | 'channels'> };

export async function serviceChoices(h: Deps, typed: string): Promise<Choice[]> {
  const seen = new Set<string>();
  // A service longer than a choice's value may be cannot be offered (cut, it would name another glob).
  for (const service of await h.store.alerts.recentServices(RECENT)) if (service.length <= CHOICE_VALUE_MAX && matches(cleanText(service), typed)) seen.add(service);
  return [...seen].slice(0, 25).map((s) => ({ name: choiceName(s), value: s }));
}

/**
 * A route in one line. `where`: how its channel is shown: Herald's channel name by default (autocomplete
 * choices are plain text), its `<#id>` mention in answers (`channelMention`).
 */
export function describeRoute(r: RouteView, where: string = r.channel_name): string {
  const parts = [`service ${r.service ?? '*'}`];
  if (r.severities) parts.push(r.severities.join('/'));
  if (r.environment) parts.push(`env ${r.environment}`);
  if (r.labels) parts.push(Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(','));
  if (r.business_hours) parts.push(`hours ${describeHours(r.business_hours)}`);
  if (r.auto_resolve_after_ms !== undefined) parts.push(`stale after ${formatDuration(r.auto_resolve_after_ms)}`);
  if (r.threads) parts.push('threads');
  if (r.group_by) parts.push(`incidents by ${r.group_by.join(',')}`);
  if (r.group_wait_ms !== undefined) parts.push(`group_wait ${formatDuration(r.group_wait_ms)}`);
  return `#${r.id} → ${where}: ${parts.join(', ')}`;
}

export async function routeChoices(h: Deps, typed: string): Promise<Choice[]> {
  return (await listRoutes(h))
    .map((r) => ({ name: choiceName(describeRoute(r)), value: r.id }))
    .filter((c) => matches(c.name, typed))
    .slice(0, 25);
}

/**
 * Herald channels in the interaction's server (its channels as the gateway announced them). A Herald
 * channel fed by a webhook pasted from another server is not among them.
 */
async function channelsOfThisGuild(h: Deps, i: AutocompleteInteraction): Promise<number[]> {
  const here = i.guild?.channels.cache;
  if (!here) return [];
  return (await listChannels(h)).filter((c) => here.has(c.discord_channel_id)).map((c) => c.id);
}

/**
 * Which alerts each command can act on, so autocomplete offers nothing it would refuse (or that would do
 * nothing): resolve what is not resolved yet; acknowledge what fires unacknowledged; retract what is not
 * retracted; mute (by its key) what fires and was not itself silenced by a mute. None of them acts on a
 * retracted alert.
 */
export const ACTABLE = {
  resolve: (a: AlertView) => a.retracted_at === null && a.status !== 'resolved' && a.resolved_at === null,
  ack: (a: AlertView) => a.retracted_at === null && a.status === 'firing' && a.resolved_at === null && a.acknowledged_at === null,
  retract: (a: AlertView) => a.retracted_at === null,
  mute: (a: AlertView) => a.retracted_at === null && a.status === 'firing' && a.resolved_at === null && a.muted_by_mute_id === null,
} as const;

/**
 * Recent alerts of this server's channels that the command can act on (`actable`), newest first: value
 * is the id as text ("12"), which findAlert and parseId take.
 */
export async function alertChoices(h: Deps, i: AutocompleteInteraction, actable: (a: AlertView) => boolean): Promise<Choice[]> {
  const typed = String(i.options.getFocused() ?? '');
  return (await listAlerts(h, { limit: RECENT, channelIds: await channelsOfThisGuild(h, i) }))
    .filter(actable)
    .map((a) => ({ name: choiceName(`#${a.id} ${a.severity} ${a.service}: ${a.title}${a.dedup_key ? ` [${a.dedup_key}]` : ''}`), value: String(a.id) }))
    .filter((c) => matches(c.name, typed.replace(/^#/, '')) || c.value === typed.replace(/^#/, ''))
    .slice(0, 25);
}

/** Dispatches on the focused option's name, for commands sharing option names. */
export async function standardChoices(i: AutocompleteInteraction, h: Deps): Promise<Choice[]> {
  const focused = i.options.getFocused(true);
  const typed = String(focused.value ?? '');
  if (focused.name === 'service') return await serviceChoices(h, typed);
  if (focused.name === 'route') return routeChoices(h, typed);
  if (focused.name === 'alert') return alertChoices(h, i, ACTABLE.mute);
  return [];
}
