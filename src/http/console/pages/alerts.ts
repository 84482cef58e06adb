import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../../config.js';
import { SEVERITIES } from '../../../domain/alert.js';
import { ALERT_STATES, alertHistory, getAlert, listAlerts, type AlertFilter, type AlertView } from '../../../services/alerts.js';
import { listAttempts } from '../../../services/attempts.js';
import { listChannels } from '../../../services/channels.js';
import type { DepsOf } from '../../../services/deps-of.js';
import { listEscalations } from '../../../services/escalation.js';
import { acknowledgeAlert, resolveAlert } from '../../../services/lifecycle.js';
import { html, safeHref } from '../html.js';
import { idParam, type Kit, LIST_PAGE, listQuery, nextPageHref } from '../kit.js';
import { sev, when } from '../layout.js';

/** What these pages use of the app: the services they call, and the guild id for links into Discord. */
export type AlertPageDeps = DepsOf<typeof listAlerts> &
  DepsOf<typeof getAlert> &
  DepsOf<typeof alertHistory> &
  DepsOf<typeof listAttempts> &
  DepsOf<typeof listEscalations> &
  DepsOf<typeof listChannels> &
  DepsOf<typeof acknowledgeAlert> &
  DepsOf<typeof resolveAlert> & { config: Pick<Config, 'discord'> };

/** A time typed in the form (`datetime-local`, read as UTC), or epoch ms. */
export const instant = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a time (YYYY-MM-DDTHH:MM, UTC)` });
      return z.NEVER;
    }
    return ms;
  });
export const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const alertQuery = z.object({
  q: z.preprocess(blankToUndefined, z.string().trim().max(200).optional()),
  service: z.preprocess(blankToUndefined, z.string().trim().max(200).optional()),
  severity: z.preprocess((v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]), z.array(z.enum(SEVERITIES))),
  state: z.preprocess(blankToUndefined, z.enum(ALERT_STATES).optional()),
  channel: z.preprocess(blankToUndefined, z.coerce.number().int().positive().optional()),
  from: z.preprocess(blankToUndefined, instant.optional()),
  to: z.preprocess(blankToUndefined, instant.optional()),
  before_id: z.preprocess(blankToUndefined, z.coerce.number().int().positive().optional()),
});

/** firing / acknowledged / resolved / muted / retracted, as a pill. */
function statePill(a: AlertView) {
  if (a.retracted_at !== null) return html`<span class="pill">retracted</span>`;
  if (a.muted_by_mute_id !== null) return html`<span class="pill">muted</span>`;
  if (a.status === 'resolved') return html`<span class="pill ok">resolved</span>`;
  if (a.acknowledged_at !== null) return html`<span class="pill warn">acknowledged</span>`;
  return html`<span class="pill bad">firing</span>`;
}

export const toInput = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().slice(0, 16));

/** Where a message of an alert can be seen: the console's emulated channel, or Discord (with a guild id). */
export function messageHref(kit: Kit, guildId: string | undefined, discordChannelId: string, messageId: string): string | undefined {
  if (kit.emulated) return `/console/emulator/channels/${encodeURIComponent(discordChannelId)}#m-${encodeURIComponent(messageId)}`;
  return guildId ? `https://discord.com/channels/${guildId}/${discordChannelId}/${messageId}` : undefined;
}

/** Alerts (search and filters) and an alert's page. */
export function registerAlertPages(app: FastifyInstance, herald: AlertPageDeps, kit: Kit): void {
  app.get('/alerts', async (req, reply) => {
    const { filters: f, problem } = listQuery(alertQuery, req.query);
    const filter: AlertFilter = {
      limit: LIST_PAGE,
      ...(f.q ? { text: f.q } : {}),
      ...(f.service ? { service: f.service } : {}),
      ...(f.severity.length ? { severities: f.severity } : {}),
      ...(f.state ? { state: f.state } : {}),
      ...(f.channel ? { channelIds: [f.channel] } : {}),
      ...(f.from !== undefined ? { receivedFrom: f.from } : {}),
      ...(f.to !== undefined ? { receivedTo: f.to } : {}),
      ...(f.before_id ? { beforeId: f.before_id } : {}),
    };
    const rows = await listAlerts(herald, filter);
    const channels = await listChannels(herald);
    const next = nextPageHref('/console/alerts', req.query, rows);
    const body = html`<h1>Alerts</h1>
${problem ? html`<div class="flash error">${problem}</div>` : ''}
<form class="filters" method="get" action="/console/alerts">
  <label>Search<input name="q" value="${f.q ?? ''}" placeholder="title, service, description"></label>
  <label>Service<input name="service" value="${f.service ?? ''}" placeholder="payments-*"></label>
  <label>Severity<span>${SEVERITIES.map((s) => html`<label class="inline-check"><input type="checkbox" name="severity" value="${s}" ${f.severity.includes(s) ? html`checked` : ''}> ${s}</label>`)}</span></label>
  <label>State<select name="state"><option value="">any</option>${ALERT_STATES.map((s) => html`<option value="${s}" ${f.state === s ? html`selected` : ''}>${s}</option>`)}</select></label>
  <label>Channel<select name="channel"><option value="">any</option>${channels.map((c) => html`<option value="${c.id}" ${f.channel === c.id ? html`selected` : ''}>${c.name}</option>`)}</select></label>
  <label>From (UTC)<input type="datetime-local" name="from" value="${toInput(f.from)}"></label>
  <label>To (UTC)<input type="datetime-local" name="to" value="${toInput(f.to)}"></label>
  <button type="submit">Filter</button> <a href="/console/alerts">clear</a>
</form>
${
  rows.length === 0
    ? html`<div class="card">No alerts match.</div>`
    : html`<table><thead><tr><th>#</th><th>sev</th><th>service</th><th>title</th><th>state</th><th class="num">fired</th><th>received</th></tr></thead><tbody>
${rows.map(
  (a) => html`<tr data-testid="alert-${a.id}"><td><a href="/console/alerts/${a.id}">${a.id}</a></td><td>${sev(a.severity)}</td><td>${a.service}</td>
<td><a href="/console/alerts/${a.id}">${a.title}</a>${a.unrouted ? html` <span class="pill warn">unrouted</span>` : ''}</td><td>${statePill(a)}</td><td class="num">${a.occurrences}</td><td>${when(a.received_at)}</td></tr>`,
)}</tbody></table>`
}
${next ? html`<p><a href="${next}">Older alerts →</a></p>` : ''}`;
    return kit.show(req, reply, { title: 'Alerts', active: 'alerts', body });
  });

  app.get('/alerts/:id', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'alert');
    const a = await getAlert(herald, id);
    const channels = new Map((await listChannels(herald)).map((c) => [c.id, c]));
    const history = await alertHistory(herald, id);
    const escalations = await listEscalations(herald, { alertId: id });
    const attemptsOf = new Map(await Promise.all(a.deliveries.map(async (d) => [d.id, await listAttempts(herald, { deliveryId: d.id, limit: 100 })] as const)));
    const csrf = kit.session(req).csrf;
    const guildId = herald.config.discord.guildId;
    const active = a.status === 'firing' && a.retracted_at === null;
    const body = html`<h1>${sev(a.severity)} ${a.title} <span class="muted">#${a.id}</span></h1>
<div class="grid">
  <div class="card"><h3>State</h3><div data-testid="alert-state">${statePill(a)}</div>
    ${a.acknowledged_by ? html`<div class="small">acknowledged by ${a.acknowledged_by} at ${when(a.acknowledged_at)}</div>` : ''}
    ${a.resolved_by ? html`<div class="small">resolved by ${a.resolved_by} at ${when(a.resolved_at)}</div>` : ''}
    ${
      active
        ? html`<div>${
            a.acknowledged_at === null
              ? html`<form class="inline" method="post" action="/console/alerts/${a.id}/ack"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Acknowledge</button></form> `
              : ''
          }<form class="inline" method="post" action="/console/alerts/${a.id}/resolve"><input type="hidden" name="_csrf" value="${csrf}"><button class="secondary" type="submit">Resolve</button></form></div>`
        : ''
    }</div>
  ${a.incident_id !== undefined ? html`<div class="card"><h3>Incident</h3><div data-testid="alert-incident"><a href="/console/incidents/${a.incident_id}">incident #${a.incident_id}</a></div><div class="small muted">its card shows this alert with the others of its group</div></div>` : ''}
  <div class="card"><h3>Service</h3><div>${a.service}${a.environment ? html` <span class="pill">${a.environment}</span>` : ''}</div><div class="small muted">dedup key ${a.dedup_key ?? '—'}</div></div>
  <div class="card"><h3>Received</h3><div>${when(a.received_at)}</div><div class="small muted">fired ${a.occurrences}×, last ${when(a.last_seen_at)}</div></div>
</div>
${a.description ? html`<h2>Description</h2><div class="card mono">${a.description}</div>` : ''}
${
  a.labels && Object.keys(a.labels).length
    ? html`<h2>Labels</h2><div>${Object.entries(a.labels).map(([k, v]) => html`<span class="pill mono">${k}=${v}</span> `)}</div>`
    : ''
}
${a.links?.length ? html`<h2>Links</h2><ul>${a.links.map((l) => html`<li><a href="${safeHref(l.url)}" rel="noopener noreferrer">${l.title}</a></li>`)}</ul>` : ''}
<h2>Messages per channel</h2>
${
  a.deliveries.length === 0
    ? html`<div class="card">${a.muted_by_mute_id !== null ? html`Muted by <a href="/console/mutes">mute #${a.muted_by_mute_id}</a>: stored, not delivered.` : a.unrouted ? 'No route took it and there is no default channel.' : 'No deliveries.'}</div>`
    : a.deliveries.map((d) => {
        const ch = channels.get(d.channel_id);
        const href = ch && d.discord_message_id ? messageHref(kit, guildId, ch.discord_channel_id, d.discord_message_id) : undefined;
        const attempts = attemptsOf.get(d.id)!;
        return html`<div class="card" data-testid="delivery-${d.id}"><h3>${ch?.name ?? `channel #${d.channel_id}`} · delivery #${d.id} · <span class="pill ${d.state === 'sent' ? 'ok' : d.state === 'dead' ? 'bad' : ''}">${d.state}</span>
  ${d.discord_message_id ? html` · message ${href ? html`<a href="${safeHref(href)}">${d.discord_message_id}</a>` : d.discord_message_id}` : ''}</h3>
  ${d.last_error ? html`<div class="small">last error: <span class="mono">${d.last_error}</span></div>` : ''}
  ${
    attempts.length
      ? html`<table><thead><tr><th>when</th><th>status</th><th class="num">latency</th><th>outcome</th><th>webhook</th><th>error</th></tr></thead><tbody>${attempts.map(
          (t) => html`<tr><td>${when(t.at)}</td><td>${t.status ?? 'no answer'}</td><td class="num">${t.latency_ms} ms</td><td>${t.outcome}${t.rate_limit_scope ? ` (${t.rate_limit_scope})` : ''}</td><td>${t.webhook_id ?? '—'}</td><td class="mono">${t.error ?? ''}</td></tr>`,
        )}</tbody></table>`
      : html`<div class="small muted">no request made yet</div>`
  }</div>`;
      })
}
<h2>Actions</h2>
${
  history.length === 0
    ? html`<div class="card muted">Nobody acted on it yet.</div>`
    : html`<ul class="timeline">${history.map((h) => html`<li><b>${h.kind}</b> by ${h.actorName} <span class="muted">(${h.actorKind})</span> · ${when(h.at)}${h.reason ? html` · ${h.reason}` : ''}</li>`)}</ul>`
}
<h2>Escalation</h2>
${
  escalations.length === 0
    ? html`<div class="card muted">No escalation chain was armed for it.</div>`
    : escalations.map(
        (e) => html`<div class="card"><h3>chain #${e.chain_id} · ${e.state}${e.state !== 'done' ? ` · next step ${e.step_index} due ${when(e.due_at)}` : e.reason ? ` · ${e.reason}` : ''}</h3>
<ul class="timeline">${e.runs.map((r) => html`<li>step ${r.step_index} (${r.kind}${r.target ? ` ${r.target}` : ''}), round ${r.round}, cycle ${r.cycle}: ${r.deliveries} deliveries · ${when(r.at)}</li>`)}</ul></div>`,
      )
}`;
    return kit.show(req, reply, { title: `Alert #${a.id}`, active: 'alerts', body });
  });

  for (const [path, verb, fn] of [
    ['ack', 'acknowledged', acknowledgeAlert],
    ['resolve', 'resolved', resolveAlert],
  ] as const) {
    app.post(`/alerts/:id/${path}`, async (req, reply) => {
      const id = idParam((req.params as { id: string }).id, 'alert');
      return kit.act(req, reply, `/console/alerts/${id}`, async () => {
        await fn(herald, id, { kind: 'admin', name: 'console' });
        return `Alert #${id} ${verb}; its messages are being edited.`;
      });
    });
  }
}
