/**
 * Sender text → Discord markdown that shows exactly that text, and nothing that pretends to be
 * something else (issue 8 §5).
 *
 * Whatever a sender puts in an alert lands on a card, where Discord reads it as markdown. Taken raw, a
 * title could bold itself, a label value could fake another line of labels, a description could hide a
 * link to one host behind text that reads as another, bidi overrides could reverse what a reader sees.
 * `senderMarkdown` turns a piece of sender text into markdown that shows it as sent:
 *  1. cleaned (`cleanText`): control characters (C0/C1, except the line breaks and tabs a multi-line
 *     text may keep) and bidi controls removed, lone surrogates replaced;
 *  2. linked honestly: a bare URL becomes `<url>` (what it reads is where it goes, its host normalised);
 *     a masked link `[label](url)` becomes `label (<url>)`; a URL that cannot be linked safely is shown
 *     as text Discord does not link;
 *  3. escaped: every character Discord reads as markdown is shown as itself (`\*`), so `<@&role>`,
 *     `<t:…>` and `[…](…)` are text; `@everyone` and `@here` get a zero-width space;
 * Herald's own markup (its `<url>` links, mentions, timestamps, bold labels) is added around the result
 * by the card, never taken from a sender.
 *
 * Cutting the result to Discord's limits must not undo the escaping: `cutBefore`/`cutAfter` give the
 * nearest place to cut that splits no escape (`\*`), no `<…>` (link, mention, timestamp) and no
 * surrogate pair.
 */

/** The longest URL shown as a link; longer ones are shown as text (a field value holds 1024). */
export const MAX_LINK_LENGTH = 1000;
/** The longest `<…>` Herald writes: a link at its longest with its brackets. */
const MAX_ATOM = MAX_LINK_LENGTH + 2;

// ---------------------------------------------------------------------------------------------
// Cleaning

/** Line breaks in any spelling (CR LF, CR, NEL, LS, PS), read as `\n`. */
const LINE_BREAK = /\r\n?|[\u0085\u2028\u2029]/g;
/** C0 controls except tab and line feed, DEL, C1 controls. */
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
/** Bidi marks, embeddings, overrides and isolates: they reorder what a reader sees. */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/** A surrogate without its other half: valid in JSON, not in the UTF-8 Discord decodes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// String.prototype.toWellFormed (ES2024, native in Node 20 and much faster than the regular expression)
// is not in the ES2023 library this project compiles against.
const nativeWellFormed = (String.prototype as { toWellFormed?: (this: string) => string }).toWellFormed;

/** Anything `cleanText` may change (most text has none: it is returned as it is). */
const UNCLEAN = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029\uD800-\uDFFF]/;

/** Replaces lone surrogates with U+FFFD. */
export const wellFormed = (s: string): string => (nativeWellFormed ? nativeWellFormed.call(s) : s.replace(LONE_SURROGATE, '\uFFFD'));

export interface TextOptions {
  /** Keep line breaks and tabs (descriptions, field values). Otherwise they become spaces. */
  multiline?: boolean;
}

/**
 * Sender text without control and bidi characters, well-formed. A one-line text (titles, names, label
 * keys and values) has its line breaks and tabs turned into spaces, so it cannot fake a line of its own.
 */
export function cleanText(text: string, opts: TextOptions = {}): string {
  if (!UNCLEAN.test(text)) return text;
  const s = wellFormed(text).replace(LINE_BREAK, '\n').replace(CONTROL, '').replace(BIDI, '');
  return opts.multiline ? s : s.replace(/[\n\t]/g, ' ');
}

// ---------------------------------------------------------------------------------------------
// Links

/**
 * The address a link to `raw` may show and go to, or undefined when it may not be a link: only http(s),
 * no whitespace or control characters (a URL parser drops tabs and newlines silently, so the text would
 * not be the target), at most MAX_LINK_LENGTH. Credentials (`https://grafana.example@evil.example`) are
 * removed so that the host a reader sees is the host; the result is the parser's normalised form
 * (punycode host, percent-encoded `<`, `>` and spaces), which holds nothing that ends a `<url>`.
 */
export function linkTarget(raw: string): string | undefined {
  if (raw.length > MAX_LINK_LENGTH || /[\s\u0000-\u001F\u007F-\u009F]/.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.username = '';
  url.password = '';
  const href = url.href;
  return href.length <= MAX_LINK_LENGTH ? href : undefined;
}

/** `<url>`: a link whose text is its target (and no preview), or undefined (see `linkTarget`). */
export function linkMarkup(raw: string): string | undefined {
  const target = linkTarget(raw);
  return target === undefined ? undefined : `<${target}>`;
}

// ---------------------------------------------------------------------------------------------
// Escaping

/**
 * Links Discord reads in text: 1–2 a masked link `[label](url)` (also `(<url>)`); 3 a bare URL, as
 * Discord's own rule finds one (trailing punctuation is not part of it).
 */
const MAYBE_LINK = /https?:\/\//i;
const LINK = /\[([^[\]\n]{1,256})\]\(<?(https?:\/\/[^\s()<>]+)>?\)|(https?:\/\/[^\s<]*[^\s<.,:;"')\]])/gi;
/** Characters that are markdown wherever they stand (and `<`, which opens mentions, timestamps and links). */
const SPECIAL = /[\\*_~`|<[\]]/g;
/**
 * Block markers before a space: `#` heading, `>` quote, `-` `+` list, `-#` subtext. Escaped wherever they
 * stand, not only at the start of a line, because a cut (followed by its marker's line break) may put
 * any position at the start of one.
 */
const BLOCK = /([#>+-])(?=[\s#])/g;
/** A numbered list item's `1.` before a space (escaped anywhere, for the same reason). */
const NUMBER = /(\d+)\.(?=\s)/g;
const MASS_MENTION = /@(everyone|here)/gi;

/** Any character the replacements below look for (most text has none: it is returned as it is). */
const MAYBE_MARKDOWN = /[\\*_~`|<[\]#>+.@-]/;

/** Text with no link in it, each markdown character shown as itself and mass mentions defused. */
const escapePlain = (s: string) =>
  !MAYBE_MARKDOWN.test(s) ? s : s.replace(SPECIAL, '\\$&').replace(BLOCK, '\\$1').replace(NUMBER, '$1\\.').replace(MASS_MENTION, '@\u200B$1');

/** A URL shown as text: escaped, and with `\:` after its scheme so Discord does not link it. */
const unlinked = (url: string) => escapePlain(url).replace(/^(https?):/i, '$1\\:');

function escapeMarkdown(s: string): string {
  if (!MAYBE_LINK.test(s)) return escapePlain(s);
  let out = '';
  let done = 0;
  for (const m of s.matchAll(LINK)) {
    out += escapePlain(s.slice(done, m.index));
    done = m.index + m[0].length;
    const [match, label, masked, bare] = m;
    if (masked !== undefined) {
      const link = linkMarkup(masked);
      // The label is sender text too (its own URLs linked to themselves); the target is shown beside it.
      out += link ? `${escapeMarkdown(label!)} (${link})` : '\\[' + escapeMarkdown(match.slice(1));
    } else {
      out += linkMarkup(bare!) ?? unlinked(bare!);
    }
  }
  return out + escapePlain(s.slice(done));
}

/**
 * Sender text as Discord markdown that shows it as sent: cleaned, links honest, markdown escaped,
 * mass mentions defused (see the module comment). One line unless `multiline`.
 */
export function senderMarkdown(text: string, opts: TextOptions = {}): string {
  return escapeMarkdown(cleanText(text, opts));
}

// ---------------------------------------------------------------------------------------------
// Where text may be cut

const BACKSLASH = 0x5c;
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
/** ASCII whitespace: never inside a `<…>` (seeing one ends the search for its start early). */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** Whether `s[i - 1]` is a backslash escaping `s[i]` (an odd run of backslashes ends there). */
function escapesNext(s: string, i: number): boolean {
  let run = 0;
  for (let j = i - 1; j >= 0 && s.charCodeAt(j) === BACKSLASH; j--) run++;
  return run % 2 === 1;
}

/**
 * Where the `<…>` that a cut at `i` would split starts, or -1. An unescaped `<` only ever opens Herald's
 * own link, mention or timestamp (a sender's `<` is escaped), which holds no whitespace and no `>`.
 */
function openAtom(s: string, i: number): number {
  for (let j = i - 1; j >= 0 && j >= i - MAX_ATOM; j--) {
    const c = s.charCodeAt(j);
    if (c === 0x3e /* > */ || isSpace(c)) return -1;
    if (c === 0x3c /* < */) return escapesNext(s, j) ? -1 : j;
  }
  return -1;
}

const splitsPair = (s: string, i: number) => isHigh(s.charCodeAt(i - 1)) && isLow(s.charCodeAt(i));
const splitsEscape = (s: string, i: number) => escapesNext(s, i) || splitsPair(s, i);

/** The largest cut point ≤ `n` of `s` (0 and `s.length` always are): `s.slice(0, result)` is a safe head. */
export function cutBefore(s: string, n: number): number {
  let i = Math.min(Math.max(0, Math.floor(n)), s.length);
  while (i > 0 && i < s.length) {
    const open = openAtom(s, i);
    if (open >= 0) i = open;
    else if (splitsEscape(s, i)) i -= 1;
    else break;
  }
  return i;
}

/** The smallest cut point ≥ `n` of `s`: `s.slice(result)` is a safe tail. */
export function cutAfter(s: string, n: number): number {
  let i = Math.min(Math.max(0, Math.ceil(n)), s.length);
  while (i > 0 && i < s.length) {
    if (openAtom(s, i) >= 0) {
      const close = s.indexOf('>', i);
      i = close < 0 ? s.length : close + 1;
    } else if (splitsEscape(s, i)) i += 1;
    else break;
  }
  return i;
}
