import type { StatefulAlert } from '../domain/alert-state.js';
import { THREAD_NAME_MAX } from '../discord/limits.js';
import { mentionMarkup, RAISED_PAGE, withMention } from '../discord/mention.js';
import type { WebhookMessage } from '../discord/message.js';
import { cleanText } from '../discord/text.js';
import { truncateEnd } from '../discord/truncate.js';
import type { ThreadNote } from '../domain/threads.js';

/** Who did it: a Discord user as a mention (allowed_mentions is empty: it never pings), else the name Herald has. */
function who(name: string | null | undefined, userId: string | null | undefined): string {
  if (userId) return `<@${userId}>`;
  return truncateEnd(cleanText(name ?? 'someone'), 100);
}

/**
 * A follow-up in an alert's thread (issue 10 §3): one short line, rendered from the alert as it is when
 * sent, so a repeat note queued before ten more repeats says the count as it is then. The card in the
 * channel stays the one place that shows the state; these are its timeline. Nothing in them pings
 * except an escalation step's mention, which is allowed explicitly.
 */
export function renderThreadNote(note: ThreadNote, alert: StatefulAlert, opts: { username: string; mention?: string | null }): WebhookMessage {
  const content = ((): string => {
    switch (note) {
      case 'repeat': {
        const n = alert.occurrences ?? 1;
        return `🔁 Fired again, ${n} times in all`;
      }
      case 'reopen':
        return `🔁 Fired again after it was resolved: reopened`;
      case 'ack':
        return `👀 Acknowledged by ${who(alert.acknowledgedBy, alert.acknowledgedByUser)}`;
      case 'resolve':
        return `✅ Resolved by ${who(alert.resolvedBy, alert.resolvedByUser)}`;
      case 'escalation':
        return opts.mention === RAISED_PAGE ? `⬆️ Rose to \`${alert.severity}\`` : `📣 Escalation: not acknowledged yet`;
    }
  })();
  const message: WebhookMessage = { content, username: opts.username, embeds: [], allowed_mentions: { parse: [] } };
  if (note === 'escalation' && opts.mention && mentionMarkup(opts.mention)) {
    withMention(message, opts.mention);
    message.content = `${message.content ?? ''} ${content}`.trim();
  }
  return message;
}

/** A thread's name for an alert's card: severity and title, within Discord's 100 characters. */
export function threadName(alert: Pick<StatefulAlert, 'severity' | 'title'>): string {
  return truncateEnd(`${alert.severity} · ${cleanText(alert.title)}`, THREAD_NAME_MAX) || `${alert.severity} alert`;
}

/** An incident card's thread (or forum post) name: its title as plain text, within Discord's 100 characters. */
export function incidentThreadName(title: string, incidentId: number): string {
  return truncateEnd(cleanText(title), THREAD_NAME_MAX) || `incident #${incidentId}`;
}
