import type { RoutableAlert } from '../domain/routing.js';
import type { CardThreadMode } from '../domain/threads.js';
import type { ChannelStore } from '../store/channels.js';
import type { RouteStore } from '../store/routes.js';

/** What a post is, as far as threads go. */
export interface ThreadedPost {
  channelId: number;
  alert: RoutableAlert | null;
  mention: string | null;
  note: string | null;
  /** The thread it goes into, if any (a follow-up). */
  threadId: string | null;
}

/**
 * Decides how a post meets threads (issue 10 §3), from what the stores keep in memory: the routes (with
 * `threads`) and which channels are forums.
 * - In a forum channel every post that goes into no thread opens a post of its own (`thread_name`): the
 *   webhook cannot post in a forum otherwise (Discord answers 220001).
 * - In a text channel a card (not a follow-up, not an escalation step's mention: those belong to a card
 *   already posted) gets a thread started from it when a threads route of that channel matches its alert.
 *   Decided at send time, so a route changed meanwhile counts as it is then.
 */
export class ThreadPolicy {
  constructor(private readonly deps: { routes: Pick<RouteStore, 'routes'>; channels: Pick<ChannelStore, 'kindOf'> }) {}

  modeOf(p: ThreadedPost): CardThreadMode {
    if (p.threadId !== null) return null;
    if (this.deps.channels.kindOf(p.channelId) === 'forum') return 'forum';
    if (p.note !== null || p.mention !== null || p.alert === null) return null;
    const alert = p.alert;
    return this.deps.routes.routes.some((r) => r.threads === true && r.channelId === p.channelId && r.matches(alert)) ? 'start' : null;
  }

  /** Whether the channel is a forum (its cards live inside their posts: edits name the thread). */
  isForum(channelId: number): boolean {
    return this.deps.channels.kindOf(channelId) === 'forum';
  }
}
