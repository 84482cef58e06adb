/**
 * Alert → its card: what the embed says (title, state, facts, the sender's fields, labels and links),
 * within every limit Discord checks (docs/delivery.md, guarantee 5). Pure: no I/O, no clock.
 *
 * Sender text (everything the alert's sender chose, and names people typed) goes through
 * `discord/text.ts` before it is measured: escaped, cleaned, its links shown as where they go. The
 * embed is then fitted to its budget by `fit.ts`, whose cuts split no escape, no `<…>` and no
 * surrogate pair, so a cut cannot undo the escaping.
 */
import { type Embed, MESSAGE_LIMITS } from '../discord/limits.js';
import type { WebhookMessage } from '../discord/message.js';
import { isDiscordId } from '../discord/ids.js';
import { cleanText, linkMarkup, senderMarkdown } from '../discord/text.js';
import { truncateEnd, truncateMiddle } from '../discord/truncate.js';
import type { Severity } from '../domain/alert.js';
import { isStaleResolution } from '../domain/auto-resolve.js';
import { isResolved, isRetracted, type RenderableAlert, type StatefulAlert } from '../domain/alert-state.js';
import { cardButtons } from './buttons.js';
import { formatDuration } from './digest.js';
import { alertMessage } from './envelope.js';
import { type Cut, type EmbedModel, type FieldSlot, fit, slot, toEmbed } from './fit.js';

export const SEVERITY_COLOR: Record<Severity, number> = {
  P0: 0xe02424,
  P1: 0xf97316,
  P2: 0xeab308,
  P3: 0x3b82f6,
};
export const RESOLVED_COLOR = 0x22c55e;
/** A retracted (struck-through) alert. */
export const RETRACTED_COLOR = 0x6b7280;

/** Shown instead of a string Discord requires to be non-empty (field names and values). */
export const EMPTY_PLACEHOLDER = '—';
/** In the degraded form, the description is cut to this many characters. */
export const DEGRADED_DESCRIPTION_MAX = 1000;

const L = MESSAGE_LIMITS;

/** Trimmed text, or the placeholder when nothing is left (Discord rejects empty names and values). */
const required = (s: string | null | undefined): string => {
  const t = (s ?? '').trim();
  return t.length > 0 ? t : EMPTY_PLACEHOLDER;
};

const nameSlot = (name: string) => slot(required(name), L.fieldName, truncateEnd);
const valueSlot = (value: string) => slot(required(value), L.fieldValue, truncateMiddle);

/** One line of sender text as card markdown: titles, names, service, environment, label keys and values. */
const line = (s: string | null | undefined) => senderMarkdown(s ?? '').trim();
/** Sender text that may span lines: descriptions, field values. */
const paragraph = (s: string | null | undefined) => senderMarkdown(s ?? '', { multiline: true }).trim();

/**
 * One of the alert's links as a line: `title: <url>`, the address shown as it is (never hidden behind
 * the sender's title, which could read as another address); a URL that is no safe link is shown as text.
 */
function linkLine(link: { title: string; url: string }): string {
  const raw = cleanText(link.url ?? '').trim();
  const title = line(link.title);
  const shown = linkMarkup(raw) ?? line(raw);
  // A title that is just the address adds nothing but a second, differently escaped copy of it.
  return title && cleanText(link.title).trim() !== raw ? `${title}: ${shown}` : shown;
}

/**
 * Joins lines while they fit in `max`, ending with `…and N more <noun>` for those that did not:
 * whole lines rather than one cut in the middle of a line (a cut markdown link is unreadable).
 */
function joinLines(lines: string[], max: number, noun: string): string {
  const all = lines.join('\n');
  if (all.length <= max) return all;
  const note = (n: number) => `…and ${n} more ${noun}`;
  const kept: string[] = [];
  let length = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const add = (kept.length > 0 ? 1 : 0) + line.length;
    const rest = lines.length - i - 1;
    if (length + add + (rest > 0 ? 1 + note(rest).length : 0) > max) {
      const tail = note(lines.length - i);
      // Not even the first line fits with the note: show that line cut, then the note.
      if (kept.length === 0) return truncateMiddle(truncateMiddle(line, max - tail.length - 1) + '\n' + tail, max);
      return truncateMiddle(kept.join('\n') + '\n' + tail, max);
    }
    kept.push(line);
    length += add;
  }
  return truncateMiddle(kept.join('\n'), max);
}

function titleOf(alert: StatefulAlert): string {
  const prefix = isRetracted(alert) ? '[RETRACTED]' : isResolved(alert) ? '[RESOLVED]' : `[${alert.severity}]`;
  const title = line(alert.title);
  return `${prefix} ${title.length > 0 ? title : '(untitled)'}`;
}

const STRIKE = '~~';

/** Cuts a struck-through title inside its markers, so a cut never leaves an unclosed `~~`. */
const cutStruck: Cut = (text, max) => {
  if (text.length <= max) return text;
  const inner = text.slice(STRIKE.length, -STRIKE.length);
  return max < 2 * STRIKE.length + 2 ? truncateEnd(inner, max) : STRIKE + truncateEnd(inner, max - 2 * STRIKE.length) + STRIKE;
};

/** Discord's relative timestamp markup: every reader sees "5 minutes ago" in their own locale. */
const relative = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;
/** A Discord user as a mention (which never pings from an embed), else the name people typed, as text. */
const who = (user: string | null | undefined, name: string | null | undefined) => (user && isDiscordId(user) ? `<@${user}>` : line(name) || 'someone');

/** Discord's absolute short date-time markup, in each reader's time zone. */
const absolute = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;

/**
 * "5 times · first … · last …" for an alert whose repeats were folded in; undefined when it fired once.
 * A sender that re-sends one firing (Alertmanager, every `repeat_interval`: the alert has a firing start)
 * notifies without firing again: its re-sends are not counted as firings, and the line says when it last
 * notified instead ("once · last notified …"); its last firing is the start of the latest one.
 */
function seenLine(a: StatefulAlert): string | undefined {
  const n = a.occurrences ?? 1;
  const notified = a.firingStartedAt != null && a.lastSeenAt ? ` · last notified ${relative(a.lastSeenAt)}` : '';
  if (n <= 1) return notified ? `once · last notified ${relative(a.lastSeenAt!)}` : undefined;
  const last = a.firingStartedAt ?? a.lastSeenAt ?? a.receivedAt;
  return `${n} times · first ${absolute(a.receivedAt)} · last ${relative(last)}${notified}`;
}

/**
 * When a resolved alert ended and how long it had fired: from its last reopening when it reopened before
 * this resolve, else from its arrival. Undefined while it fires (or when the resolve time is unknown).
 */
export function endedLine(a: StatefulAlert): string | undefined {
  if (isRetracted(a) || !isResolved(a) || !a.resolvedAt) return undefined;
  const start = a.reopenedAt && a.reopenedAt <= a.resolvedAt ? a.reopenedAt : a.receivedAt;
  return `${absolute(a.resolvedAt)} (${relative(a.resolvedAt)}) · fired for ${formatDuration(a.resolvedAt - start)} since ${absolute(start)}`;
}

/**
 * A field value that is exactly an ISO 8601 date-time (Alertmanager's startsAt / endsAt, PagerDuty's
 * timestamp) → a Discord timestamp, shown in each reader's own time zone. The markup is Herald's,
 * built from the parsed number, so no sender text goes unescaped; anything else is left to `paragraph`.
 */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
export function timestampMarkup(value: string): string | undefined {
  const v = value.trim();
  if (!ISO_DATE_TIME.test(v)) return undefined;
  const ms = Date.parse(v);
  // Alertmanager's "no end" is year 1; anything before 1970 is no moment worth a timestamp.
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return `${absolute(ms)} (${relative(ms)})`;
}

/** One line saying what people did to the alert, or undefined when nobody did anything. */
function stateLine(a: StatefulAlert): string | undefined {
  if (isRetracted(a)) {
    const reason = line(a.retractReason);
    return `Retracted ${relative(a.retractedAt!)}` + (reason ? `: ${reason}` : '');
  }
  const lines: string[] = [];
  if (a.reopenedAt && !isResolved(a)) lines.push(`Reopened ${relative(a.reopenedAt)}`);
  if (a.resolvedAt) {
    // Auto-resolve: no one resolved it, it went quiet; said so, unlike a sender's or a person's resolve.
    const by = isStaleResolution(a.resolvedBy, a.resolvedByUser) ? `Resolved as ${line(a.resolvedBy)}` : `Resolved by ${who(a.resolvedByUser, a.resolvedBy)}`;
    lines.push(`${by} ${relative(a.resolvedAt)}`);
  }
  if (a.acknowledgedAt) lines.push(`Acknowledged by ${who(a.acknowledgedByUser, a.acknowledgedBy)} ${relative(a.acknowledgedAt)}`);
  if (a.mutedUntil && !isResolved(a)) lines.push(`Muted until ${absolute(a.mutedUntil)}`);
  return lines.length ? lines.join('\n') : undefined;
}

function footerOf(alert: RenderableAlert, withDedup: boolean): string {
  // A footer is plain text to Discord (no markdown): cleaned, not escaped.
  const dedup = cleanText(alert.dedupKey ?? '').trim();
  return `Herald · alert #${alert.id}` + (withDedup && dedup ? ` · dedup ${dedup}` : '');
}

function colorOf(alert: StatefulAlert): number {
  if (isRetracted(alert)) return RETRACTED_COLOR;
  if (isResolved(alert)) return RESOLVED_COLOR;
  return SEVERITY_COLOR[alert.severity] ?? SEVERITY_COLOR.P2;
}

function timestampOf(ms: number): string | undefined {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
}

/** The card's embed before fitting: every text at its per-item Discord limit. */
function cardModel(alert: StatefulAlert, degraded: boolean): EmbedModel {
  const struck = isRetracted(alert) && alert.retractMode !== 'delete';
  const base = {
    title: struck ? slot(`${STRIKE}${titleOf(alert)}${STRIKE}`, L.embedTitle, cutStruck) : slot(titleOf(alert), L.embedTitle, truncateEnd),
    footer: slot(footerOf(alert, !degraded), L.footerText, truncateEnd),
    color: colorOf(alert),
  };
  const ts = timestampOf(alert.receivedAt);
  const timestamp = ts === undefined ? {} : { timestamp: ts };
  const env = line(alert.environment);
  const service = line(alert.service);
  const description = paragraph(alert.description);
  const state = stateLine(alert);

  if (degraded) {
    // The minimal safe form, after Discord answered 400: one line of facts and a short description.
    const seen = seenLine(alert);
    const ended = endedLine(alert);
    const facts = (state ? `${truncateEnd(state, 300)}\n` : '') + (ended ? `Ended ${ended}\n` : '') + (seen ? `Fired ${seen}\n` : '') + `**Severity** ${alert.severity} · **Service** ${truncateEnd(required(service), 100)}` +
      (env ? ` · **Environment** ${truncateEnd(env, 100)}` : '');
    const text = description ? `${facts}\n\n${truncateMiddle(description, DEGRADED_DESCRIPTION_MAX)}` : facts;
    return { ...base, ...timestamp, description: slot(text, L.embedDescription, truncateMiddle), fields: [] };
  }

  // What people did comes first: it is what a reader of an old alert needs to know.
  const fixed: FieldSlot[] = state ? [{ name: nameSlot('Status'), value: valueSlot(state) }] : [];
  const ended = endedLine(alert);
  if (ended) fixed.push({ name: nameSlot('Ended'), value: valueSlot(ended) });
  const seen = seenLine(alert);
  if (seen) fixed.push({ name: nameSlot('Fired'), value: valueSlot(seen) });
  fixed.push({ name: nameSlot('Service'), value: valueSlot(service), inline: true });
  if (env) fixed.push({ name: nameSlot('Environment'), value: valueSlot(env), inline: true });
  fixed.push({ name: nameSlot('Severity'), value: valueSlot(alert.severity), inline: true });

  const own = (alert.fields ?? []).map((f) => ({ name: nameSlot(line(f.name)), value: valueSlot(timestampMarkup(f.value ?? '') ?? paragraph(f.value)) }));

  const trailing: FieldSlot[] = [];
  const labels = Object.entries(alert.labels ?? {});
  if (labels.length > 0) {
    trailing.push({ name: nameSlot('Labels'), value: valueSlot(joinLines(labels.map(([k, v]) => `${line(k)}=${line(v)}`), L.fieldValue, 'labels')) });
  }
  const links = alert.links ?? [];
  if (links.length > 0) {
    trailing.push({ name: nameSlot('Links'), value: valueSlot(joinLines(links.map(linkLine), L.fieldValue, 'links')) });
  }

  // At most 25 fields. The alert's own fields give way (Labels and Links are kept), and the last
  // field then says what was left out.
  let fields = [...fixed, ...own, ...trailing];
  if (fields.length > L.embedFields) {
    const room = Math.max(0, L.embedFields - fixed.length - trailing.length - 1);
    const omitted = own.slice(room);
    const names = omitted.map((f) => f.name.text).join(', ');
    const note: FieldSlot = {
      name: nameSlot('Omitted'),
      // Cut at the end when squeezed, so the count at its start survives.
      value: { ...valueSlot(`${omitted.length} more field${omitted.length === 1 ? '' : 's'} not shown: ${names}`), cut: truncateEnd },
    };
    fields = [...fixed, ...own.slice(0, room), ...trailing, note];
  }

  return {
    ...base,
    ...timestamp,
    ...(description ? { description: slot(description, L.embedDescription, truncateMiddle) } : {}),
    fields,
  };
}

/**
 * The card's embed model fitted to `budget` characters (at most the 6000 total). `degraded`: the
 * minimal safe form used once after Discord answered 400: title, a severity/service line, the
 * description cut to 1000 characters; no fields, links or labels.
 */
export const fittedCard = (alert: StatefulAlert, degraded: boolean, budget: number = L.embedsTotal): EmbedModel => fit(cardModel(alert, degraded), budget);

/** One alert → one embed, within every per-embed limit (and within the 6000 total on its own). */
export function renderEmbed(alert: StatefulAlert, opts: { degraded?: boolean } = {}): Embed {
  return toEmbed(fittedCard(alert, opts.degraded ?? false));
}

/**
 * One alert's card as it is now. `buttons`: the message is (or will be) posted by an
 * application-owned webhook and holds this alert alone, so it may carry buttons; the message then
 * always has `components` (`[]` once no button applies, which removes them on an edit or a type 7
 * interaction answer). Packed messages and pasted webhooks get none.
 */
export function renderAlertCard(alert: StatefulAlert, opts: { username: string; buttons: boolean; degraded?: boolean }): WebhookMessage {
  const msg = alertMessage([alert], [renderEmbed(alert, { degraded: opts.degraded ?? false })], opts.username);
  if (opts.buttons) msg.components = cardButtons(alert);
  return msg;
}
