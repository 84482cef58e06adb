import type { Store } from '../store/index.js';
import type { AttemptFilter } from '../store/attempts.js';
import type { AttemptView } from './views.js';

export type { AttemptFilter, AttemptView };

/** Requests Herald made to Discord, newest first. */
export function listAttempts(h: { store: Pick<Store, 'attempts'> }, f: AttemptFilter): Promise<AttemptView[]> {
  return h.store.attempts.list(f);
}
