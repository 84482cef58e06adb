/**
 * Storm mode's two messages (docs/delivery.md "Storms"), pure like every card:
 * - a compact storm message: one line per alert (severity, service, title, `#id`, its state), as many
 *   lines as fit in embed descriptions (4096 each, at most 10 embeds, 6000 characters in all);
 * - the storm's summary card, edited in place: counts by severity and service, first and last arrival,
 *   where to see every alert, and, once the backlog is gone, that the storm is over.
 * Sender text goes through `discord/text.ts` (escaped, cleaned, one line) before it is measured, and is
 * cut only where `truncate.ts` may cut. Nothing here can ping: `allowed_mentions` parses nothing.
 */
import { type Embed, MESSAGE_LIMITS as L, SUPPRESS_NOTIFICATIONS } from '../discord/limits.js';
import type { WebhookMessage } from '../discord/message.js';
import { senderMarkdown, wellFormed } from '../discord/text.js';
import { truncateEnd } from '../discord/truncate.js';
import { FORBIDDEN_USERNAME } from '../discord/limits.js';
import { severityRank, type Severity } from '../domain/alert.js';
import { isResolved, isRetracted, type StatefulAlert } from '../domain/alert-state.js';
import { RESOLVED_COLOR, SEVERITY_COLOR } from './alert-card.js';
import type { StormTally } from '../domain/storm.js';

/** A compact line shows at most this much of an alert's title and service: a line per alert, not a card. */
export const COMPACT_TITLE_MAX = 100;
export const COMPACT_SERVICE_MAX = 40;
/** Shown under the lines of every compact message. */
export const COMPACT_FOOTER = 'Storm mode: one line per P2/P3 alert; P0/P1 keep their own cards. Full card: /alert show <id>';
/** Services named on the summary card; the rest are counted as "n more". */
const SUMMARY_SERVICES = 10;

const oneLine = (s: string | null | undefined, max: number) => truncateEnd(senderMarkdown(s ?? '').trim(), max) || '—';

/** One alert as one line: `P3` · service · title · state · #id (the id last, so a reader's eye and a search find it). */
export function compactLine(a: StatefulAlert): string {
  const core = `\`${a.severity}\` **${oneLine(a.service, COMPACT_SERVICE_MAX)}** · ${oneLine(a.title, COMPACT_TITLE_MAX)}`;
  const id = `#${a.id}`;
  if (isRetracted(a)) return `~~${core}~~ · retracted · ${id}`;
  if (isResolved(a)) return `~~${core}~~ · resolved · ${id}`;
  if (a.acknowledgedAt || a.acknowledgedBy) return `${core} · acked · ${id}`;
  return `${core} · ${id}`;
}

/** Whether the line of `a` is still shown (a retraction that deletes removes it). */
const shown = (a: StatefulAlert) => !(a.retractedAt && a.retractMode === 'delete');

function envelope(embeds: Embed[], username: string, silent: boolean): WebhookMessage {
  const msg: WebhookMessage = { embeds, allowed_mentions: { parse: [] } };
  const name = truncateEnd(wellFormed((username ?? '').trim()), L.username);
  if (name.length > 0 && !FORBIDDEN_USERNAME.test(name)) msg.username = name;
  if (silent) msg.flags = SUPPRESS_NOTIFICATIONS;
  return msg;
}

/**
 * As many alerts as fit, in order, as lines of one message: descriptions of up to 4096 characters, a new
 * embed when one is full, at most 10 embeds and 6000 characters in all (the footer included). Always takes
 * the first. Posted silently: a storm notifies once, with its summary card. The colour is that of the most
 * severe firing line.
 */
export function packCompact(alerts: StatefulAlert[], username: string): { taken: number; message: WebhookMessage } {
  if (alerts.length === 0) throw new RangeError('packCompact needs at least one alert');
  const descriptions: string[][] = [[]];
  let embedChars = 0;
  let total = COMPACT_FOOTER.length;
  let taken = 0;
  for (const a of alerts) {
    const line = compactLine(a);
    const cost = line.length + (embedChars > 0 ? 1 : 0);
    if (total + cost > L.embedsTotal) break;
    if (embedChars + cost > L.embedDescription) {
      if (descriptions.length === L.embeds) break;
      descriptions.push([]);
      embedChars = 0;
      total += line.length;
      embedChars = line.length;
    } else {
      total += cost;
      embedChars += cost;
    }
    descriptions.at(-1)!.push(line);
    taken++;
  }
  return { taken, message: compactMessage(alerts.slice(0, taken), descriptions, username) };
}

/**
 * An edit of a compact message: its alerts' lines as they are now, in the order posted; undefined when no
 * line is left (every alert retracted with delete: the message goes). It never holds more than was posted,
 * and a line's state marker is short, so it fits where the first post did; if not, the tail is cut off the
 * edit (the alerts keep their deliveries and `/alert show`).
 */
export function renderCompactEdit(alerts: StatefulAlert[], username: string): WebhookMessage | undefined {
  const visible = alerts.filter(shown);
  if (visible.length === 0) return undefined;
  return packCompact(visible, username).message;
}

function compactMessage(alerts: StatefulAlert[], descriptions: string[][], username: string): WebhookMessage {
  const firing = alerts.filter((a) => !isResolved(a) && !isRetracted(a));
  const worst = firing.reduce<Severity | undefined>((w, a) => (w === undefined || severityRank(a.severity) < severityRank(w) ? a.severity : w), undefined);
  const color = worst ? SEVERITY_COLOR[worst] : RESOLVED_COLOR;
  const embeds: Embed[] = descriptions.map((lines) => ({ description: lines.join('\n'), color }));
  embeds.at(-1)!.footer = { text: COMPACT_FOOTER };
  return envelope(embeds, username, true);
}

/** What the summary card shows of a storm (the store's tally, and the storm's state). */
export interface StormSummary extends StormTally {
  stormId: number;
  startedAt: number;
  /** Set once the backlog is gone: the card then says the storm is over. */
  endedAt: number | null;
  /** Deliveries of the channel still waiting to be posted. */
  waiting: number;
}

const stamp = (ms: number | null) => (ms === null ? '—' : `<t:${Math.floor(ms / 1000)}:T>`);

/** The storm's one summary card (posted once, then edited in place; it notifies, the compact lines do not). */
export function stormSummaryCard(s: StormSummary, username: string): WebhookMessage {
  const over = s.endedAt !== null;
  const severities = (['P0', 'P1', 'P2', 'P3'] as const).filter((v) => s.bySeverity[v]).map((v) => `\`${v}\` ${s.bySeverity[v]}`);
  const top = s.byService.slice(0, SUMMARY_SERVICES).map((x) => `**${oneLine(x.service, COMPACT_SERVICE_MAX)}** ${x.count}`);
  const rest = s.byService.slice(SUMMARY_SERVICES).reduce((n, x) => n + x.count, 0);
  if (rest > 0) top.push(`… and ${s.byService.length - SUMMARY_SERVICES} more services: ${rest}`);
  const description = over
    ? `The storm is over (<t:${Math.floor(s.endedAt! / 1000)}:T>): the backlog is gone, and alerts get their own cards again. ` +
      `Every alert of it is in a storm message above, one line each.`
    : `More alerts are waiting than this channel can post within seconds, so P2/P3 alerts are posted as one line each ` +
      `(storm messages below); P0/P1 keep their own cards with buttons. Nothing is dropped.`;
  const embed: Embed = {
    title: truncateEnd(over ? `Storm over: ${s.total} alerts in ${s.messages} storm messages` : `Storm in progress: ${s.total} alerts so far`, L.embedTitle),
    description: `${description}\nSee any alert's full card with \`/alert show <id>\` (or \`GET /v1/admin/alerts/<id>\`).`,
    color: over ? RESOLVED_COLOR : SEVERITY_COLOR.P2,
    fields: [
      { name: 'By severity', value: severities.join(' · ') || '—', inline: true },
      { name: 'First / last arrival', value: `${stamp(s.firstArrivalAt)} / ${stamp(s.lastArrivalAt)}`, inline: true },
      { name: over ? 'Waiting' : 'Still waiting', value: String(s.waiting), inline: true },
      { name: 'By service', value: truncateEnd(top.join('\n') || '—', L.fieldValue) },
    ],
    footer: { text: `storm #${s.stormId} · started` },
    timestamp: new Date(s.startedAt).toISOString(),
  };
  return envelope([embed], username, false);
}
