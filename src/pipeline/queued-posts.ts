import type { CommitSignals } from '../delivery/signals.js';

/**
 * The posts one group commit queued, per channel: how many are ready now, and whether any is P0/P1.
 * After the commit each channel's lane hears of them once; a channel that got only P2/P3 says so, so a
 * lane that cannot post P2/P3 yet is not made to look (under a flood, every commit queues P3 posts).
 */
export class QueuedPosts {
  private readonly channels = new Map<number, { ready: number; urgent: boolean }>();

  /** One delivery queued for `channelId`; `held`: no post of its own now (business hours, the digest, an incident member joining its card). */
  add(channelId: number, priority: number, held: boolean): void {
    const c = this.channels.get(channelId) ?? { ready: 0, urgent: false };
    if (!held) c.ready += 1;
    if (priority <= 1) c.urgent = true;
    this.channels.set(channelId, c);
  }

  /** Tells each channel's lane (after the commit). */
  signal(signals: Pick<CommitSignals, 'deliveriesQueued'>): void {
    for (const [channelId, c] of this.channels) signals.deliveriesQueued(channelId, c.ready, !c.urgent);
  }
}
