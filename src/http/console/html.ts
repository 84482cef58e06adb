/**
 * The console's one way of writing HTML: the `html` tagged template escapes every interpolated value
 * (text and attribute values alike) unless it is already `Html` (made by `html` itself or `raw`). Arrays
 * are joined, null / undefined / false render nothing, so a page is written as plain template literals
 * and nothing a sender, a person or a URL carries can become markup.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text safe inside an element or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

export type Renderable = Html | string | number | boolean | null | undefined | readonly Renderable[];

function render(v: Renderable): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written by Herald itself (an SVG chart built from numbers). Never pass it text from outside. */
export const raw = (markup: string): Html => new Html(markup);

/**
 * A URL for an href: only http(s) and relative paths pass; anything else (javascript:, data:) becomes `#`.
 * Escaping alone does not make `javascript:alert(1)` safe in an href.
 */
export function safeHref(url: string): string {
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : '#';
  } catch {
    return '#';
  }
}
