import { withMention } from '../discord/mention.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import { cardButtons } from '../cards/buttons.js';
import { packMessage } from '../cards/pack.js';
import { packCompact } from '../cards/storm.js';
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

/** Deliveries a storm post claims at once: more than the longest compact message holds (about 50–170 lines). */
export const STORM_CLAIM = 200;

/**
 * A post: the deliveries it carries (a prefix of those claimed) and the message; `compact`: storm lines;
 * `roomLeft`: a compact message that could hold more lines than are waiting.
 */
export interface Post {
  batch: ClaimedDelivery[];
  message: WebhookMessage;
  compact?: boolean;
  roomLeft?: boolean;
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

/**
 * The message for claimed deliveries during a storm: a P0/P1 (or anything not packable: a digest, an
 * escalation's mention, one Discord refused) goes as it would outside a storm, alone, so a page keeps its
 * own card with buttons; otherwise the P2/P3 at the head of the claim go as lines of one compact message.
 */
export function composeStormPost(claimed: ClaimedDelivery[], owner: 'app' | 'external', username: string): Post {
  const lineable = (d: ClaimedDelivery) => d.priority >= 2 && !d.message && !d.mention && d.alert !== null && d.renderLevel === RENDER_LEVEL.packable;
  const head: ClaimedDelivery[] = [];
  for (const d of claimed) {
    if (!lineable(d)) break;
    head.push(d);
  }
  if (head.length === 0) return composePost(claimed.slice(0, 1), owner, username);
  const { taken, message } = packCompact(
    head.map((d) => d.alert!),
    username,
  );
  // Room left: every claimed delivery fit and the claim did not reach its limit (the backlog is all here).
  return { batch: head.slice(0, taken), message, compact: true, roomLeft: taken === claimed.length && claimed.length < STORM_CLAIM };
}
