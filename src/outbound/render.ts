import type { AlertRow } from '../store/alerts.js';
import type { OutboundEvent } from '../store/outbound.js';
export type { OutboundEvent };

/**
 * Slack's mrkdwn reads `<…>` as a link or a mention (`<!channel>`, `<@U123>`) and `&` as an entity: every
 * piece of sender text (and a person's name) goes through this, so none of it can ping or forge a link.
 */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A code span of sender text: escaped, and a backtick cannot close it early. */
const code = (s: string) => `\`${esc(s).replace(/`/g, "'")}\``;
const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.floor(n / 2) - 1)} … ${s.slice(s.length - Math.floor(n / 2) + 2)}`);

const WORD: Record<OutboundEvent, string> = { 'alert.firing': 'FIRING', 'alert.resolved': 'RESOLVED', 'alert.acknowledged': 'ACKNOWLEDGED' };

/** Who acknowledged or resolved, for the follow-ups (a person's display name, or the sender's source name). */
function actor(a: AlertRow, event: OutboundEvent): string | null {
  if (event === 'alert.acknowledged') return a.acknowledgedBy;
  if (event === 'alert.resolved') return a.resolvedBy;
  return null;
}

/** A Slack-compatible incoming-webhook body: `{"text": …}` (mrkdwn), a few lines, within Slack's limits. */
export function slackBody(a: AlertRow, event: OutboundEvent): { text: string } {
  const by = actor(a, event);
  const head = `*[${a.severity}] ${WORD[event]}*${by ? ` by ${esc(by.slice(0, 100))}` : ''}`;
  const lines = [`${head} ${esc(a.service)}: ${esc(a.title.slice(0, 300))} (#${a.id})`];
  if (a.description) lines.push(esc(cut(a.description, 2500)));
  if (a.fields?.length) lines.push(a.fields.slice(0, 10).map((f) => `*${esc(f.name.slice(0, 100))}:* ${esc(f.value.slice(0, 200))}`).join('\n'));
  // In a link, `|` ends the URL and `>` the link: both percent-encoded in the URL; `&` is an entity there too.
  if (a.links?.length) lines.push(a.links.map((l) => `<${l.url.replace(/[|<>]/g, encodeURIComponent).replace(/&/g, '&amp;')}|${esc(l.title).replace(/\|/g, '¦')}>`).join(' · '));
  if (a.labels && Object.keys(a.labels).length) lines.push(Object.entries(a.labels).slice(0, 20).map(([k, v]) => code(`${k.slice(0, 100)}=${v.slice(0, 100)}`)).join(' '));
  return { text: lines.join('\n') };
}

/** A generic webhook body in the Standard Webhooks envelope: `{type, timestamp, data}`. */
export function webhookBody(a: AlertRow, event: OutboundEvent, now: number) {
  return {
    type: event,
    timestamp: new Date(now).toISOString(),
    data: {
      id: a.id,
      service: a.service,
      severity: a.severity,
      title: a.title,
      description: a.description,
      status: a.status,
      dedup_key: a.dedupKey,
      environment: a.environment,
      labels: a.labels ?? {},
      fields: a.fields ?? [],
      links: a.links ?? [],
      received_at: new Date(a.receivedAt).toISOString(),
      acknowledged_at: a.acknowledgedAt === null ? null : new Date(a.acknowledgedAt).toISOString(),
      acknowledged_by: a.acknowledgedBy,
      resolved_at: a.resolvedAt === null ? null : new Date(a.resolvedAt).toISOString(),
      resolved_by: a.resolvedBy,
    },
  };
}
