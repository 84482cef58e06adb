/** Plain-text output helpers: aligned columns for lists, local-free ISO times. */

/** Rows as aligned columns under a header; cells are cut at `max` characters so a long title keeps the table readable. */
export function table(header: string[], rows: (string | number | null | undefined)[][], max = 60): string[] {
  const cells = [header, ...rows.map((r) => r.map((c) => cut(c === null || c === undefined ? '-' : String(c), max)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/**
 * A list command's answer: the rows as Herald gave them (`--json`), one line saying there are none, or a table of
 * `header` with a row per item. The exit code (0).
 */
export function printList<T>(
  out: (line: string) => void,
  rows: T[],
  opts: { json: boolean | undefined; none: string; header: string[]; row: (item: T) => (string | number | null | undefined)[]; max?: number },
): number {
  if (opts.json) out(json(rows));
  else if (rows.length === 0) out(opts.none);
  else for (const line of table(opts.header, rows.map(opts.row), opts.max)) out(line);
  return 0;
}

const cut = (s: string, max: number) => {
  const one = s.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** A millisecond timestamp as ISO 8601 in UTC, to the second; '-' for none. */
export const time = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** JSON for --json: the answer as Herald gave it, indented. */
export const json = (value: unknown): string => JSON.stringify(value, null, 2);
