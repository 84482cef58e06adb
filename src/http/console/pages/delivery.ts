import type { FastifyInstance } from 'fastify';
import { listDeadLetters, replayDeadLetter } from '../../../services/dead-letters.js';
import type { DepsOf } from '../../../services/deps-of.js';
import type { Heartbeats } from '../../../services/heartbeats.js';
import { getOverview } from '../../../services/overview.js';
import { listChannels } from '../../../services/channels.js';
import { barList, SEVERITY_COLOURS, trafficChart } from '../charts.js';
import { html } from '../html.js';
import { idParam, type Kit } from '../kit.js';
import { ago, sev, when } from '../layout.js';
import { configCard, type ConfigPageDeps } from './config.js';

/** What these pages use of the app: the services they call. */
export type DeliveryPageDeps = DepsOf<typeof getOverview> &
  DepsOf<typeof listDeadLetters> &
  DepsOf<typeof replayDeadLetter> &
  DepsOf<typeof listChannels> & { heartbeats: Pick<Heartbeats, 'list'> } & ConfigPageDeps;

/** The overview, dead letters (with replay) and heartbeats. */
export function registerDeliveryPages(app: FastifyInstance, herald: DeliveryPageDeps, kit: Kit): void {
  app.get('/', async (req, reply) => {
    const now = Date.now();
    const o = await getOverview(herald, now);
    const q = o.status.queue_depth_by_priority;
    const queued = q.P0 + q.P1 + q.P2 + q.P3;
    const requests = o.traffic.reduce((n, m) => n + m.requests, 0);
    const limited = o.traffic.reduce((n, m) => n + m.rate_limited, 0);
    const perMinute = o.traffic.at(-1)?.requests ?? 0;
    const storms = o.channels.filter((c) => c.storm_since !== null);
    const b = o.status.breakers;
    const lanes = new Map(o.status.lanes.map((l) => [l.channel_id, l]));
    const body = html`<h1>Overview</h1>
<div id="live" hx-get="/console" hx-trigger="every 5s" hx-select="#live" hx-swap="outerHTML">
${configCard(herald.configFile?.status, kit.session(req).csrf, now)}
<div class="grid">
  <div class="card"><h3>Queued deliveries</h3><div class="big" data-testid="queued">${queued}</div><div class="muted">${(['P0', 'P1', 'P2', 'P3'] as const).map((s) => html`${sev(s)} ${q[s]} `)}</div></div>
  <div class="card"><h3>Requests to Discord</h3><div class="big">${perMinute}<span class="muted small"> this minute</span></div><div class="muted">${requests} in the last 30 min</div></div>
  <div class="card"><h3>429s (rate limited), 30 min</h3><div class="big">${limited}</div><div class="muted">${requests ? `${((100 * limited) / requests).toFixed(2)} per 100 requests` : 'no requests'}</div></div>
  <div class="card"><h3>Dead letters not replayed</h3><div class="big"><a href="/console/dead-letters">${o.status.dead_letters_pending}</a></div></div>
  <div class="card"><h3>Webhook breakers</h3>
    <div><span class="pill ok">closed ${b.closed ?? 0}</span> <span class="pill ${b.open ? 'bad' : ''}">open ${b.open ?? 0}</span> <span class="pill ${b.half_open ? 'warn' : ''}">half-open ${b.half_open ?? 0}</span></div></div>
  <div class="card"><h3>Storm mode</h3>${
    storms.length
      ? html`<div class="big"><span class="pill warn">on</span></div>${storms.map((c) => html`<div>${c.name} since ${ago(c.storm_since, now)}</div>`)}`
      : html`<div class="big">off</div><div class="muted">every channel posts full cards</div>`
  }</div>
</div>
<div class="grid2">
  <div class="card"><h3>Queue depth by severity</h3>${barList((['P0', 'P1', 'P2', 'P3'] as const).map((s) => ({ label: s, value: q[s], colour: SEVERITY_COLOURS[s]! })))}</div>
  <div class="card"><h3>Backlog by channel</h3>${
    o.channels.length ? barList(o.channels.map((c) => ({ label: c.name, value: c.backlog, colour: '#5865f2' }))) : html`<p class="muted">No channels yet: add one under <a href="/console/channels">Channels</a>.</p>`
  }</div>
</div>
<div class="card"><h3>Requests to Discord per minute, last 30 minutes (red: answered 429)</h3>${trafficChart(o.traffic)}
  <div class="legend"><span><i class="c-req"></i>requests</span><span><i class="c-429"></i>429s</span></div></div>
<h2>Channels</h2>
<table><thead><tr><th>channel</th><th class="num">backlog</th><th>webhooks</th><th>budget (sent in window / cap)</th><th>blocked until</th><th>mode</th></tr></thead><tbody>
${o.channels.map((c) => {
  const lane = lanes.get(c.id);
  return html`<tr><td><a href="/console/channels#ch-${c.id}">${c.name}</a>${c.default ? html` <span class="pill">default</span>` : ''}</td><td class="num">${c.backlog}</td>
  <td>${c.webhooks.active} active${c.webhooks.quarantined ? html`, <span class="pill bad">${c.webhooks.quarantined} quarantined</span>` : ''}</td>
  <td>${lane ? `${lane.budget.in_window} / ${lane.budget.effective_cap}${lane.budget.effective_cap !== lane.budget.cap ? ` (cap ${lane.budget.cap})` : ''}, ${lane.budget.in_flight} in flight` : 'idle'}</td>
  <td>${lane && lane.budget.blocked_until > now ? when(lane.budget.blocked_until) : '—'}</td>
  <td>${c.storm_since !== null ? html`<span class="pill warn">storm since ${ago(c.storm_since, now)}</span>` : 'cards'}</td></tr>`;
})}
</tbody></table>
<p class="muted small">Refreshes every 5 s. ${when(now)} UTC.</p>
</div>`;
    return kit.show(req, reply, { title: 'Overview', active: 'overview', body });
  });

  app.get('/dead-letters', async (req, reply) => {
    const query = req.query as { all?: string };
    const all = query.all === '1';
    const rows = await listDeadLetters(herald, { limit: 200, pending: all ? undefined : true });
    const channels = new Map((await listChannels(herald)).map((c) => [c.id, c.name]));
    const body = html`<h1>Dead letters</h1>
<p class="muted">Deliveries Herald gave up on (Discord refused them, or retries ran out). Replay queues one again from a fresh start.
${all ? html`<a href="/console/dead-letters">Only those not replayed</a>` : html`<a href="/console/dead-letters?all=1">Show replayed ones too</a>`}</p>
${
  rows.length === 0
    ? html`<div class="card">No dead letters${all ? '' : ' waiting'}.</div>`
    : html`<table><thead><tr><th>#</th><th>alert</th><th>channel</th><th>reason</th><th>Discord said</th><th>when</th><th></th></tr></thead><tbody>
${rows.map(
  (d) => html`<tr data-testid="dead-letter-${d.id}"><td>${d.id}</td><td>${d.alert_id !== null ? html`${d.severity ? sev(d.severity) : ''} <a href="/console/alerts/${d.alert_id}">#${d.alert_id} ${d.alert_title}</a>` : 'digest'}</td>
<td>${channels.get(d.channel_id) ?? `#${d.channel_id}`}</td><td>${d.reason}</td><td class="mono">${d.discord_error ?? '—'}</td><td>${when(d.created_at)}</td>
<td>${
    d.replayed_at !== null
      ? html`replayed ${when(d.replayed_at)}`
      : html`<form class="inline" method="post" action="/console/dead-letters/${d.id}/replay"><input type="hidden" name="_csrf" value="${kit.session(req).csrf}"><button type="submit">Replay</button></form>`
  }</td></tr>`,
)}
</tbody></table>`
}`;
    return kit.show(req, reply, { title: 'Dead letters', active: 'dead-letters', body });
  });

  app.post('/dead-letters/:id/replay', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'dead letter');
    return kit.act(req, reply, '/console/dead-letters', async () => {
      const r = await replayDeadLetter(herald, id);
      return `Dead letter #${id} queued again as delivery #${r.delivery_id}.`;
    });
  });

  app.get('/heartbeats', async (req, reply) => {
    const now = Date.now();
    const rows = await herald.heartbeats.list();
    const body = html`<h1>Heartbeats</h1>
<p class="muted">Dead man's switches: a source promises a beat (<code>POST /v1/heartbeats/{name}</code>) every interval; without one for interval + grace, Herald raises an alert. Declare them with <code>POST /v1/admin/heartbeats</code>.</p>
${
  rows.length === 0
    ? html`<div class="card">No heartbeats declared.</div>`
    : html`<table><thead><tr><th>name</th><th>source</th><th>state</th><th>last beat</th><th>due</th><th>every</th><th>raises</th><th>alert</th></tr></thead><tbody>
${rows.map(
  (hb) => html`<tr><td>${hb.name}</td><td>${hb.source_name}</td><td><span class="pill ${hb.state === 'ok' ? 'ok' : 'bad'}">${hb.state}</span></td>
<td>${ago(hb.last_beat_at, now)}</td><td>${ago(hb.due_at, now)}</td><td>${Math.round(hb.interval_ms / 1000)} s + ${Math.round(hb.grace_ms / 1000)} s grace</td>
<td>${sev(hb.severity)} ${hb.service}</td><td>${hb.alert_id !== null ? html`<a href="/console/alerts/${hb.alert_id}">#${hb.alert_id}</a>` : '—'}</td></tr>`,
)}</tbody></table>`
}`;
    return kit.show(req, reply, { title: 'Heartbeats', active: 'heartbeats', body });
  });
}
