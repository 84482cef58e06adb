/**
 * The digest as a webhook message: one embed (title, a summary, a field per part), within Discord's
 * limits. Pure: the report and the time zone in, the message out.
 */
import { type Embed, MESSAGE_LIMITS, SUPPRESS_NOTIFICATIONS } from '../discord/limits.js';
import type { WebhookMessage } from '../discord/message.js';
import { senderMarkdown } from '../discord/text.js';
import { truncateEnd } from '../discord/truncate.js';
import type { DigestReport } from '../domain/digest.js';

export const DIGEST_COLOR = 0x6366f1;

/** 0 s, 45 s, 12 min, 3 h 05 min, 2 d 4 h. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "2026-03-01 09:00" in the time zone. */
function localTime(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** Whole lines while they fit in `max`, then "…and N more". */
function lines(list: string[], max: number): string {
  const out: string[] = [];
  let length = 0;
  for (let i = 0; i < list.length; i++) {
    const line = truncateEnd(list[i]!, 200);
    const sep = out.length ? 1 : 0;
    // Room for the closing "…and N more" while lines are left after this one.
    const reserve = i < list.length - 1 ? 24 : 0;
    if (length + sep + line.length + reserve > max) {
      out.push(`…and ${list.length - i} more`);
      break;
    }
    out.push(line);
    length += sep + line.length;
  }
  return out.join('\n') || '—';
}

/** Sender text (services, titles) and the channel's name as one line of markdown that shows them as they are. */
const shown = (s: string) => senderMarkdown(s).trim();

/**
 * The digest as a webhook message: one embed (title, a summary, a field per part), silent (a digest
 * pings nobody, and no mention is allowed). Always within Discord's limits: lines are cut whole.
 */
export function renderDigest(r: DigestReport, opts: { timezone: string; username: string; channelName?: string }): WebhookMessage {
  const L = MESSAGE_LIMITS;
  const t = r.totals;
  const summary = [
    `**${t.fired}** fired · **${t.acknowledged}** acknowledged · **${t.resolved}** resolved`,
    `MTTA **${formatDuration(r.mtta_ms)}** · MTTR **${formatDuration(r.mttr_ms)}**`,
    `Muted **${r.muted}** (all channels) · Dead letters **${r.dead_letters}**`,
  ];
  // Never posted anywhere else: this digest is where people hear of them.
  if (r.digest_only > 0) summary.push(`Kept for this digest (outside business hours) **${r.digest_only}**`);
  if (t.fired + t.acknowledged + t.resolved === 0) summary.unshift('No alerts in this period.');
  const fields: NonNullable<Embed['fields']> = [];
  if (r.by_service.length) {
    fields.push({
      name: 'By service and severity (fired / acknowledged / resolved)',
      value: lines(r.by_service.map((x) => `${shown(x.service)} · ${x.severity}: ${x.fired} / ${x.acknowledged} / ${x.resolved}`), L.fieldValue),
    });
  }
  if (r.noisiest.length) {
    fields.push({ name: 'Noisiest alerts', value: lines(r.noisiest.map((x) => `${x.count}× ${shown(x.service)}: ${shown(x.title)}`), L.fieldValue) });
  }
  const title = truncateEnd(`Daily digest${opts.channelName ? ` · #${shown(opts.channelName)}` : ''} · ${localTime(r.from, opts.timezone)} → ${localTime(r.to, opts.timezone)} (${opts.timezone})`, L.embedTitle);
  const embed: Embed = { title, description: summary.join('\n'), color: DIGEST_COLOR, footer: { text: 'Herald · daily digest' }, timestamp: new Date(r.to).toISOString() };
  if (fields.length) embed.fields = fields;
  const msg: WebhookMessage = { embeds: [embed], allowed_mentions: { parse: [] }, flags: SUPPRESS_NOTIFICATIONS };
  if (opts.username) msg.username = opts.username;
  return msg;
}
