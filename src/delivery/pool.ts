import type { CircuitBreaker } from './breaker.js';
import { WebhookBucket } from './budget.js';

/** A webhook in a channel's pool, with the state that decides whether it may send now. */
export interface PoolMember {
  id: number;
  discordWebhookId: string;
  /** A credential: it goes into the request URL and nowhere else. */
  token: string;
  owner: 'app' | 'external';
  bucket: WebhookBucket;
  breaker: CircuitBreaker;
  /** One request at a time per webhook keeps its bucket exact and a slow webhook from hogging sends. */
  busy: boolean;
}

/** A channel's webhooks, picked round-robin among those healthy and within their own budget. */
export class WebhookPool {
  private members: PoolMember[] = [];
  private cursor = 0;

  get size(): number {
    return this.members.length;
  }

  ids(): number[] {
    return this.members.map((m) => m.id);
  }

  /** Replaces the members, keeping the live state (bucket, busy) of those that stay. */
  reset(next: Omit<PoolMember, 'bucket' | 'busy'>[]): void {
    const old = new Map(this.members.map((m) => [m.id, m]));
    this.members = next.map((m) => {
      const prev = old.get(m.id);
      return prev ? { ...m, bucket: prev.bucket, busy: prev.busy } : { ...m, bucket: new WebhookBucket(), busy: false };
    });
    this.cursor = this.cursor % Math.max(1, this.members.length);
  }

  get(id: number): PoolMember | undefined {
    return this.members.find((m) => m.id === id);
  }

  remove(id: number): void {
    this.members = this.members.filter((m) => m.id !== id);
  }

  /** The next member, round-robin, that may send now; `low` asks for one with room for a P2/P3 send. */
  pick(now: number, low = false): PoolMember | undefined {
    const n = this.members.length;
    for (let i = 0; i < n; i++) {
      const m = this.members[(this.cursor + i) % n]!;
      if (m.busy || !m.bucket.canSend(now, low) || !m.breaker.allows(now)) continue;
      this.cursor = (this.cursor + i + 1) % n;
      return m;
    }
    return undefined;
  }

  /** The earliest moment some member could send (null: the pool is empty; a busy member wakes the lane itself). */
  nextReadyAt(now: number, low = false): number | null {
    let best: number | null = null;
    for (const m of this.members) {
      if (m.busy) continue;
      const at = Math.max(m.bucket.nextSendAt(now, low), m.breaker.nextAllowedAt(now));
      if (best === null || at < best) best = at;
    }
    return best;
  }
}
