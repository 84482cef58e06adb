import type { BreakerSnapshot, BreakerState } from '../domain/breaker-state.js';

export type { BreakerSnapshot, BreakerState } from '../domain/breaker-state.js';

/**
 * A per-webhook circuit breaker for 5xx answers and timeouts: `threshold` failures in a row open it;
 * after `cooldownMs` one probe is let through (half-open); its success closes the breaker, its failure
 * opens it again. `onChange` persists transitions so the admin API and /metrics can show them.
 */
export class CircuitBreaker {
  private probeInFlight = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private snap: BreakerSnapshot,
    private readonly onChange: (snap: BreakerSnapshot) => void,
  ) {}

  get state(): BreakerState {
    return this.snap.state;
  }

  allows(now: number): boolean {
    if (this.snap.state === 'closed') return true;
    if (this.snap.state === 'open') {
      if (now < (this.snap.openedAt ?? 0) + this.cooldownMs) return false;
      this.set({ ...this.snap, state: 'half_open' });
    }
    return !this.probeInFlight;
  }

  /** When an open breaker will let a probe through (now if it already would). */
  nextAllowedAt(now: number): number {
    return this.snap.state === 'open' ? Math.max(now, (this.snap.openedAt ?? 0) + this.cooldownMs) : now;
  }

  begin(): void {
    if (this.snap.state === 'half_open') this.probeInFlight = true;
  }

  success(): void {
    this.probeInFlight = false;
    if (this.snap.state !== 'closed' || this.snap.failures !== 0) this.set({ state: 'closed', failures: 0, openedAt: null });
  }

  failure(now: number): void {
    this.probeInFlight = false;
    const failures = this.snap.failures + 1;
    if (this.snap.state === 'half_open' || failures >= this.threshold) this.set({ state: 'open', failures, openedAt: now });
    else this.set({ ...this.snap, failures });
  }

  /** An answer that says nothing about health (a 429, a 400): a half-open probe is over, nothing else changes. */
  neutral(): void {
    this.probeInFlight = false;
  }

  private set(snap: BreakerSnapshot): void {
    const changedState = snap.state !== this.snap.state;
    this.snap = snap;
    if (changedState) this.onChange(snap);
  }
}
