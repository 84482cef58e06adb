import type { EmulatorStats } from './types.js';

/** Discord's invalid-request ban counts 401, 403 and 429 answers (shared-scope 429s excepted) over 10 minutes. */
const INVALID_WINDOW_MS = 10 * 60_000;

/** Counters for the Discord-shaped routes (the control API is not counted). */
export class StatsRecorder {
  private requests = 0;
  private byStatus: Record<string, number> = {};
  private rateLimited = { user: 0, shared: 0, global: 0 };
  private invalid: number[] = [];
  private messagesCreated = 0;

  request(): void {
    this.requests++;
  }

  response(status: number, scope: string | undefined, now: number): void {
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (status === 429) {
      if (scope === 'shared' || scope === 'global') this.rateLimited[scope]++;
      else this.rateLimited.user++;
    }
    if (status === 401 || status === 403 || (status === 429 && scope !== 'shared')) {
      this.prune(now);
      this.invalid.push(now);
    }
  }

  /** Drops what left the sliding window; the array stays sorted because `now` only grows. */
  private prune(now: number): void {
    let drop = 0;
    while (drop < this.invalid.length && this.invalid[drop]! <= now - INVALID_WINDOW_MS) drop++;
    if (drop) this.invalid.splice(0, drop);
  }

  messageCreated(): void {
    this.messagesCreated++;
  }

  snapshot(now: number): EmulatorStats {
    this.prune(now);
    return {
      requests: this.requests,
      byStatus: { ...this.byStatus },
      rateLimited: { ...this.rateLimited },
      invalidRequests10m: this.invalid.length,
      messagesCreated: this.messagesCreated,
    };
  }

  reset(): void {
    this.requests = 0;
    this.byStatus = {};
    this.rateLimited = { user: 0, shared: 0, global: 0 };
    this.invalid = [];
    this.messagesCreated = 0;
  }
}
