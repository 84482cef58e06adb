import { RAISED_PAGE, withMention } from '../discord/mention.js';
import type { ClaimedDelivery } from '../store/deliveries.js';
import { cardButtons } from '../cards/buttons.js';
import { packMessage } from '../cards/pack.js';
import { packCompact } from '../cards/storm.js';
import { THREAD_NAME_MAX } from '../discord/limits.js';
import { truncateEnd } from '../discord/truncate.js';
import type { WebhookMessage } from '../discord/message.js';
import type { CardThreadMode } from '../domain/threads.js';
import { incidentThreadName, renderThreadNote, threadName } from '../cards/thread-note.js';
import { renderIncidentCard, renderIncidentPage, type IncidentPageReason } from '../cards/incident-card.js';
import type { StatefulAlert } from '../domain/alert-state.js';

/** An incident's page: an escalation step's mention (or a risen member's page) for a member of an incident, posted as a card (not a thread note). */
export const isIncidentPage = (d: ClaimedDelivery): boolean => d.alert !== null && d.alert.incidentId != null && !d.note && !d.message && d.mention !== null;

/** Why a page delivery pages (its `mention`): a risen member names nobody. */
export const pageReason = (mention: string, member: StatefulAlert): IncidentPageReason => (mention === RAISED_PAGE ? { kind: 'raised', member } : { kind: 'escalation' });

/**
 * An incident's page (`isIncidentPage`), alone: the incident's card of every member with its buttons, or a short
 * message naming the card when it is already in this channel (`renderIncidentPage`); exactly its mention pings.
 */
export function composeIncidentPage(
  page: ClaimedDelivery,
  incident: { id: number; title: string; mutedUntil?: number | null },
  members: StatefulAlert[],
  opts: { owner: 'app' | 'external'; username: string; mode: CardThreadMode; cardHere: boolean },
): Post {
  const message = renderIncidentPage(incident, members, {
    username: opts.username,
    buttons: opts.owner === 'app',
    thread: opts.mode !== null,
    mutedUntil: incident.mutedUntil ?? null,
    cardHere: opts.cardHere,
    reason: pageReason(page.mention!, page.alert!),
  });
  withMention(message, page.mention!);
  if (opts.mode === 'forum') message.thread_name = incidentThreadName(incident.title, incident.id);
  return { batch: [page], message, threadMode: opts.mode };
}

/** A delivery of an incident's member (not a thread follow-up, an escalation's mention or a digest): it belongs on the incident's card. */
export const isIncidentMember = (d: ClaimedDelivery): boolean => d.alert !== null && d.alert.incidentId != null && !d.note && !d.mention && !d.message;

/**
 * The first card of an incident in a channel: every member claimed (two or more; a lone member goes as its
 * own alert card, `composePost`, and later members turn that card into the incident's). Goes alone; an
 * application-owned webhook's card carries the incident's buttons; in a forum it names its post.
 */
export function composeIncidentPost(
  batch: ClaimedDelivery[],
  incident: { id: number; title: string; mutedUntil?: number | null },
  owner: 'app' | 'external',
  username: string,
  mode: CardThreadMode,
): Post {
  const message = renderIncidentCard(incident, batch.map((d) => d.alert!), { username, buttons: owner === 'app', thread: mode !== null, mutedUntil: incident.mutedUntil ?? null });
  if (mode === 'forum') message.thread_name = incidentThreadName(incident.title, incident.id);
  return { batch, message, threadMode: mode };
}

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
  /** Set by the lane on a compact post: the storm its lines belong to. */
  stormId?: number;
  /** Posted into this thread (`?thread_id=`): a follow-up of a card. */
  threadId?: string;
  /** The card opens a forum post (`thread_name` is set) or gets a thread started from it by the bot. */
  threadMode?: CardThreadMode;
}

/** No threads anywhere (a Herald built without the thread policy, and unit tests of packing). */
const NO_THREADS = (): CardThreadMode => null;

/**
 * The message for claimed deliveries (best first): packs what it can; a message holding one alert,
 * sent by an application-owned webhook, gets the card's buttons. A message rendered in advance (a
 * digest) and an escalation step's mention go alone. Deliveries left out go back to the queue.
 */
export function composePost(claimed: ClaimedDelivery[], owner: 'app' | 'external', username: string, modeOf: (d: ClaimedDelivery) => CardThreadMode = NO_THREADS): Post {
  const first = claimed[0]!;
  const firstMode = modeOf(first);
  // A thread follow-up goes alone, into its thread (or, once that thread is locked or gone, into the channel).
  if (first.note && first.alert) {
    const message = renderThreadNote(first.note, first.alert, { username, mention: first.mention });
    if (firstMode === 'forum') message.thread_name = threadName(first.alert);
    return { batch: [first], message, ...(first.threadId ? { threadId: first.threadId } : {}), threadMode: firstMode };
  }
  if (first.message || !first.alert) {
    const message = first.message ?? { embeds: [], allowed_mentions: { parse: [] } };
    if (firstMode === 'forum') message.thread_name = truncateEnd(message.embeds[0]?.title ?? 'Herald', THREAD_NAME_MAX);
    return { batch: [first], message, threadMode: firstMode };
  }
  const withButtons = (batch: ClaimedDelivery[], message: WebhookMessage): Post => {
    if (owner === 'app' && batch.length === 1) message.components = cardButtons(batch[0]!.alert!);
    if (batch.length === 1 && batch[0]!.mention) withMention(message, batch[0]!.mention);
    return { batch, message };
  };
  // A card with a thread of its own is one alert's: sent alone, and in a forum it names its post.
  if (first.renderLevel !== RENDER_LEVEL.packable || first.mention || firstMode !== null) {
    const { message } = packMessage([first.alert], { username, degraded: first.renderLevel === RENDER_LEVEL.degraded });
    if (firstMode === 'forum') message.thread_name = threadName(first.alert);
    return { ...withButtons([first], message), threadMode: firstMode };
  }
  const packable: (ClaimedDelivery & { alert: NonNullable<ClaimedDelivery['alert']> })[] = [];
  for (const d of claimed) {
    // An incident's member is never packed with other alerts: its message becomes the incident's card.
    if (d.renderLevel !== RENDER_LEVEL.packable || d.mention || d.note || !d.alert || modeOf(d) !== null || (packable.length > 0 && (isIncidentMember(d) || isIncidentMember(packable[0]!)))) break;
    packable.push(d as (typeof packable)[number]);
  }
  const { taken, message } = packMessage(packable.map((d) => d.alert), { username });
  return withButtons(packable.slice(0, taken), message);
}

/**
 * The message for claimed deliveries during a storm: a P0/P1 (or anything not packable: a digest, an
 * escalation's mention, one Discord refused, a thread follow-up, a card with a thread or forum post of its
 * own) goes as it would outside a storm, alone, so a page keeps its
 * own card with buttons; otherwise the P2/P3 at the head of the claim go as lines of one compact message.
 */
export function composeStormPost(claimed: ClaimedDelivery[], owner: 'app' | 'external', username: string, modeOf: (d: ClaimedDelivery) => CardThreadMode = NO_THREADS): Post {
  // A thread follow-up, or a card that opens a thread or a forum post, is one alert's: it goes as outside a storm.
  const lineable = (d: ClaimedDelivery) =>
    d.priority >= 2 && !d.message && !d.mention && !d.note && d.alert !== null && d.renderLevel === RENDER_LEVEL.packable && modeOf(d) === null;
  const head: ClaimedDelivery[] = [];
  for (const d of claimed) {
    if (!lineable(d)) break;
    head.push(d);
  }
  if (head.length === 0) return composePost(claimed.slice(0, 1), owner, username, modeOf);
  const { taken, message } = packCompact(
    head.map((d) => d.alert!),
    username,
  );
  // Room left: every claimed delivery fit and the claim did not reach its limit (the backlog is all here).
  return { batch: head.slice(0, taken), message, compact: true, roomLeft: taken === claimed.length && claimed.length < STORM_CLAIM };
}
