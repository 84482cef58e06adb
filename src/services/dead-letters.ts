import type { CommitSignals } from '../delivery/signals.js';
import type { Store } from '../store/index.js';
import type { DeadLetterFilter } from '../store/dead-letters.js';
import type { DeadLetterView } from './views.js';

export type { DeadLetterFilter, DeadLetterView };

type Deps = { store: Pick<Store, 'deadLetters'> };

/** Dead letters, newest first. */
export function listDeadLetters(h: Deps, f: DeadLetterFilter): Promise<DeadLetterView[]> {
  return h.store.deadLetters.list(f);
}

/**
 * Sends a dead delivery again: back to pending with a fresh start (attempts 0, normal rendering,
 * available now, a new age budget), the dead letter marked replayed, and the channel's lane woken.
 */
export async function replayDeadLetter(
  h: Deps & { signals: Pick<CommitSignals, 'deliveriesQueued' | 'editsQueued'> },
  id: number,
  now = Date.now(),
): Promise<{ delivery_id: number; channel_id: number }> {
  const result = await h.store.deadLetters.replay(id, now);
  if (result.op) h.signals.editsQueued(result.channel_id);
  else h.signals.deliveriesQueued(result.channel_id, 1);
  return { delivery_id: result.delivery_id, channel_id: result.channel_id };
}

/** Dead letters not replayed yet, for /status. */
export function countPendingDeadLetters(h: Deps): Promise<number> {
  return h.store.deadLetters.countPending();
}
