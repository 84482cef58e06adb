import { desc } from 'drizzle-orm';
import type { AutocompleteInteraction } from 'discord.js';
import { alerts } from '../store/sqlite/schema.js';
import { describeHours } from '../domain/hours.js';
import type { Herald } from '../herald.js';
import { listAlerts } from '../services/alerts.js';
import { listChannels } from '../services/channels.js';
import { listRoutes, type RouteView } from '../services/routes.js';
import type { Choice } from './types.js';

const RECENT = 500;
const matches = (text: string, typed: string) => text.toLowerCase().includes(typed.trim().toLowerCase());

/** Distinct services of recent alerts (newest first), filtered by what is typed. */
export function serviceChoices(h: Pick<Herald, 'db'>, typed: string): Choice[] {
  const rows = h.db.select({ service: alerts.service }).from(alerts).orderBy(desc(alerts.id)).limit(RECENT).all();
  const seen = new Set<string>();
  for (const r of rows) if (matches(r.service, typed)) seen.add(r.service);
  return [...seen].slice(0, 25).map((s) => ({ name: s, value: s }));
}

export function describeRoute(r: RouteView): string {
  const parts = [`service ${r.service ?? '*'}`];
  if (r.severities) parts.push(r.severities.join('/'));
  if (r.environment) parts.push(`env ${r.environment}`);
  if (r.labels) parts.push(Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(','));
  if (r.business_hours) parts.push(`hours ${describeHours(r.business_hours)}`);
  return `#${r.id} → ${r.channel_name}: ${parts.join(', ')}`;
}

export function routeChoices(h: Pick<Herald, 'db'>, typed: string): Choice[] {
  return listRoutes(h)
    .map((r) => ({ name: describeRoute(r), value: r.id }))
    .filter((c) => matches(c.name, typed))
    .slice(0, 25);
}

/**
 * Herald channels in the interaction's server (its channels as the gateway announced them). A Herald
 * channel fed by a webhook pasted from another server is not among them.
 */
function channelsOfThisGuild(h: Pick<Herald, 'db' | 'outbox'>, i: AutocompleteInteraction): number[] {
  const here = i.guild?.channels.cache;
  if (!here) return [];
  return listChannels(h).filter((c) => here.has(c.discord_channel_id)).map((c) => c.id);
}

/** Recent alerts of this server's channels, newest first: value is the id as text ("12"), which findAlert and parseId take. */
export function alertChoices(h: Pick<Herald, 'db' | 'outbox'>, i: AutocompleteInteraction): Choice[] {
  const typed = String(i.options.getFocused() ?? '');
  return listAlerts(h, { limit: RECENT, channelIds: channelsOfThisGuild(h, i) })
    .map((a) => ({ name: `#${a.id} ${a.severity} ${a.service}: ${a.title}${a.dedup_key ? ` [${a.dedup_key}]` : ''}`, value: String(a.id) }))
    .filter((c) => matches(c.name, typed.replace(/^#/, '')) || c.value === typed.replace(/^#/, ''))
    .slice(0, 25);
}

/** Dispatches on the focused option's name, for commands sharing option names. */
export function standardChoices(i: AutocompleteInteraction, h: Pick<Herald, 'db' | 'outbox'>): Choice[] {
  const focused = i.options.getFocused(true);
  const typed = String(focused.value ?? '');
  if (focused.name === 'service') return serviceChoices(h, typed);
  if (focused.name === 'route') return routeChoices(h, typed);
  if (focused.name === 'alert') return alertChoices(h, i);
  return [];
}
