import type { FastifyInstance } from 'fastify';
import { EmulatorError } from '../../../emulator/index.js';
import { messageView } from '../discord-view.js';
import type { EmulatedDiscord } from '../emulated.js';
import { html } from '../html.js';
import { field, type FormBody, type Kit } from '../kit.js';
import { ServiceError } from '../../../services/errors.js';

const EPHEMERAL = 64;
/** Messages shown per channel (the newest). */
const SHOWN = 100;

/**
 * Emulator mode only: each emulated channel as Discord would show it, and its buttons pressed as a member
 * of the emulated guild. A press is a real interaction through the emulator's gateway: Herald's bot
 * decides, with its normal authorization, and its answer (a refusal shown to that member only, or the
 * updated card) comes back here.
 */
export function registerEmulatorPages(app: FastifyInstance, emu: EmulatedDiscord, kit: Kit): void {
  const channelOf = (id: string) => {
    const c = emu.channels().find((ch) => ch.id === id);
    if (!c) throw new ServiceError(404, 'not_found', `no emulated channel ${id}`);
    return c;
  };

  app.get('/emulator', async (req, reply) => {
    const first = emu.channels()[0];
    if (first) return reply.code(303).header('location', `/console/emulator/channels/${first.id}`).send();
    return kit.show(req, reply, { title: 'Emulated Discord', active: 'emulator', body: html`<h1>Emulated Discord</h1><div class="card">The emulator has no channel yet.</div>` });
  });

  app.get('/emulator/channels/:id', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const channel = channelOf(id);
    const q = req.query as { as?: string };
    const members = emu.members();
    const names = new Map(members.map((m) => [m.id, m.username]));
    const chosen = members.find((m) => m.id === q.as)?.id ?? members[0]?.id;
    const messages = emu
      .messages(id)
      .filter((m) => (m.flags & EPHEMERAL) === 0)
      .slice(-SHOWN);
    const token = html`<input type="hidden" name="_csrf" value="${kit.session(req).csrf}">`;
    const body = html`<h1>Emulated Discord</h1>
<p class="muted">What Herald's messages look like in Discord (the built-in emulator; nothing here reaches real Discord). Press a button as one of the emulated server's members: Herald's bot decides whether that member may.</p>
<div class="split">
<div class="card channels-list"><h3>Channels</h3>${emu.channels().map((c) => html`<a href="/console/emulator/channels/${c.id}" class="${c.id === id ? 'on' : ''}"># ${c.name}</a>`)}
<h3>Add a person</h3>
<form method="post" action="/console/emulator/members">${token}<input type="hidden" name="channel" value="${id}">
<label>Username<input name="username" required pattern="[A-Za-z0-9_.]{2,32}" placeholder="alice"></label>
<label>Permission<select name="permissions"><option value="">none (a member)</option><option value="ManageGuild">Manage Server (may act on alerts)</option></select></label>
<button type="submit">Add</button></form></div>
<form class="discord" method="post" action="/console/emulator/channels/${id}/press">${token}
<div class="actas"><b># ${channel.name}</b><label>act as <select name="user_id" data-testid="act-as">${
      members.length ? members.map((m) => html`<option value="${m.id}" ${m.id === chosen ? html`selected` : ''}>${m.username}</option>`) : html`<option value="">(add a person first)</option>`
    }</select></label></div>
<div id="messages" hx-get="/console/emulator/channels/${id}${q.as ? `?as=${encodeURIComponent(q.as)}` : ''}" hx-trigger="every 3s" hx-select="#messages" hx-swap="outerHTML">
${messages.length ? messages.map((m) => messageView(m, names)) : html`<div class="muted">No messages yet.</div>`}
</div>
</form>
</div>`;
    return kit.show(req, reply, { title: `#${channel.name}`, active: 'emulator', body });
  });

  app.post('/emulator/channels/:id/press', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    channelOf(id);
    const b = req.body as FormBody;
    const userId = field(b, 'user_id');
    const [messageId, customId] = (field(b, 'press') ?? '').split(' ');
    return kit.act(req, reply, `/console/emulator/channels/${id}${userId ? `?as=${encodeURIComponent(userId)}` : ''}`, async () => {
      if (!userId) throw new ServiceError(400, 'invalid_request', 'choose whom to act as (add a person first)');
      if (!messageId || !customId) throw new ServiceError(400, 'invalid_request', 'no button was pressed');
      const who = emu.members().find((m) => m.id === userId)?.username ?? userId;
      try {
        const r = await emu.pressButton({ userId, channelId: id, messageId, customId });
        const said = [r.content, ...r.followups.map((f) => f.content)].filter(Boolean).join(' · ');
        if (r.type === 7 && !said) return `${who} pressed it: Herald updated the card.`;
        return { kind: r.ephemeral || r.followups.some((f) => f.ephemeral) ? 'error' : 'ok', text: `Herald answered ${who}${r.ephemeral ? ' (only they see it)' : ''}: ${said || '(no text)'}` };
      } catch (err) {
        if (err instanceof EmulatorError) throw new ServiceError(400, 'invalid_request', `Discord refused the press: ${err.message}`);
        throw err;
      }
    });
  });

  app.post('/emulator/members', async (req, reply) => {
    const b = req.body as FormBody;
    const channel = field(b, 'channel');
    const back = channel && /^\d+$/.test(channel) ? `/console/emulator/channels/${channel}` : '/console/emulator';
    return kit.act(req, reply, back, () => {
      const permissions = field(b, 'permissions');
      try {
        const m = emu.createMember({ username: field(b, 'username') ?? '', ...(permissions === 'ManageGuild' ? { permissions } : {}) });
        return `${m.username} joined the emulated server${permissions ? ' with Manage Server' : ''}.`;
      } catch (err) {
        if (err instanceof EmulatorError) throw new ServiceError(400, 'invalid_request', err.message);
        throw err;
      }
    });
  });
}
