import type { FastifyInstance } from 'fastify';
import { channelInput, createChannel, listChannels } from '../../../services/channels.js';
import type { DepsOf } from '../../../services/deps-of.js';
import { listEvents } from '../../../services/events.js';
import { addWebhook, createAppWebhook, listWebhooks, removeWebhook, restoreWebhook, rotateWebhook } from '../../../services/webhooks.js';
import { fileManaged } from './config.js';
import { html } from '../html.js';
import { field, idParam, parse, type FormBody, type Kit } from '../kit.js';
import { when } from '../layout.js';

/** What these pages use of the app: the channel, webhook and event services they call. */
export type ChannelPageDeps = DepsOf<typeof listChannels> &
  DepsOf<typeof createChannel> &
  DepsOf<typeof listWebhooks> &
  DepsOf<typeof addWebhook> &
  DepsOf<typeof createAppWebhook> &
  DepsOf<typeof rotateWebhook> &
  DepsOf<typeof removeWebhook> &
  DepsOf<typeof restoreWebhook> &
  DepsOf<typeof listEvents>;

const STATE_PILL: Record<string, string> = { active: 'ok', retired: '', quarantined: 'bad', removed: '' };
const BREAKER_PILL: Record<string, string> = { closed: 'ok', open: 'bad', half_open: 'warn' };

/** Channels with their webhook pools and health: add a channel, add / create / rotate / remove / restore webhooks. */
export function registerChannelPages(app: FastifyInstance, herald: ChannelPageDeps, kit: Kit): void {
  const back = '/console/channels';

  app.get('/channels', async (req, reply) => {
    const csrf = kit.session(req).csrf;
    const token = html`<input type="hidden" name="_csrf" value="${csrf}">`;
    const channels = await listChannels(herald);
    const recentEvents = new Map(await Promise.all(channels.map(async (c) => [c.id, await listEvents(herald, { limit: 5, channelId: c.id })] as const)));
    const poolOf = new Map(await Promise.all(channels.map(async (c) => [c.id, await listWebhooks(herald, c.id, { includeRemoved: false })] as const)));
    const canCreate = herald.bot !== undefined;
    const body = html`<h1>Channels</h1>
<form class="stack" method="post" action="/console/channels">${token}
  <label>Name<input name="name" required maxlength="100" placeholder="ops-alerts"></label>
  <label>Discord channel id<input name="discord_channel_id" required placeholder="123456789012345678"></label>
  <label>Default<select name="default"><option value="">no</option><option value="yes">yes: alerts no route takes go here</option></select></label>
  <button type="submit">Add channel</button>
</form>
${channels.length === 0 ? html`<div class="card">No channels yet.</div>` : ''}
${channels.map((c) => {
  const hooks = poolOf.get(c.id)!;
  const events = recentEvents.get(c.id)!;
  return html`<div class="card" id="ch-${c.id}" data-testid="channel-${c.id}">
<h2>${c.name} ${c.default ? html`<span class="pill">default</span>` : ''} ${c.kind === 'forum' ? html`<span class="pill">forum</span>` : ''} ${fileManaged(c.managed_by)}</h2>
${c.managed_by === 'file' ? html`<div class="muted small">Managed by the configuration file: its settings and webhooks are changed there (and reloaded); changes here are refused.</div>` : ''}
<div class="muted small">Discord channel ${c.discord_channel_id} · ${c.backlog} queued · ${c.webhooks.active} active webhooks${c.webhooks.quarantined ? `, ${c.webhooks.quarantined} quarantined` : ''}</div>
${c.webhooks.active === 0 ? html`<div class="flash error">No active webhook: this channel's alerts wait until one is added.</div>` : ''}
<table><thead><tr><th>#</th><th>webhook</th><th>owner</th><th>state</th><th>breaker</th><th>last error</th><th>added</th><th></th></tr></thead><tbody>
${hooks.map(
  (w) => html`<tr data-testid="webhook-${w.id}"><td>${w.id} ${fileManaged(w.managed_by)}</td><td class="mono">${w.url_masked}</td><td>${w.owner === 'app' ? 'bot (buttons)' : 'pasted'}</td>
<td><span class="pill ${STATE_PILL[w.state] ?? ''}">${w.state}</span></td><td><span class="pill ${BREAKER_PILL[w.breaker_state] ?? ''}">${w.breaker_state.replace('_', '-')}</span></td>
<td class="mono">${w.last_error ?? ''}</td><td>${when(w.created_at)}</td>
<td>${
    w.managed_by === 'file'
      ? html`${w.state === 'quarantined' ? html`<form class="inline" method="post" action="/console/webhooks/${w.id}/restore">${token}<button class="secondary" type="submit">Restore</button></form> ` : ''}<span class="muted small">rotate or remove it in the configuration file</span>`
      : html`${
    w.state === 'quarantined'
      ? html`<form class="inline" method="post" action="/console/webhooks/${w.id}/restore">${token}<button class="secondary" type="submit">Restore</button></form> `
      : ''
  }${
    w.state === 'active' || w.state === 'quarantined'
      ? html`<form class="inline" method="post" action="/console/webhooks/${w.id}/rotate">${token}<input name="url" placeholder="${canCreate ? 'new URL, or empty: the bot makes one' : 'new webhook URL'}" ${canCreate ? '' : html`required`}><button class="secondary" type="submit">Rotate</button></form> `
      : ''
  }<form class="inline" method="post" action="/console/webhooks/${w.id}/remove">${token}<button class="danger" type="submit">Remove</button></form>`
  }</td></tr>`,
)}
</tbody></table>
<form class="stack" method="post" action="/console/channels/${c.id}/webhooks">${token}
  <label>Webhook URL (Edit Channel → Integrations → Webhooks → Copy Webhook URL)<input name="url" required size="60" placeholder="https://discord.com/api/webhooks/…/…"></label>
  <button type="submit">Add webhook</button>
</form>
${canCreate ? html`<form class="inline" method="post" action="/console/channels/${c.id}/webhooks/create">${token}<button class="secondary" type="submit">Have the bot create a webhook (cards get buttons)</button></form>` : ''}
${events.length ? html`<h3>Recent events</h3><ul>${events.map((e) => html`<li>${when(e.at)} · ${e.kind}: ${e.message}</li>`)}</ul>` : ''}
</div>`;
})}`;
    return kit.show(req, reply, { title: 'Channels', active: 'channels', body });
  });

  app.post('/channels', async (req, reply) =>
    kit.act(req, reply, back, async () => {
      const b = req.body as FormBody;
      const input = parse(channelInput, { name: field(b, 'name'), discord_channel_id: field(b, 'discord_channel_id'), ...(field(b, 'default') === 'yes' ? { default: true } : {}) });
      const { id } = await createChannel(herald, input);
      return `Channel "${input.name}" added (#${id}); add a webhook to it next.`;
    }),
  );

  app.post('/channels/:id/webhooks', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'channel');
    return kit.act(req, reply, `${back}#ch-${id}`, async () => {
      const w = await addWebhook(herald, id, { url: field(req.body as FormBody, 'url') ?? '' });
      return `Webhook #${w.id} (${w.url_masked}) added to the pool.`;
    });
  });

  app.post('/channels/:id/webhooks/create', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'channel');
    return kit.act(req, reply, `${back}#ch-${id}`, async () => {
      const w = await createAppWebhook(herald, id);
      return `The bot created webhook #${w.id}; it joined the pool.`;
    });
  });

  app.post('/webhooks/:id/rotate', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'webhook');
    return kit.act(req, reply, back, async () => {
      const url = field(req.body as FormBody, 'url');
      const r = await rotateWebhook(herald, id, url ? { url } : {});
      return `Webhook #${r.retired.id} rotated out; #${r.added.id} (${r.added.url_masked}) took its place (the old one still edits its own messages).`;
    });
  });

  app.post('/webhooks/:id/remove', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'webhook');
    return kit.act(req, reply, back, async () => {
      await removeWebhook(herald, id);
      return `Webhook #${id} removed from its pool; its token is wiped.`;
    });
  });

  app.post('/webhooks/:id/restore', async (req, reply) => {
    const id = idParam((req.params as { id: string }).id, 'webhook');
    return kit.act(req, reply, back, async () => {
      await restoreWebhook(herald, id);
      return `Webhook #${id} is back in rotation.`;
    });
  });
}
