import type { FastifyInstance } from 'fastify';
import { createTarget, deleteTarget, listOutboundDeliveries, listTargets, replayOutbound, targetInput, testTarget } from '../../../outbound/service.js';
import type { DepsOf } from '../../../services/deps-of.js';
import { listRoutes } from '../../../services/routes.js';
import { html } from '../html.js';
import { field, idParam, parse, type FormBody, type Kit } from '../kit.js';
import { when } from '../layout.js';

/** What these pages use of the app: the outbound services they call. */
export type OutboundPageDeps = DepsOf<typeof listTargets> &
  DepsOf<typeof createTarget> &
  DepsOf<typeof deleteTarget> &
  DepsOf<typeof testTarget> &
  DepsOf<typeof listOutboundDeliveries> &
  DepsOf<typeof replayOutbound> &
  DepsOf<typeof listRoutes>;

/** Outbound targets (Slack-compatible, signed webhooks): add, test send, remove; their delivery log with replay. */
export function registerOutboundPages(app: FastifyInstance, herald: OutboundPageDeps, kit: Kit): void {
  app.get('/outbound', async (req, reply) => {
    const token = html`<input type="hidden" name="_csrf" value="${kit.session(req).csrf}">`;
    const q = req.query as { target?: string };
    const targetId = q.target ? Number(q.target) : undefined;
    const targets = await listTargets(herald);
    const routes = await listRoutes(herald);
    const log = await listOutboundDeliveries(herald, { limit: 100, ...(targetId && Number.isSafeInteger(targetId) ? { targetId } : {}) });
    const back = targetId ? `/console/outbound?target=${targetId}` : '/console/outbound';
    const body = html`<h1>Outbound targets</h1>
<p class="muted">Besides Discord, a route's alerts can go to a Slack-compatible incoming webhook or a signed generic webhook. <b>Test send</b> posts one test message now and shows the answer.</p>
<form class="stack" method="post" action="/console/outbound">${token}
  <label>Route<select name="route_id" required>${routes.map((r) => html`<option value="${r.id}">#${r.id} → ${r.channel_name} (${r.service ?? 'any service'})</option>`)}</select></label>
  <label>Kind<select name="kind"><option value="slack">Slack-compatible</option><option value="webhook">signed webhook</option></select></label>
  <label>URL<input name="url" type="url" required size="50" placeholder="https://hooks.slack.com/services/…"></label>
  <button type="submit">Add target</button>
</form>
${
  targets.length === 0
    ? html`<div class="card">No outbound targets.</div>`
    : html`<table><thead><tr><th>#</th><th>route</th><th>kind</th><th>url</th><th>added</th><th></th></tr></thead><tbody>
${targets.map(
  (t) => html`<tr data-testid="target-${t.id}"><td>${t.id}</td><td>#${t.route_id}</td><td>${t.kind}</td><td class="mono">${t.url_masked}</td><td>${when(t.created_at)}</td>
<td><form class="inline" method="post" action="/console/outbound/${t.id}/test">${token}<input type="hidden" name="back" value="${back}"><button type="submit">Test send</button></form>
<a href="/console/outbound?target=${t.id}">delivery log</a>
<form class="inline" method="post" action="/console/outbound/${t.id}/delete">${token}<button class="danger" type="submit">Remove</button></form></td></tr>`,
)}</tbody></table>`
}
<h2>Delivery log${targetId ? html` of target #${targetId} · <a href="/console/outbound">all targets</a>` : ''}</h2>
${
  log.length === 0
    ? html`<div class="card">Nothing sent yet.</div>`
    : html`<table><thead><tr><th>#</th><th>target</th><th>alert</th><th>event</th><th>state</th><th class="num">attempts</th><th>last status</th><th>last error</th><th>created</th><th>sent</th><th></th></tr></thead><tbody>
${log.map(
  (d) => html`<tr><td>${d.id}</td><td>#${d.target_id}</td><td><a href="/console/alerts/${d.alert_id}">#${d.alert_id}</a></td><td>${d.event}</td>
<td><span class="pill ${d.state === 'sent' ? 'ok' : d.state === 'dead' ? 'bad' : ''}">${d.state}</span></td><td class="num">${d.attempts}</td><td>${d.last_status ?? '—'}</td>
<td class="mono">${d.last_error ?? ''}</td><td>${when(d.created_at)}</td><td>${when(d.sent_at)}</td>
<td>${d.state === 'dead' ? html`<form class="inline" method="post" action="/console/outbound/deliveries/${d.id}/replay">${token}<input type="hidden" name="back" value="${back}"><button type="submit">Replay</button></form>` : ''}</td></tr>`,
)}</tbody></table>`
}`;
    return kit.show(req, reply, { title: 'Outbound', active: 'outbound', body });
  });

  /** Back to the page the form was on, never anywhere else. */
  const backOf = (b: FormBody) => {
    const v = field(b, 'back');
    return v && /^\/console\/outbound(\?target=\d+)?$/.test(v) ? v : '/console/outbound';
  };

  app.post('/outbound', async (req, reply) =>
    kit.act(req, reply, '/console/outbound', async () => {
      const b = req.body as FormBody;
      const input = parse(targetInput, { kind: field(b, 'kind'), url: field(b, 'url') });
      const t = await createTarget(herald, Number(field(b, 'route_id')), input);
      return `Target #${t.id} added (${t.url_masked}).${t.secret ? ` Its signing secret, shown only now: ${t.secret}` : ''}`;
    }),
  );

  app.post('/outbound/:id/test', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'outbound target');
    return kit.act(req, reply, backOf(req.body as FormBody), async () => {
      const r = await testTarget(herald, id);
      if (r.ok) return `Test send to target #${id}: answered ${r.status} in ${r.latency_ms} ms.`;
      return { kind: 'error', text: `Test send to target #${id} failed after ${r.latency_ms} ms: ${r.error}` };
    });
  });

  app.post('/outbound/:id/delete', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'outbound target');
    return kit.act(req, reply, '/console/outbound', async () => {
      await deleteTarget(herald, id);
      return `Target #${id} removed.`;
    });
  });

  app.post('/outbound/deliveries/:id/replay', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'outbound delivery');
    return kit.act(req, reply, backOf(req.body as FormBody), async () => {
      await replayOutbound(herald, id);
      return `Outbound delivery #${id} queued again.`;
    });
  });
}
