import type { FastifyInstance } from 'fastify';
import { SEVERITIES } from '../../../domain/alert.js';
import { listChannels } from '../../../services/channels.js';
import type { DepsOf } from '../../../services/deps-of.js';
import { invalid } from '../../../services/errors.js';
import { createMute, deleteMute, listMutes, MAX_MUTE_MINUTES } from '../../../services/mutes.js';
import { createRoute, deleteRoute, listRoutes, routeInput } from '../../../services/routes.js';
import { html } from '../html.js';
import { field, fields, idParam, parse, type FormBody, type Kit } from '../kit.js';
import { ago, when } from '../layout.js';
import type { MuteView } from '../../../services/mutes.js';
import { fileManaged } from './config.js';

/** What these pages use of the app: the route and mute services they call. */
export type RoutingPageDeps = DepsOf<typeof listRoutes> &
  DepsOf<typeof createRoute> &
  DepsOf<typeof deleteRoute> &
  DepsOf<typeof listMutes> &
  DepsOf<typeof createMute> &
  DepsOf<typeof deleteMute> &
  DepsOf<typeof listChannels>;

const CONSOLE = { kind: 'admin', name: 'console' } as const;

/** A maintenance window (of the configuration file): a name, a start, or a recurrence. */
const isWindow = (m: MuteView) => m.name !== undefined || m.starts_at !== undefined || m.recurrence !== undefined;

/** What a mute silences. */
const target = (m: MuteView) =>
  m.service !== null
    ? html`service <code>${m.service}</code>${m.title ? html`, title “${m.title}”` : ''}`
    : m.route_id !== null
      ? `route #${m.route_id}`
      : m.incident_key !== undefined
        ? html`incident group <code>${m.incident_key}</code>`
        : html`dedup key <code>${m.dedup_key}</code>${m.source_id !== null ? ` (source #${m.source_id})` : ''}`;

/** A recurring window's length: "1 h", "30 min", "1 h 30 min", "2 d". */
function span(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min % 1440 === 0) return `${min / 1440} d`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  return [h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
}

/** Routes (list, add, delete) and mutes (create, lift). */
export function registerRoutingPages(app: FastifyInstance, herald: RoutingPageDeps, kit: Kit): void {
  app.get('/routes', async (req, reply) => {
    const token = html`<input type="hidden" name="_csrf" value="${kit.session(req).csrf}">`;
    const routes = await listRoutes(herald);
    const channels = await listChannels(herald);
    const body = html`<h1>Routes</h1>
<p class="muted">An alert goes to every channel whose route it matches (every criterion given); one no route takes goes to the default channel. Business hours, thresholds, threads and escalation are set with the admin API (<code>PATCH /v1/admin/routes/:id</code>).</p>
<form class="stack" method="post" action="/console/routes">${token}
  <label>Channel<select name="channel_id" required>${channels.map((c) => html`<option value="${c.id}">${c.name}</option>`)}</select></label>
  <label>Service (glob)<input name="service" placeholder="payments-*"></label>
  <label>Severities<span>${SEVERITIES.map((s) => html`<label class="inline-check"><input type="checkbox" name="severities" value="${s}"> ${s}</label>`)}</span></label>
  <label>Environment<input name="environment" placeholder="production"></label>
  <button type="submit">Add route</button>
</form>
${
  routes.length === 0
    ? html`<div class="card">No routes: every alert goes to the default channel (if there is one).</div>`
    : html`<table><thead><tr><th>#</th><th>channel</th><th>service</th><th>severities</th><th>environment</th><th>labels</th><th>business hours</th><th>threads</th><th></th></tr></thead><tbody>
${routes.map(
  (r) => html`<tr data-testid="route-${r.id}"><td>${r.id}${r.name ? html` <span class="muted small">${r.name}</span>` : ''} ${fileManaged(r.managed_by)}</td><td>${r.channel_name}</td><td>${r.service ?? 'any'}</td><td>${r.severities?.join(', ') ?? 'any'}</td><td>${r.environment ?? 'any'}</td>
<td>${r.labels ? Object.entries(r.labels).map(([k, v]) => html`<span class="pill mono">${k}=${v}</span> `) : 'any'}</td>
<td>${r.business_hours ? `${r.business_hours.days.join(',')} ${r.business_hours.start}–${r.business_hours.end} ${r.business_hours.timezone} (outside: ${r.business_hours.outside})` : 'always'}</td>
<td>${r.threads ? 'yes' : 'no'}</td>
<td>${r.managed_by === 'file' ? html`<span class="muted small">change it in the configuration file</span>` : html`<form class="inline" method="post" action="/console/routes/${r.id}/delete">${token}<button class="danger" type="submit">Delete</button></form>`}</td></tr>`,
)}</tbody></table>`
}`;
    return kit.show(req, reply, { title: 'Routes', active: 'routes', body });
  });

  app.post('/routes', async (req, reply) =>
    kit.act(req, reply, '/console/routes', async () => {
      const b = req.body as FormBody;
      const severities = fields(b, 'severities');
      const input = parse(routeInput, {
        channel_id: Number(field(b, 'channel_id')),
        ...(field(b, 'service') ? { service: field(b, 'service') } : {}),
        ...(severities.length ? { severities } : {}),
        ...(field(b, 'environment') ? { environment: field(b, 'environment') } : {}),
      });
      return `Route #${(await createRoute(herald, input)).id} added.`;
    }),
  );

  app.post('/routes/:id/delete', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'route');
    return kit.act(req, reply, '/console/routes', async () => {
      await deleteRoute(herald, id);
      return `Route #${id} deleted.`;
    });
  });

  app.get('/mutes', async (req, reply) => {
    const now = Date.now();
    const token = html`<input type="hidden" name="_csrf" value="${kit.session(req).csrf}">`;
    const all = (req.query as { all?: string }).all === '1';
    // Maintenance windows have their own table (open or not); the mutes table holds the others.
    const mutes = (await listMutes(herald, { active: !all })).filter((m) => !isWindow(m));
    const windows = (await listMutes(herald, {}, now)).filter((m) => isWindow(m) && (all || (m.ended_at === null && (m.recurrence !== undefined || m.expires_at > now))));
    const routes = await listRoutes(herald);
    const body = html`<h1>Mutes</h1>
<p class="muted">A mute silences matching alerts for a while: they are stored (and counted here) but delivered nowhere.
${all ? html`<a href="/console/mutes">Only mutes in force</a>` : html`<a href="/console/mutes?all=1">Show ended ones too</a>`}</p>
<form class="stack" method="post" action="/console/mutes">${token}
  <label>Mute by<select name="target"><option value="service">service (glob)</option><option value="route">route</option><option value="dedup_key">dedup key</option></select></label>
  <label>Service glob, dedup key or route<input name="value" required placeholder="payments-*"></label>
  <label>For (minutes)<input type="number" name="duration_minutes" value="60" min="1" max="${MAX_MUTE_MINUTES}" required></label>
  <label>Reason<input name="reason" placeholder="deploy in progress"></label>
  <button type="submit">Create mute</button>
</form>
${routes.length ? html`<p class="muted small">Routes: ${routes.map((r) => html`#${r.id} → ${r.channel_name} (${r.service ?? 'any service'}) `)}</p>` : ''}
${
  mutes.length === 0
    ? html`<div class="card">No mutes${all ? '' : ' in force'}.</div>`
    : html`<table><thead><tr><th>#</th><th>mutes</th><th>reason</th><th>by</th><th>until</th><th class="num">silenced</th><th></th></tr></thead><tbody>
${mutes.map(
  (m) => html`<tr data-testid="mute-${m.id}"><td>${m.id}</td><td>${target(m)}</td>
<td>${m.reason ?? ''}</td><td>${m.created_by}</td><td>${m.active ? `${when(m.expires_at)} (${ago(m.expires_at, now)})` : m.ended_at !== null ? `lifted ${when(m.ended_at)}` : `expired ${when(m.expires_at)}`}</td>
<td class="num"><a href="/console/alerts?state=muted">${m.muted_alerts}</a></td>
<td>${m.active ? html`<form class="inline" method="post" action="/console/mutes/${m.id}/lift">${token}<button class="secondary" type="submit">Lift</button></form>` : ''}</td></tr>`,
)}</tbody></table>`
}
<h2>Maintenance windows</h2>
${
  windows.length === 0
    ? html`<div class="card muted">No maintenance windows${all ? '' : ' to come'}. They are written in the configuration file (<code>maintenance:</code>, docs/config-file.md).</div>`
    : html`<table><thead><tr><th>#</th><th>name</th><th>mutes</th><th>when</th><th>open now</th><th>managed by</th><th class="num">silenced</th><th></th></tr></thead><tbody>
${windows.map(
  (m) => html`<tr data-testid="window-${m.id}"><td>${m.id}</td><td>${m.name ?? '—'}</td><td>${target(m)}${m.reason ? html`<div class="small muted">${m.reason}</div>` : ''}</td>
<td>${
    m.recurrence
      ? html`<code>${m.recurrence.cron}</code> for ${span(m.recurrence.duration_ms)} <span class="muted small">(${m.recurrence.timezone})</span>`
      : html`${when(m.starts_at)} → ${when(m.expires_at)} UTC`
  }</td>
<td>${m.active ? html`<span class="pill warn">open</span>` : m.ended_at !== null ? html`<span class="pill">ended ${when(m.ended_at)}</span>` : html`<span class="pill">closed</span>`}</td>
<td>${m.managed_by === 'file' ? fileManaged(m.managed_by) : 'API'}</td>
<td class="num">${m.muted_alerts}</td>
<td>${m.ended_at !== null ? '' : m.managed_by === 'file' ? html`<span class="muted small">remove it from the file to end it</span>` : html`<form class="inline" method="post" action="/console/mutes/${m.id}/lift">${token}<button class="secondary" type="submit">Lift</button></form>`}</td></tr>`,
)}</tbody></table>`
}`;
    return kit.show(req, reply, { title: 'Mutes', active: 'mutes', body });
  });

  app.post('/mutes', async (req, reply) =>
    kit.act(req, reply, '/console/mutes', async () => {
      const b = req.body as FormBody;
      const value = field(b, 'value');
      if (!value) throw invalid('value', 'give the service glob, dedup key or route to mute');
      const minutes = Number(field(b, 'duration_minutes'));
      const target = field(b, 'target');
      const what =
        target === 'route'
          ? { route_id: Number(value.replace(/^#/, '')) }
          : target === 'dedup_key'
            ? { dedup_key: value }
            : { service: value };
      const reason = field(b, 'reason');
      const m = await createMute(herald, { ...what, duration_minutes: minutes, ...(reason ? { reason } : {}) }, CONSOLE);
      return `Mute #${m.id} in force until ${when(m.expires_at)} UTC.`;
    }),
  );

  app.post('/mutes/:id/lift', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'mute');
    return kit.act(req, reply, '/console/mutes', async () => {
      await deleteMute(herald, id, CONSOLE);
      return `Mute #${id} lifted: matching alerts are delivered again.`;
    });
  });
}
