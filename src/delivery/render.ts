/**
 * Alert → Discord webhook message, within every limit Discord checks (docs/delivery.md, guarantee 5).
 *
 * Pure: no I/O, no clock. The limits come from the shared table in `discord/limits.ts`, which the
 * emulator also enforces, so render and emulator cannot drift apart.
 *
 * How an embed is made to fit: every string of the embed is a *slot* with its full text and a cap
 * (at first the per-item Discord limit). When the embed is over its character budget, caps are
 * lowered in phases (description first, then field values, then names, title and footer), each
 * phase water-filling (the longest strings are cut first) down to a floor that keeps the text useful;
 * caps never go below one character, so every required string stays non-empty. Texts are cut only
 * when the message is built, with a visible marker, so nothing disappears without a trace.
 *
 * Sender text (everything the alert's sender chose, and names people typed) goes through
 * `discord/text.ts` before it is measured: escaped, cleaned, its links shown as where they go. Cuts
 * then happen only where they split no escape, no `<…>` and no surrogate pair, so a cut cannot
 * undo the escaping.
 */
import { type Embed, embedLength, FORBIDDEN_USERNAME, MESSAGE_LIMITS, SUPPRESS_NOTIFICATIONS } from '../discord/limits.js';
import { cleanText, cutAfter, cutBefore, linkMarkup, senderMarkdown, wellFormed } from '../discord/text.js';

import type { Severity } from '../domain/alert.js';

export type { Severity };

export interface RenderableAlert {
  id: number;
  service: string;
  severity: Severity;
  title: string;
  description?: string | null;
  status: 'firing' | 'resolved';
  environment?: string | null;
  dedupKey?: string | null;
  labels?: Record<string, string> | null;
  fields?: { name: string; value: string }[] | null;
  links?: { title: string; url: string }[] | null;
  /** Epoch milliseconds. */
  receivedAt: number;
}

/**
 * What people did to the alert (services/lifecycle.ts), shown on its card. All optional: an alert
 * nobody touched renders as before. `*ByUser` is a Discord user id (shown as a mention, which never
 * pings from an embed); `*By` the display name used when there is no user id.
 */
export interface AlertStateForRender {
  acknowledgedBy?: string | null;
  acknowledgedByUser?: string | null;
  acknowledgedAt?: number | null;
  resolvedBy?: string | null;
  resolvedByUser?: string | null;
  resolvedAt?: number | null;
  retractedAt?: number | null;
  retractMode?: 'delete' | 'strike' | null;
  retractReason?: string | null;
  /** Grouping: how often it fired (repeats folded in), when it last did, when it last reopened after a resolve. */
  occurrences?: number | null;
  lastSeenAt?: number | null;
  reopenedAt?: number | null;
}

export type StatefulAlert = RenderableAlert & AlertStateForRender;

/** A message component row (type 1) of buttons (type 2), as Discord takes it. */
export interface ActionRow {
  type: 1;
  components: { type: 2; style: number; label: string; custom_id: string }[];
}

export interface WebhookMessage {
  content?: string;
  username?: string;
  embeds: Embed[];
  allowed_mentions: { parse: never[]; roles?: string[]; users?: string[] };
  flags?: number;
  /** Only for application-owned webhooks (others' are ignored by Discord); `[]` clears buttons on an edit. */
  components?: ActionRow[];
}

export interface RenderOptions {
  username: string;
  degraded?: boolean;
}

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

// ---------------------------------------------------------------------------------------------
// Cutting text

/** At most the first `n` UTF-16 units of `s`, fewer where `n` would split an escape, a `<…>` or a surrogate pair. */
function headOf(s: string, n: number): string {
  if (n <= 0) return '';
  if (n >= s.length) return s;
  return s.slice(0, cutBefore(s, n));
}

/** At most the last `n` UTF-16 units of `s`, fewer where that would split an escape, a `<…>` or a surrogate pair. */
function tailOf(s: string, n: number): string {
  if (n <= 0) return '';
  if (n >= s.length) return s;
  return s.slice(cutAfter(s, s.length - n));
}

const cutMarker = (cut: number) => `\n…[${cut} chars cut]…\n`;

/**
 * Cuts `text` longer than `max` in the middle, keeping its head and its tail (the cause of an error
 * is usually at the end, its context at the start) around a marker saying how much was cut.
 * The result is never longer than `max`; when `max` is too small for the marker, a bare `…` marks
 * the cut. Escapes, `<…>` and surrogate pairs are never split.
 */
export function truncateMiddle(text: string, max: number): string {
  const limit = Math.max(0, Math.floor(Number.isFinite(max) ? max : 0));
  if (text.length <= limit) return text;
  if (limit === 0) return '';
  // The marker's length depends on the number it shows: start from the estimate, shrink until it fits.
  let keep = limit - cutMarker(text.length - limit).length;
  if (keep >= 2) {
    for (; keep >= 2; keep--) {
      const head = headOf(text, Math.floor(keep / 2));
      const tail = tailOf(text, keep - Math.floor(keep / 2));
      const out = head + cutMarker(text.length - head.length - tail.length) + tail;
      if (out.length <= limit) return out;
    }
  }
  // Too small for the full marker: head, `…`, tail.
  keep = limit - 1;
  const head = headOf(text, Math.floor(keep / 2));
  const tail = tailOf(text, keep - Math.floor(keep / 2));
  return head + '…' + tail;
}

/** Cuts `text` longer than `max` at the end, with `…` as its last character; never longer than `max`. */
export function truncateEnd(text: string, max: number): string {
  const limit = Math.max(0, Math.floor(Number.isFinite(max) ? max : 0));
  if (text.length <= limit) return text;
  if (limit === 0) return '';
  return headOf(text, limit - 1) + '…';
}

// ---------------------------------------------------------------------------------------------
// The embed model: slots with caps

type Cut = (text: string, max: number) => string;

interface Slot {
  text: string;
  cap: number;
  cut: Cut;
}

interface FieldSlot {
  name: Slot;
  value: Slot;
  inline?: boolean;
}

interface Model {
  title: Slot;
  description?: Slot;
  fields: FieldSlot[];
  footer: Slot;
  color: number;
  timestamp?: string;
}

const slot = (text: string, cap: number, cut: Cut): Slot => ({ text: wellFormed(text), cap, cut });
const used = (s: Slot) => Math.min(s.text.length, s.cap);
const show = (s: Slot) => s.cut(s.text, s.cap);

function modelLength(m: Model): number {
  let n = used(m.title) + used(m.footer) + (m.description ? used(m.description) : 0);
  for (const f of m.fields) n += used(f.name) + used(f.value);
  return n;
}

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

const isResolved = (a: StatefulAlert) => a.status === 'resolved' || !!a.resolvedAt;
const isRetracted = (a: StatefulAlert) => !!a.retractedAt;

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
const who = (user: string | null | undefined, name: string | null | undefined) => (user && /^\d{17,20}$/.test(user) ? `<@${user}>` : line(name) || 'someone');

/** Discord's absolute short date-time markup, in each reader's time zone. */
const absolute = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;

/** "Fired 5 times · first … · last …" for an alert whose repeats were folded in; undefined when it fired once. */
function seenLine(a: StatefulAlert): string | undefined {
  const n = a.occurrences ?? 1;
  if (n <= 1) return undefined;
  return `${n} times · first ${absolute(a.receivedAt)} · last ${relative(a.lastSeenAt ?? a.receivedAt)}`;
}

/** One line saying what people did to the alert, or undefined when nobody did anything. */
function stateLine(a: StatefulAlert): string | undefined {
  if (isRetracted(a)) {
    const reason = line(a.retractReason);
    return `Retracted ${relative(a.retractedAt!)}` + (reason ? `: ${reason}` : '');
  }
  const lines: string[] = [];
  if (a.reopenedAt && !isResolved(a)) lines.push(`Reopened ${relative(a.reopenedAt)}`);
  if (a.resolvedAt) lines.push(`Resolved by ${who(a.resolvedByUser, a.resolvedBy)} ${relative(a.resolvedAt)}`);
  if (a.acknowledgedAt) lines.push(`Acknowledged by ${who(a.acknowledgedByUser, a.acknowledgedBy)} ${relative(a.acknowledgedAt)}`);
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

function buildModel(alert: StatefulAlert, degraded: boolean): Model {
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
    const facts = (state ? `${truncateEnd(state, 300)}\n` : '') + (seen ? `Fired ${seen}\n` : '') + `**Severity** ${alert.severity} · **Service** ${truncateEnd(required(service), 100)}` +
      (env ? ` · **Environment** ${truncateEnd(env, 100)}` : '');
    const text = description ? `${facts}\n\n${truncateMiddle(description, DEGRADED_DESCRIPTION_MAX)}` : facts;
    return { ...base, ...timestamp, description: slot(text, L.embedDescription, truncateMiddle), fields: [] };
  }

  // What people did comes first: it is what a reader of an old alert needs to know.
  const fixed: FieldSlot[] = state ? [{ name: nameSlot('Status'), value: valueSlot(state) }] : [];
  const seen = seenLine(alert);
  if (seen) fixed.push({ name: nameSlot('Fired'), value: valueSlot(seen) });
  fixed.push({ name: nameSlot('Service'), value: valueSlot(service), inline: true });
  if (env) fixed.push({ name: nameSlot('Environment'), value: valueSlot(env), inline: true });
  fixed.push({ name: nameSlot('Severity'), value: valueSlot(alert.severity), inline: true });

  const own = (alert.fields ?? []).map((f) => ({ name: nameSlot(line(f.name)), value: valueSlot(paragraph(f.value)) }));

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
 * Lowers the caps of `slots` (longest first) so that together they use `excess` fewer characters,
 * never below `min(length, floor)` each. Returns the excess still left.
 */
function squeeze(slots: Slot[], floor: number, excess: number): number {
  if (excess <= 0 || slots.length === 0) return excess;
  const u = slots.map(used);
  const f = u.map((x) => Math.min(x, floor));
  const at = (c: number) => u.reduce((sum, x, i) => sum + Math.max(f[i]!, Math.min(x, c)), 0);
  const total = u.reduce((a, b) => a + b, 0);
  const target = total - excess;
  // Largest cap c whose result fits the target (or the floors, if nothing does).
  let lo = 0;
  let hi = Math.max(...u);
  if (at(hi) <= target) return excess - (total - at(hi));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (at(mid) <= target) lo = mid;
    else hi = mid - 1;
  }
  slots.forEach((s, i) => (s.cap = Math.max(f[i]!, Math.min(u[i]!, lo))));
  return excess - (total - at(lo));
}

/** Makes the model use at most `budget` characters (see the module comment for the order). */
function fit(m: Model, budget: number): Model {
  let excess = modelLength(m) - budget;
  if (excess <= 0) return m;
  const desc = m.description ? [m.description] : [];
  const values = () => m.fields.map((f) => f.value);
  const names = () => m.fields.map((f) => f.name);
  const phases: [() => Slot[], number][] = [
    [() => desc, 256],
    [values, 128],
    [() => desc, 64],
    [values, 32],
    [names, 32],
    [() => [m.title, m.footer], 64],
    [values, 8],
    [names, 8],
    [() => desc, 0],
    [() => [m.title, m.footer], 16],
    [values, 1],
    [names, 1],
    [() => [m.title, m.footer], 1],
  ];
  for (const [group, floor] of phases) {
    excess = squeeze(group(), floor, excess);
    if (excess <= 0) break;
  }
  if (m.description && m.description.cap === 0) delete m.description;
  // Unreachable for any budget this module uses (≥ 600); kept so the guarantee holds for any budget.
  while (modelLength(m) > budget && m.fields.length > 0) m.fields.pop();
  return m;
}

function toEmbed(m: Model): Embed {
  const e: Embed = { title: show(m.title), color: m.color };
  if (m.description && m.description.cap > 0) e.description = show(m.description);
  if (m.fields.length > 0) {
    e.fields = m.fields.map((f) => ({ name: show(f.name), value: show(f.value), ...(f.inline ? { inline: true } : {}) }));
  }
  e.footer = { text: show(m.footer) };
  if (m.timestamp) e.timestamp = m.timestamp;
  return e;
}

const fitted = (alert: StatefulAlert, degraded: boolean, budget: number) => fit(buildModel(alert, degraded), budget);

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * One alert → one embed, within every per-embed limit (and within the 6000 total on its own).
 * `degraded`: the minimal safe form used once after Discord answered 400: title, a severity/service
 * line, the description cut to 1000 characters; no fields, links or labels.
 */
export function renderEmbed(alert: StatefulAlert, opts: { degraded?: boolean } = {}): Embed {
  return toEmbed(fitted(alert, opts.degraded ?? false, L.embedsTotal));
}

/**
 * Several alerts → one message of 1..10 embeds whose lengths total at most 6000. When they would
 * not fit, each embed gets a fair share: small embeds keep everything, the largest are cut evenly.
 */
export function renderMessage(alerts: StatefulAlert[], opts: RenderOptions): WebhookMessage {
  if (alerts.length === 0 || alerts.length > L.embeds) {
    throw new RangeError(`renderMessage takes 1 to ${L.embeds} alerts, got ${alerts.length}`);
  }
  const degraded = opts.degraded ?? false;
  const natural = alerts.map((a) => modelLength(fitted(a, degraded, L.embedsTotal)));
  const share = fairShare(natural, L.embedsTotal);
  const embeds = alerts.map((a, i) => toEmbed(fitted(a, degraded, Math.min(natural[i]!, share))));
  return messageOf(alerts, embeds, opts.username);
}

/**
 * Greedy packing for a backlog: takes alerts in order while the message stays within 10 embeds and
 * 6000 characters; always takes the first (shrunk if it alone is over 6000).
 */
export function packMessage(alerts: StatefulAlert[], opts: RenderOptions): { taken: number; message: WebhookMessage } {
  if (alerts.length === 0) throw new RangeError('packMessage needs at least one alert');
  const degraded = opts.degraded ?? false;
  const embeds: Embed[] = [toEmbed(fitted(alerts[0]!, degraded, L.embedsTotal))];
  let total = embedLength(embeds[0]!);
  for (let i = 1; i < alerts.length && embeds.length < L.embeds; i++) {
    const e = toEmbed(fitted(alerts[i]!, degraded, L.embedsTotal));
    const n = embedLength(e);
    if (total + n > L.embedsTotal) break;
    embeds.push(e);
    total += n;
  }
  return { taken: embeds.length, message: messageOf(alerts.slice(0, embeds.length), embeds, opts.username) };
}

/** Custom ids of the card's buttons; the bot parses them back with `parseButtonId`. */
export const buttonId = (action: 'ack' | 'resolve' | 'mute', alertId: number) => `herald:${action}:${alertId}`;

export function parseButtonId(customId: string): { action: 'ack' | 'resolve' | 'mute'; alertId: number } | undefined {
  const m = /^herald:(ack|resolve|mute):(\d{1,15})$/.exec(customId);
  return m ? { action: m[1] as 'ack' | 'resolve' | 'mute', alertId: Number(m[2]) } : undefined;
}

const BUTTON = { primary: 1, secondary: 2, success: 3 } as const;

/** What each button says; the bot names a button the same way in its answers. */
export const BUTTON_LABEL = { ack: 'Acknowledge', resolve: 'Resolve', mute: 'Mute 1h' } as const;

/**
 * The buttons an alert's card offers in its state: Acknowledge, Resolve, Mute 1h while firing;
 * Resolve only once acknowledged; none once resolved or retracted.
 */
export function cardButtons(alert: StatefulAlert): ActionRow[] {
  if (isRetracted(alert) || isResolved(alert)) return [];
  const resolve = { type: 2, style: BUTTON.success, label: BUTTON_LABEL.resolve, custom_id: buttonId('resolve', alert.id) } as const;
  if (alert.acknowledgedAt) return [{ type: 1, components: [resolve] }];
  return [
    {
      type: 1,
      components: [
        { type: 2, style: BUTTON.primary, label: BUTTON_LABEL.ack, custom_id: buttonId('ack', alert.id) },
        resolve,
        { type: 2, style: BUTTON.secondary, label: BUTTON_LABEL.mute, custom_id: buttonId('mute', alert.id) },
      ],
    },
  ];
}

/**
 * One alert's card as it is now. `buttons`: the message is (or will be) posted by an
 * application-owned webhook and holds this alert alone, so it may carry buttons; the message then
 * always has `components` (`[]` once no button applies, which removes them on an edit or a type 7
 * interaction answer). Packed messages and pasted webhooks get none.
 */
export function renderAlertCard(alert: StatefulAlert, opts: { username: string; buttons: boolean; degraded?: boolean }): WebhookMessage {
  const msg = renderMessage([alert], { username: opts.username, degraded: opts.degraded ?? false });
  if (opts.buttons) msg.components = cardButtons(alert);
  return msg;
}

/** The largest per-embed cap c with Σ min(length, c) ≤ total. */
function fairShare(lengths: number[], total: number): number {
  const sum = (c: number) => lengths.reduce((s, n) => s + Math.min(n, c), 0);
  let lo = 0;
  let hi = Math.max(...lengths);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= total) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function messageOf(alerts: StatefulAlert[], embeds: Embed[], username: string): WebhookMessage {
  const msg: WebhookMessage = { embeds, allowed_mentions: { parse: [] } };
  // Validated by config; guarded here too, because a name Discord refuses fails the whole message.
  const name = truncateEnd(wellFormed((username ?? '').trim()), L.username);
  if (name.length > 0 && !FORBIDDEN_USERNAME.test(name)) msg.username = name;
  if (alerts.every((a) => a.severity === 'P3')) msg.flags = SUPPRESS_NOTIFICATIONS;
  return msg;
}
