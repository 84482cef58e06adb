import { html, type Html } from './html.js';

/**
 * Small server-rendered SVG charts (no script, no inline style: colours are SVG presentation attributes,
 * which the Content-Security-Policy allows). Every value is a number or escaped text.
 */

const W = 600;

/** Requests per minute as bars, with the 429s of each minute drawn over them in red. */
export function trafficChart(points: { minute: number; requests: number; rate_limited: number }[]): Html {
  const h = 120;
  const top = 8;
  const bottom = 18;
  const max = Math.max(1, ...points.map((p) => p.requests));
  const slot = W / Math.max(1, points.length);
  const y = (v: number) => top + (h - top - bottom) * (1 - v / max);
  const bars = points.map((p, i) => {
    const x = i * slot + 1;
    const bw = Math.max(1, slot - 2);
    const title = `${new Date(p.minute).toISOString().slice(11, 16)} UTC: ${p.requests} requests, ${p.rate_limited} answered 429`;
    return html`<g><title>${title}</title><rect x="${x.toFixed(1)}" y="${y(p.requests).toFixed(1)}" width="${bw.toFixed(1)}" height="${(h - bottom - y(p.requests)).toFixed(1)}" fill="#5865f2"></rect>${
      p.rate_limited > 0
        ? html`<rect x="${x.toFixed(1)}" y="${y(p.rate_limited).toFixed(1)}" width="${bw.toFixed(1)}" height="${(h - bottom - y(p.rate_limited)).toFixed(1)}" fill="#d92d20"></rect>`
        : ''
    }</g>`;
  });
  const first = points[0];
  const last = points.at(-1);
  return html`<svg class="chart" viewBox="0 0 ${W} ${h}" role="img" aria-label="Requests to Discord per minute">
    <line x1="0" y1="${h - bottom}" x2="${W}" y2="${h - bottom}" stroke="#d9dde5"></line>
    <text x="2" y="${top + 8}">${max}/min</text>
    ${bars}
    ${first ? html`<text x="2" y="${h - 4}">${new Date(first.minute).toISOString().slice(11, 16)}</text>` : ''}
    ${last ? html`<text x="${W - 2}" y="${h - 4}" text-anchor="end">${new Date(last.minute).toISOString().slice(11, 16)} UTC</text>` : ''}
  </svg>`;
}

/** Labelled horizontal bars (queue depth by severity, backlog by channel). */
export function barList(rows: { label: string; value: number; colour: string }[]): Html {
  const rowH = 24;
  const labelW = 110;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const h = Math.max(rowH, rows.length * rowH);
  const bars = rows.map((r, i) => {
    const w = ((W - labelW - 60) * r.value) / max;
    const yy = i * rowH;
    return html`<g><text x="0" y="${yy + 16}" class="label">${r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label}</text><rect x="${labelW}" y="${yy + 4}" width="${Math.max(r.value > 0 ? 2 : 0, w).toFixed(1)}" height="${rowH - 8}" rx="2" fill="${r.colour}"></rect><text x="${(labelW + w + 6).toFixed(1)}" y="${yy + 16}" class="label">${r.value}</text></g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${h}" role="img">${bars}</svg>`;
}

export const SEVERITY_COLOURS: Record<string, string> = { P0: '#d92d20', P1: '#f79009', P2: '#eaaa08', P3: '#667085' };
