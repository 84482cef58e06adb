/**
 * The message around one or more alert embeds: who it is from, whether it notifies, and that it pings
 * nobody (a webhook's default would parse user mentions; escalation allows its one mention explicitly).
 */
import { type Embed, FORBIDDEN_USERNAME, MESSAGE_LIMITS, SUPPRESS_NOTIFICATIONS } from '../discord/limits.js';
import type { WebhookMessage } from '../discord/message.js';
import { wellFormed } from '../discord/text.js';
import { truncateEnd } from '../discord/truncate.js';
import type { StatefulAlert } from '../domain/alert-state.js';

/** The message carrying `embeds` (one per alert, in order): silent when every alert is P3. */
export function alertMessage(alerts: StatefulAlert[], embeds: Embed[], username: string): WebhookMessage {
  const msg: WebhookMessage = { embeds, allowed_mentions: { parse: [] } };
  // Validated by config; guarded here too, because a name Discord refuses fails the whole message.
  const name = truncateEnd(wellFormed((username ?? '').trim()), MESSAGE_LIMITS.username);
  if (name.length > 0 && !FORBIDDEN_USERNAME.test(name)) msg.username = name;
  if (alerts.every((a) => a.severity === 'P3')) msg.flags = SUPPRESS_NOTIFICATIONS;
  return msg;
}
