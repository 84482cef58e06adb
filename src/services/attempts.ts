import type { Store } from '../store/index.js';
import type { AttemptFilter, AttemptView } from '../store/attempts.js';

export type { AttemptFilter, AttemptView };

/** Requests Herald made to Discord, newest first. */
export function listAttempts(h: { store: Pick<Store, 'attempts'> }, f: AttemptFilter): AttemptView[] {
  return h.store.attempts.list(f);
}
