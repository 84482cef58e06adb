/**
 * Cutting text to a Discord limit without breaking what `discord/text.ts` made of it: a cut never splits
 * an escape (`\*`), a `<…>` (link, mention, timestamp) or a surrogate pair, and it always leaves a
 * visible mark, so nothing disappears without a trace (docs/delivery.md, guarantee 5).
 */
import { cutAfter, cutBefore } from './text.js';

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
