import { withMention } from '../discord/mention.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import { cardButtons } from '../cards/buttons.js';
import { packMessage } from '../cards/pack.js';
import type { WebhookMessage } from '../discord/message.js';

/** Render caution levels (deliveries.render_level): raised after Discord refuses a message. */
export const RENDER_LEVEL = {
  /** May share a message with other alerts. */
  packable: 0,
  /** Sent alone: Discord refused a packed message holding it, and which alert it disliked is unknown. */
  solo: 1,
  /** Sent alone in the plainest form: Discord refused it even alone. */
  degraded: 2,
} as const;

/** Embeds per message: Discord's limit, and so the most alerts one post carries. */
export const MAX_PACK = 10;

/** A post: the deliveries it carries (a prefix of those claimed) and the message. */
export interface Post {
  batch: ClaimedDelivery[];
  message: WebhookMessage;
}

/**
 * The message for claimed deliveries (best first): packs what it can; a message holding one alert,
 * sent by an application-owned webhook, gets the card's buttons. A message rendered in advance (a
 * digest) and an escalation step's mention go alone. Deliveries left out go back to the queue.
 */
export function composePost(claimed: ClaimedDelivery[], owner: 'app' | 'external', username: string): Post {
  const first = claimed[0]!;
  if (first.message || !first.alert) return { batch: [first], message: first.message ?? { embeds: [], allowed_mentions: { parse: [] } } };
  const withButtons = (batch: ClaimedDelivery[], message: WebhookMessage): Post => {
    if (owner === 'app' && batch.length === 1) message.components = cardButtons(batch[0]!.alert!);
    if (batch.length === 1 && batch[0]!.mention) withMention(message, batch[0]!.mention);
    return { batch, message };
  };
  if (first.renderLevel !== RENDER_LEVEL.packable || first.mention) {
    const { message } = packMessage([first.alert], { username, degraded: first.renderLevel === RENDER_LEVEL.degraded });
    return withButtons([first], message);
  }
  const packable: (ClaimedDelivery & { alert: NonNullable<ClaimedDelivery['alert']> })[] = [];
  for (const d of claimed) {
    if (d.renderLevel !== RENDER_LEVEL.packable || d.mention || !d.alert) break;
    packable.push(d as (typeof packable)[number]);
  }
  const { taken, message } = packMessage(packable.map((d) => d.alert), { username });
  return withButtons(packable.slice(0, taken), message);
}
