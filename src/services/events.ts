import type { Store } from '../store/index.js';
import type { EventFilter } from '../store/events.js';
import type { EventView } from './views.js';

export type { EventFilter, EventView };

/** Happenings that need a person (a webhook quarantined, a channel with no healthy webhook), newest first. */
export function listEvents(h: { store: Pick<Store, 'events'> }, f: EventFilter): Promise<EventView[]> {
  return h.store.events.list(f);
}
