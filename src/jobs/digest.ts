import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Herald } from '../herald.js';
import { listDigests, runScheduledDigest } from '../services/digest.js';

export interface DigestJobView {
  channel_id: number;
  pattern: string;
  timezone: string;
  next_run_at: number | null;
}

/**
 * The daily digests: one node-cron task per channel whose digest is enabled, at its time in its time
 * zone. A task only calls `runScheduledDigest` (the computation lives in services/digest.ts). Settings
 * changes call `reload`; nothing runs until `start` (main.ts starts it with the other workers).
 */
export class DigestJobs {
  private tasks = new Map<number, { task: ScheduledTask; timezone: string }>();
  private started = false;

  constructor(
    private readonly h: () => Pick<Herald, 'store' | 'config' | 'scheduler' | 'digests' | 'guard'>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.started = true;
    this.reload();
  }

  /** Re-reads every channel's settings and reschedules (no-op before `start`). */
  reload(): void {
    if (!this.started) return;
    this.clear();
    for (const s of listDigests(this.h())) {
      if (!s.enabled) continue;
      const [hh, mm] = s.time.split(':');
      const pattern = `${Number(mm)} ${Number(hh)} * * *`;
      const task = cron.schedule(pattern, () => this.fire(s.channel_id), { timezone: s.timezone, name: `digest-${s.channel_id}`, noOverlap: true });
      task.unref();
      this.tasks.set(s.channel_id, { task, timezone: s.timezone });
    }
  }

  /** What is scheduled (for the admin API and tests). */
  describe(): DigestJobView[] {
    return [...this.tasks].map(([channelId, { task, timezone }]) => ({
      channel_id: channelId,
      pattern: task.getPattern(),
      timezone,
      next_run_at: task.getNextRun()?.getTime() ?? null,
    }));
  }

  /** The task's body: post the channel's digest (guarded: an error is logged; the next day tries again). */
  fire(channelId: number, now = Date.now()): void {
    this.h().guard.wrap(`daily digest of channel ${channelId}`, () => {
      const r = runScheduledDigest(this.h(), channelId, now);
      if (r) this.log.info({ channelId, fired: r.totals.fired }, 'daily digest queued');
    })();
  }

  stop(): void {
    this.started = false;
    this.clear();
  }

  private clear(): void {
    for (const { task } of this.tasks.values()) void task.destroy();
    this.tasks.clear();
  }
}
