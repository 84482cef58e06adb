/**
 * An incident's card (issue 10 §1; docs/incidents.md): one message per incident per channel, edited live
 * as members join, repeat, resolve or are retracted. Pure, like every card: the members given are those
 * of this channel's card (the alerts of its message), as they are now.
 * - title: the worst firing severity, the incident's title (group labels / group name), e.g.
 *   `[P1] alertname=DiskFull, cluster=eu1`; `[RESOLVED] …` once no member fires;
 * - colour: that worst severity's (resolved: green);
 * - a counts line (firing, acknowledged, resolved) and one line per member: severity, service, title, since
 *   (a Discord timestamp), its state and `#id`; worst first, then newest;
 * - when the lines do not fit Discord's limits (4096 per description, 6000 in all), the worst and newest are
 *   shown and the card says how many more, and where all of them are (`/alert show`, the card's thread).
 * Sender text goes through `discord/text.ts` before it is measured; nothing pings (`allowed_mentions` empty).
 */
import { type Embed, MESSAGE_LIMITS as L } from '../discord/limits.js';
import type { WebhookMessage } from '../discord/message.js';
import { senderMarkdown } from '../discord/text.js';
import { truncateEnd } from '../discord/truncate.js';
import { severityRank } from '../domain/alert.js';
import { isResolved, isRetracted, type StatefulAlert } from '../domain/alert-state.js';
import { incidentState } from '../domain/incidents.js';
import { RESOLVED_COLOR, SEVERITY_COLOR } from './alert-card.js';
import { incidentButtons } from './buttons.js';
import { alertMessage } from './envelope.js';

/** A member line shows at most this much of its title and service. */
export const MEMBER_TITLE_MAX = 120;
export const MEMBER_SERVICE_MAX = 40;
/**
 * The description's share of the 6000 characters: the member lines and the "and N more" line. The rest is
 * the title (at most 256) and the footer, so the card fits with room to spare.
 */
export const MEMBER_LINES_BUDGET = L.embedDescription - 96;

export interface IncidentCardInput {
  id: number;
  title: string;
}

export interface IncidentCardOptions {
  username: string;
  /** Posted by an application-owned webhook: the card carries the incident's buttons. */
  buttons: boolean;
  /** The card has a thread (threads routes, forum posts): "and N more" points to it too. */
  thread?: boolean;
  /** Until when the incident's group is muted (store/incidents.ts `mutedUntil`): the card says so, and has no Mute button. */
  mutedUntil?: number | null;
  /** A line above the counts (an incident's page says why it pages): counted in the members' budget. */
  headline?: string;
}

const oneLine = (s: string | null | undefined, max: number) => truncateEnd(senderMarkdown(s ?? '').trim(), max) || '—';
const stamp = (ms: number, style: 'R' | 'f' = 'R') => `<t:${Math.floor(ms / 1000)}:${style}>`;

/** One member as one line: severity, service, title, since, its state, `#id` (the id last, so a search finds it). */
export function memberLine(a: StatefulAlert): string {
  const core = `\`${a.severity}\` **${oneLine(a.service, MEMBER_SERVICE_MAX)}** · ${oneLine(a.title, MEMBER_TITLE_MAX)}`;
  const id = `#${a.id}`;
  if (isRetracted(a)) return `~~${core}~~ · retracted · ${id}`;
  if (isResolved(a)) return `~~${core}~~ · resolved${a.resolvedAt ? ` ${stamp(a.resolvedAt)}` : ''} · ${id}`;
  const since = `since ${stamp(a.receivedAt)}`;
  if (a.acknowledgedAt) return `${core} · ${since} · acked · ${id}`;
  return `${core} · ${since} · ${id}`;
}

/** Worst first (firing before resolved, then severity), then newest: what the card keeps when not all fit. */
export function memberOrder(a: StatefulAlert, b: StatefulAlert): number {
  const rank = (x: StatefulAlert) => (isRetracted(x) ? 2 : isResolved(x) ? 1 : 0);
  return rank(a) - rank(b) || severityRank(a.severity) - severityRank(b.severity) || b.receivedAt - a.receivedAt || b.id - a.id;
}

/**
 * The member lines that fit `budget` characters, worst and newest first, and how many were left out. A line
 * saying how many more (and where to see them) is counted in the budget whenever one is left out.
 */
export function fitMembers(members: StatefulAlert[], budget: number, more: (n: number) => string): { lines: string[]; left: number } {
  const sorted = [...members].sort(memberOrder);
  const lines = sorted.map(memberLine);
  const total = lines.reduce((n, l, i) => n + l.length + (i > 0 ? 1 : 0), 0);
  if (total <= budget) return { lines, left: 0 };
  const kept: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const left = lines.length - i - 1;
    const cost = lines[i]!.length + (kept.length > 0 ? 1 : 0);
    // Room for this line and, should more follow, for the line that says so.
    const tail = left > 0 ? more(left).length + 1 : 0;
    if (used + cost + tail > budget) break;
    kept.push(lines[i]!);
    used += cost;
  }
  return { lines: kept, left: lines.length - kept.length };
}

/** The incident's card: one embed (title, colour, counts, member lines), and the incident's buttons while it fires. */
export function renderIncidentCard(incident: IncidentCardInput, members: StatefulAlert[], opts: IncidentCardOptions): WebhookMessage {
  // Once each (a member may have two deliveries on the card: its severity went up), deleted retractions left out.
  const seen = new Set<number>();
  const shown = members.filter((a) => !(a.retractedAt && a.retractMode === 'delete') && !seen.has(a.id) && seen.add(a.id) !== undefined);
  const s = incidentState(shown);
  const resolved = s.firing === 0;
  const prefix = resolved ? '[RESOLVED]' : `[${s.worst ?? 'P2'}]`;
  const title = truncateEnd(`${prefix} ${senderMarkdown(incident.title).trim() || `incident #${incident.id}`}`, L.embedTitle);
  const counts = [
    `**${s.firing}** firing`,
    ...(s.acknowledged ? [`**${s.acknowledged}** acknowledged`] : []),
    `**${s.resolved}** resolved`,
    ...(s.retracted ? [`${s.retracted} retracted`] : []),
  ].join(' · ');
  const muted = !resolved && opts.mutedUntil ? opts.mutedUntil : null;
  const state = [
    resolved ? `Resolved${s.resolvedAt ? ` ${stamp(s.resolvedAt)}` : ''}: its last firing member resolved.` : s.isAcknowledged ? 'Acknowledged: every firing member is.' : undefined,
    muted ? `🔕 Muted until ${stamp(muted, 'f')}: later alerts of this group are recorded, not posted.` : undefined,
  ]
    .filter((l) => l !== undefined)
    .join('\n');
  const where = opts.thread ? "this card's thread" : 'the thread, when threads are on';
  const more = (n: number) => `… and **${n} more**: see each with \`/alert show <id>\`, all in ${where} or \`GET /v1/admin/incidents/${incident.id}\``;
  const head = [...(opts.headline ? [opts.headline, ''] : []), counts, ...(state ? [state] : [])].join('\n');
  const { lines, left } = fitMembers(shown, MEMBER_LINES_BUDGET - head.length - 2, more);
  const description = [head, '', ...lines, ...(left > 0 ? [more(left)] : [])].join('\n');
  const first = shown.reduce((t, a) => Math.min(t, a.receivedAt), Infinity);
  const embed: Embed = {
    title,
    description: truncateEnd(description, L.embedDescription),
    color: resolved ? RESOLVED_COLOR : SEVERITY_COLOR[s.worst ?? 'P2'],
    footer: { text: `incident #${incident.id} · ${shown.length} alerts${Number.isFinite(first) ? ' · since' : ''}` },
    ...(Number.isFinite(first) ? { timestamp: new Date(first).toISOString() } : {}),
  };
  const msg = alertMessage(shown.length ? shown : members, [embed], opts.username);
  if (opts.buttons) msg.components = incidentButtons(incident.id, s, muted !== null);
  return msg;
}

/** Why an incident pages: an escalation step (its mention), or a member whose severity rose to P0/P1. */
export type IncidentPageReason = { kind: 'escalation' } | { kind: 'raised'; member: StatefulAlert };

export interface IncidentPageOptions extends IncidentCardOptions {
  /** The incident's card is already in this channel: the page is short and names it (the card is the one live place). */
  cardHere: boolean;
  reason: IncidentPageReason;
}

/**
 * The message an incident pages with (docs/incidents.md, "Escalation per incident"): an escalation step's
 * mention, or a member risen to P0/P1. Where the incident's card is already in the channel, a short message
 * that names it (severity, title, counts, where to act): the card stays the one place that shows the state, and
 * a second full card would go stale beside it. Where it is not (a step that pages another channel), the
 * incident's card itself, every member, with its buttons. The caller adds the mention (`withMention`).
 */
export function renderIncidentPage(incident: IncidentCardInput, members: StatefulAlert[], opts: IncidentPageOptions): WebhookMessage {
  const raised = opts.reason.kind === 'raised' ? opts.reason.member : undefined;
  const headline = raised
    ? `⬆️ #${raised.id} rose to \`${raised.severity}\`: ${memberLine(raised)}`
    : `📟 Escalation: incident #${incident.id} is not acknowledged.`;
  if (!opts.cardHere) return renderIncidentCard(incident, members, { ...opts, headline });
  const shown = members.filter((a) => !(a.retractedAt && a.retractMode === 'delete'));
  const s = incidentState(shown);
  const resolved = s.firing === 0;
  const prefix = resolved ? '[RESOLVED]' : `[${s.worst ?? 'P2'}]`;
  const counts = [`**${s.firing}** firing`, ...(s.acknowledged ? [`**${s.acknowledged}** acknowledged`] : []), `**${s.resolved}** resolved`].join(' · ');
  const embed: Embed = {
    title: truncateEnd(`${prefix} ${senderMarkdown(incident.title).trim() || `incident #${incident.id}`}`, L.embedTitle),
    description: truncateEnd(
      `${headline}\n${counts}\n\nIts card in this channel (footer \`incident #${incident.id}\`) is kept up to date; its buttons act on every member. One alert: \`/alert show <id>\`.`,
      L.embedDescription,
    ),
    color: resolved ? RESOLVED_COLOR : SEVERITY_COLOR[s.worst ?? 'P2'],
    footer: { text: `page for incident #${incident.id}` },
  };
  return alertMessage(shown.length ? shown : members, [embed], opts.username);
}
