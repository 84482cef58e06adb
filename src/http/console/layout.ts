import { html, type Html, type Renderable } from './html.js';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

export interface PageFrame {
  title: string;
  /** The nav entry to highlight. */
  active: string;
  body: Renderable;
  csrf: string;
  flash?: Flash | undefined;
  /** Emulator mode: the nav shows the emulated Discord. */
  emulated: boolean;
}

const NAV: [string, string][] = [
  ['overview', 'Overview'],
  ['alerts', 'Alerts'],
  ['incidents', 'Incidents'],
  ['dead-letters', 'Dead letters'],
  ['channels', 'Channels'],
  ['routes', 'Routes'],
  ['mutes', 'Mutes'],
  ['outbound', 'Outbound'],
  ['heartbeats', 'Heartbeats'],
];

const href = (key: string) => (key === 'overview' ? '/console' : `/console/${key}`);

/** The htmx settings: no inline indicator styles (CSP), no eval, and boosted navigation keeps scroll sane. */
const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, historyCacheSize: 0 });

function shell(title: string, body: Renderable): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${title} · Herald</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/htmx.min.js" defer></script>
</head>
${body}
</html>`;
}

/** A console page: the nav (with logout), a flash message from the last action, the page's body. */
export function page(f: PageFrame): Html {
  const nav = [...NAV, ...(f.emulated ? ([['emulator', 'Emulated Discord']] as [string, string][]) : [])];
  return shell(
    f.title,
    html`<body hx-boost="true">
<header class="top">
  <a class="brand" href="/console">Herald</a>
  <nav>${nav.map(([key, label]) => html`<a href="${href(key)}" class="${key === f.active ? 'on' : ''}">${label}</a>`)}</nav>
  <form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${f.csrf}"><button class="secondary" type="submit">Log out</button></form>
</header>
<main>
${f.flash ? html`<div class="flash ${f.flash.kind}" role="status">${f.flash.text}</div>` : ''}
${f.body}
</main>
</body>`,
  );
}

/** The login page (no session yet). */
export function loginPage(message?: Flash): Html {
  return shell(
    'Log in',
    html`<body>
<main class="login">
  <div class="card">
    <h1>Herald console</h1>
    ${message ? html`<div class="flash ${message.kind}" role="alert">${message.text}</div>` : ''}
    <form method="post" action="/console/login">
      <label>Admin token (HERALD_ADMIN_TOKEN)<input type="password" name="token" autocomplete="current-password" required autofocus></label>
      <button type="submit">Log in</button>
    </form>
    <p class="muted small">In emulator mode (<code>npm start</code> without Discord settings) the token is in <code>data/demo.env</code>.</p>
  </div>
</main>
</body>`,
  );
}

/** A one-line error page (unknown page, a refused request). */
export function errorPage(title: string, text: string): Html {
  return shell(title, html`<body><main class="login"><div class="card"><h1>${title}</h1><p>${text}</p><p><a href="/console">Back to the console</a></p></div></main></body>`);
}

/** A timestamp as people read it (UTC, to the second), or a dash. */
export const when = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

/** "3 min ago" style, for lists. */
export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return `in ${fmtSpan(-s)}`;
  return `${fmtSpan(s)} ago`;
}

function fmtSpan(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} d`;
}

export const sev = (s: string) => html`<span class="sev sev-${s}">${s}</span>`;
