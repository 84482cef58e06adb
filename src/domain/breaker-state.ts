/** A webhook's circuit breaker as it is persisted (webhooks.breaker_*): the breaker (delivery/) and the webhooks store share it. */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSnapshot {
  state: BreakerState;
  failures: number;
  openedAt: number | null;
}
