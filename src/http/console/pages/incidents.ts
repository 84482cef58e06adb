import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../../config.js';
import { SEVERITIES } from '../../../domain/alert.js';
import { listChannels } from '../../../services/channels.js';
import type { DepsOf } from '../../../services/deps-of.js';
import {
  acknowledgeIncident,
  getIncident,
  INCIDENT_STATES,
  incidentChannels,
  incidentMessages,
  incidentStateOf,
  listIncidents,
  resolveIncident,
  type IncidentDetail,
  type IncidentView,
} from '../../../services/incidents.js';
import type { IncidentFilter } from '../../../store/incidents.js';
import { html, safeHref } from '../html.js';
import { idParam, type Kit, LIST_PAGE, listQuery, nextPageHref } from '../kit.js';
import { ago, sev, when } from '../layout.js';
import { blankToUndefined, instant, messageHref, toInput } from './alerts.js';

/** What these pages use of the app: the incident services (the admin API's), channels, and the guild id for links. */
export type IncidentPageDeps = DepsOf<typeof listIncidents> &
  DepsOf<typeof getIncident> &
  DepsOf<typeof incidentChannels> &
  DepsOf<typeof incidentMessages> &
  DepsOf<typeof acknowledgeIncident> &
  DepsOf<typeof resolveIncident> &
  DepsOf<typeof listChannels> & { config: Pick<Config, 'discord'> };

const incidentQuery = z.object({
  service: z.preprocess(blankToUndefined, z.string().trim().max(200).optional()),
  severity: z.preprocess((v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]), z.array(z.enum(SEVERITIES))),
  state: z.preprocess(blankToUndefined, z.enum(INCIDENT_STATES).optional()),
  channel: z.preprocess(blankToUndefined, z.coerce.number().int().positive().optional()),
  from: z.preprocess(blankToUndefined, instant.optional()),
  to: z.preprocess(blankToUndefined, instant.optional()),
  before_id: z.preprocess(blankToUndefined, z.coerce.number().int().positive().optional()),
});

const CONSOLE = { kind: 'admin', name: 'console' } as const;

/** firing / acknowledged / resolved, as a pill. */
function statePill(i: Pick<IncidentView, 'status' | 'acknowledged_at'>) {
  const s = incidentStateOf(i);
  return html`<span class="pill ${s === 'resolved' ? 'ok' : s === 'acknowledged' ? 'warn' : 'bad'}">${s}</span>`;
}

/** A member's state on the incident's page, as its card line says it. */
function memberPill(m: IncidentDetail['alerts'][number]) {
  if (m.retracted_at !== null) return html`<span class="pill">retracted</span>`;
  if (m.status === 'resolved') return html`<span class="pill ok">resolved</span>`;
  if (m.acknowledged_at !== null) return html`<span class="pill warn">acknowledged</span>`;
  return html`<span class="pill bad">firing</span>`;
}

const counts = (i: IncidentView) =>
  html`<span class="counts"><b>${i.firing}</b> firing · <b>${i.acknowledged}</b> acknowledged · <b>${i.resolved}</b> resolved${i.retracted ? html` · <b>${i.retracted}</b> retracted` : ''}</span>`;

/** Incidents (filters like the alerts page's) and an incident's page (members, cards, Acknowledge / Resolve). */
export function registerIncidentPages(app: FastifyInstance, herald: IncidentPageDeps, kit: Kit): void {
  app.get('/incidents', async (req, reply) => {
    const now = Date.now();
    const { filters: f, problem } = listQuery(incidentQuery, req.query);
    const filter: IncidentFilter = {
      limit: LIST_PAGE,
      ...(f.service ? { service: f.service } : {}),
      ...(f.severity.length ? { severities: f.severity } : {}),
      ...(f.state ? { state: f.state } : {}),
      ...(f.channel ? { channelIds: [f.channel] } : {}),
      ...(f.from !== undefined ? { createdFrom: f.from } : {}),
      ...(f.to !== undefined ? { createdTo: f.to } : {}),
      ...(f.before_id ? { beforeId: f.before_id } : {}),
    };
    const rows = await listIncidents(herald, filter);
    const channels = await listChannels(herald);
    const names = new Map(channels.map((c) => [c.id, c.name]));
    const channelsOf = await incidentChannels(herald, rows.map((r) => r.id));
    const next = nextPageHref('/console/incidents', req.query, rows);
    const body = html`<h1>Incidents</h1>
<p class="muted">An incident is the alerts of one group (an Alertmanager notification group, a native alert's <code>group</code>, a route's <code>group_by</code>), shown as one card per channel. An alert of no group is not listed here: it is an incident of one, on the <a href="/console/alerts">alerts</a> page.</p>
${problem ? html`<div class="flash error">${problem}</div>` : ''}
<form class="filters" method="get" action="/console/incidents">
  <label>Service<input name="service" value="${f.service ?? ''}" placeholder="payments-*"></label>
  <label>Worst severity<span>${SEVERITIES.map((s) => html`<label class="inline-check"><input type="checkbox" name="severity" value="${s}" ${f.severity.includes(s) ? html`checked` : ''}> ${s}</label>`)}</span></label>
  <label>State<select name="state"><option value="">any</option>${INCIDENT_STATES.map((s) => html`<option value="${s}" ${f.state === s ? html`selected` : ''}>${s}</option>`)}</select></label>
  <label>Channel<select name="channel"><option value="">any</option>${channels.map((c) => html`<option value="${c.id}" ${f.channel === c.id ? html`selected` : ''}>${c.name}</option>`)}</select></label>
  <label>From (UTC)<input type="datetime-local" name="from" value="${toInput(f.from)}"></label>
  <label>To (UTC)<input type="datetime-local" name="to" value="${toInput(f.to)}"></label>
  <button type="submit">Filter</button> <a href="/console/incidents">clear</a>
</form>
${
  rows.length === 0
    ? html`<div class="card">No incidents match.</div>`
    : html`<table><thead><tr><th>#</th><th>sev</th><th>title</th><th>state</th><th>firing / acknowledged / resolved</th><th>channels</th><th>since</th></tr></thead><tbody>
${rows.map(
  (i) => html`<tr data-testid="incident-${i.id}"><td><a href="/console/incidents/${i.id}">${i.id}</a></td><td>${i.severity ? sev(i.severity) : '—'}</td>
<td><a href="/console/incidents/${i.id}">${i.title}</a> <span class="muted small">${i.members} alert${i.members === 1 ? '' : 's'}</span></td><td>${statePill(i)}</td>
<td class="num">${i.firing} / ${i.acknowledged} / ${i.resolved}${i.retracted ? html` <span class="muted small">(${i.retracted} retracted)</span>` : ''}</td>
<td>${(channelsOf.get(i.id) ?? []).map((c) => html`<span class="pill">${names.get(c) ?? `#${c}`}</span> `)}</td>
<td>${when(i.created_at)} <span class="muted small">(${ago(i.created_at, now)})</span></td></tr>`,
)}</tbody></table>`
}
${next ? html`<p><a href="${next}">Older incidents →</a></p>` : ''}`;
    return kit.show(req, reply, { title: 'Incidents', active: 'incidents', body });
  });

  app.get('/incidents/:id', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'incident');
    const i = await getIncident(herald, id);
    const messages = await incidentMessages(herald, id);
    const channels = new Map((await listChannels(herald)).map((c) => [c.id, c]));
    const csrf = kit.session(req).csrf;
    const guildId = herald.config.discord.guildId;
    const state = incidentStateOf(i);
    // Worst first, then newest: the order of the card's lines.
    const order = { P0: 0, P1: 1, P2: 2, P3: 3 } as const;
    const members = [...i.alerts].sort((a, b) => order[a.severity] - order[b.severity] || b.id - a.id);
    const body = html`<h1>${i.severity ? sev(i.severity) : ''} ${i.title} <span class="muted">incident #${i.id}</span></h1>
<div class="grid">
  <div class="card"><h3>State</h3><div data-testid="incident-state">${statePill(i)}</div><div class="small">${counts(i)}</div>
    ${i.acknowledged_at !== null ? html`<div class="small">acknowledged at ${when(i.acknowledged_at)}</div>` : ''}
    ${i.resolved_at !== null ? html`<div class="small">resolved at ${when(i.resolved_at)}</div>` : ''}
    ${
      i.status === 'firing'
        ? html`<div>${
            state === 'firing'
              ? html`<form class="inline" method="post" action="/console/incidents/${i.id}/ack"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Acknowledge</button></form> `
              : ''
          }<form class="inline" method="post" action="/console/incidents/${i.id}/resolve"><input type="hidden" name="_csrf" value="${csrf}"><button class="secondary" type="submit">Resolve</button></form></div>`
        : ''
    }</div>
  <div class="card"><h3>Group</h3><div class="mono small">${i.key}</div><div class="small muted">${i.source_id !== null ? `source #${i.source_id}` : 'no source'}</div></div>
  <div class="card"><h3>Since</h3><div>${when(i.created_at)}</div><div class="small muted">${i.members} alert${i.members === 1 ? '' : 's'}</div></div>
</div>
<h2>Cards</h2>
${
  messages.length === 0
    ? html`<div class="card muted">Not posted yet (the card waits for its group's <code>group_wait</code>, or its channel's queue).</div>`
    : html`<table><thead><tr><th>channel</th><th>message</th><th class="num">members shown</th></tr></thead><tbody>${messages.map((m) => {
        const ch = channels.get(m.channelId);
        const href = ch ? messageHref(kit, guildId, ch.discord_channel_id, m.discordMessageId) : undefined;
        return html`<tr data-testid="incident-message-${m.discordMessageId}"><td>${ch?.name ?? `channel #${m.channelId}`}</td><td>${href ? html`<a href="${safeHref(href)}">${m.discordMessageId}</a>` : m.discordMessageId}</td><td class="num">${m.members}</td></tr>`;
      })}</tbody></table>`
}
<h2>Members</h2>
<table><thead><tr><th>#</th><th>sev</th><th>service</th><th>title</th><th>state</th><th>received</th></tr></thead><tbody>
${members.map(
  (m) => html`<tr data-testid="member-${m.id}"><td><a href="/console/alerts/${m.id}">${m.id}</a></td><td>${sev(m.severity)}</td><td>${m.service}</td>
<td><a href="/console/alerts/${m.id}">${m.title}</a></td><td>${memberPill(m)}</td><td>${when(m.received_at)}</td></tr>`,
)}</tbody></table>`;
    return kit.show(req, reply, { title: `Incident #${i.id}`, active: 'incidents', body });
  });

  for (const [path, verb, fn] of [
    ['ack', 'acknowledged', acknowledgeIncident],
    ['resolve', 'resolved', resolveIncident],
  ] as const) {
    app.post(`/incidents/:id/${path}`, async (req, reply) => {
      const id = idParam((req.params as { id: string }).id, 'incident');
      return kit.act(req, reply, `/console/incidents/${id}`, async () => {
        const { changed } = await fn(herald, id, CONSOLE);
        return changed.length
          ? `Incident #${id} ${verb}: ${changed.length} alert${changed.length === 1 ? '' : 's'} ${verb}; its cards are being edited.`
          : `Incident #${id}: nothing to do (no firing member left to be ${verb}).`;
      });
    });
  }
}
