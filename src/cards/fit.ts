/**
 * Making an embed fit its character budget (Discord's per-item limits and the 6000 total).
 *
 * Every string of the embed is a *slot* with its full text and a cap (at first the per-item Discord
 * limit). When the embed is over its budget, caps are lowered in phases (description first, then field
 * values, then names, title and footer), each phase water-filling (the longest strings are cut first)
 * down to a floor that keeps the text useful; caps never go below one character, so every required
 * string stays non-empty. Texts are cut only when the embed is built (`toEmbed`), each slot by its own
 * cut, with a visible marker, so nothing disappears without a trace.
 */
import type { Embed } from '../discord/limits.js';
import { wellFormed } from '../discord/text.js';

/** How a slot's text is shortened to its cap (`discord/truncate.ts`, or a card's own). */
export type Cut = (text: string, max: number) => string;

export interface Slot {
  text: string;
  cap: number;
  cut: Cut;
}

export interface FieldSlot {
  name: Slot;
  value: Slot;
  inline?: boolean;
}

/** An embed before cutting: the texts it would show and how far each may go. */
export interface EmbedModel {
  title: Slot;
  description?: Slot;
  fields: FieldSlot[];
  footer: Slot;
  color: number;
  timestamp?: string;
}

export const slot = (text: string, cap: number, cut: Cut): Slot => ({ text: wellFormed(text), cap, cut });
const used = (s: Slot) => Math.min(s.text.length, s.cap);
const show = (s: Slot) => s.cut(s.text, s.cap);

/** The characters the model's embed will count towards the 6000 total. */
export function modelLength(m: EmbedModel): number {
  let n = used(m.title) + used(m.footer) + (m.description ? used(m.description) : 0);
  for (const f of m.fields) n += used(f.name) + used(f.value);
  return n;
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

/** Makes the model use at most `budget` characters (see the module comment for the order). Changes `m` in place. */
export function fit(m: EmbedModel, budget: number): EmbedModel {
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
  // Unreachable for any budget the cards use (≥ 600); kept so the guarantee holds for any budget.
  while (modelLength(m) > budget && m.fields.length > 0) m.fields.pop();
  return m;
}

/** The embed the model describes, every text cut to its cap. */
export function toEmbed(m: EmbedModel): Embed {
  const e: Embed = { title: show(m.title), color: m.color };
  if (m.description && m.description.cap > 0) e.description = show(m.description);
  if (m.fields.length > 0) {
    e.fields = m.fields.map((f) => ({ name: show(f.name), value: show(f.value), ...(f.inline ? { inline: true } : {}) }));
  }
  e.footer = { text: show(m.footer) };
  if (m.timestamp) e.timestamp = m.timestamp;
  return e;
}
