import type { EmulatedMessage } from '../../emulator/index.js';
import { html, safeHref, type Html } from './html.js';
import { when } from './layout.js';

/**
 * A message of the emulated Discord drawn as Discord draws it: author, content, embeds (colour bar,
 * author, title, description, fields, footer) and components (buttons, which post the surrounding form
 * with `press` = "<message id> <custom_id>"). Every piece of text goes through the escaping `html`.
 */

interface Embed {
  color?: number;
  author?: { name?: string };
  title?: string;
  url?: string;
  description?: string;
  fields?: { name: string; value: string; inline?: boolean }[];
  footer?: { text?: string };
  timestamp?: string;
}

interface Component {
  type: number;
  style?: number;
  label?: string;
  custom_id?: string;
  url?: string;
  disabled?: boolean;
  emoji?: { name?: string };
  components?: Component[];
}

/** Discord's markdown, the part Herald's cards use: **bold**, `code`, [links](url), mentions and <t:…> timestamps. */
export function markdown(text: string, names: ReadonlyMap<string, string>): Html {
  const parts = text.split(/(\*\*[^*\n]+\*\*|`[^`\n]+`|\[[^\]\n]+\]\([^)\s]+\)|<https?:\/\/[^>\s]+>|<@!?\d+>|<@&\d+>|<#\d+>|<t:-?\d+(?::[tTdDfFR])?>)/);
  return html`${parts.map((p, i) => {
    if (i % 2 === 0) return p;
    if (p.startsWith('**')) return html`<strong>${p.slice(2, -2)}</strong>`;
    if (p.startsWith('`')) return html`<code>${p.slice(1, -1)}</code>`;
    if (p.startsWith('[')) {
      const m = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(p)!;
      return html`<a href="${safeHref(m[2]!)}" rel="noopener noreferrer">${m[1]!}</a>`;
    }
    if (p.startsWith('<http')) return html`<a href="${safeHref(p.slice(1, -1))}" rel="noopener noreferrer">${p.slice(1, -1)}</a>`;
    if (p.startsWith('<@&')) return html`<span class="mention">@${names.get(p.slice(3, -1)) ?? 'role'}</span>`;
    if (p.startsWith('<@')) return html`<span class="mention">@${names.get(p.replace(/\D/g, '')) ?? 'unknown'}</span>`;
    if (p.startsWith('<#')) return html`<span class="mention">#${p.slice(2, -1)}</span>`;
    const seconds = Number(/^<t:(-?\d+)/.exec(p)![1]);
    return html`<span class="ts">${when(seconds * 1000)}</span>`;
  })}`;
}

const hex = (c: number | undefined) => `#${(c ?? 0x1e1f22).toString(16).padStart(6, '0').slice(-6)}`;

function embedView(e: Embed, names: ReadonlyMap<string, string>): Html {
  return html`<div class="embed"><svg class="bar" viewBox="0 0 4 10" preserveAspectRatio="none" aria-hidden="true"><rect width="4" height="10" fill="${hex(e.color)}"></rect></svg><div class="body">
${e.author?.name ? html`<div class="author">${e.author.name}</div>` : ''}
${e.title ? html`<div class="title">${e.url ? html`<a href="${safeHref(e.url)}" rel="noopener noreferrer">${e.title}</a>` : markdown(e.title, names)}</div>` : ''}
${e.description ? html`<div class="desc">${markdown(e.description, names)}</div>` : ''}
${e.fields?.length ? html`<div class="fields">${e.fields.map((f) => html`<div class="field ${f.inline ? '' : 'block'}"><div class="n">${markdown(f.name, names)}</div><div class="v">${markdown(f.value, names)}</div></div>`)}</div>` : ''}
${e.footer?.text || e.timestamp ? html`<div class="footer">${e.footer?.text ?? ''}${e.footer?.text && e.timestamp ? ' • ' : ''}${e.timestamp ? when(Date.parse(e.timestamp)) : ''}</div>` : ''}
</div></div>`;
}

function buttonView(messageId: string, b: Component): Html {
  const label = `${b.emoji?.name ? `${b.emoji.name} ` : ''}${b.label ?? ''}`;
  if (b.style === 5 && b.url) return html`<a class="dbtn s5" href="${safeHref(b.url)}" rel="noopener noreferrer">${label} ↗</a>`;
  return html`<button class="dbtn s${b.style ?? 2}" type="submit" name="press" value="${messageId} ${b.custom_id ?? ''}" ${b.disabled ? html`disabled` : ''}>${label}</button>`;
}

export function messageView(m: EmulatedMessage, names: ReadonlyMap<string, string>): Html {
  const who = m.username ?? (m.kind === 'webhook' ? 'Webhook' : 'Herald');
  const rows = (m.components as Component[]).filter((r) => r.type === 1);
  return html`<div class="msg" id="m-${m.id}" data-testid="message-${m.id}">
<div class="avatar">${who.slice(0, 1).toUpperCase()}</div>
<div class="main"><div><span class="who">${who}<span class="tag">${m.kind === 'webhook' ? 'WEBHOOK' : 'APP'}</span></span><span class="when">${when(m.createdAt)}${m.editedAt ? ' (edited)' : ''}${m.threadId ? ` · in thread ${m.threadId}` : ''}</span></div>
${
  m.deleted
    ? html`<div class="deleted">(message deleted)</div>`
    : html`${m.content ? html`<div class="content">${markdown(m.content, names)}</div>` : ''}
${(m.embeds as Embed[]).map((e) => embedView(e, names))}
${rows.length ? html`<div class="components">${rows.map((r) => html`<div class="row">${(r.components ?? []).filter((c) => c.type === 2).map((b) => buttonView(m.id, b))}</div>`)}</div>` : ''}`
}
</div></div>`;
}
