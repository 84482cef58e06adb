import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { DigestReport } from '../domain/digest.js';
import type { Guard } from '../guard.js';
import type { DigestStore } from '../store/digests.js';

/** What the digest jobs use: the settings (and their change signal), the digest service's post, a guard and a logger. */
export interface DigestJobDeps {
  /** Each channel's settings; the jobs reschedule after every write of them (`onChange`). */
  settings: Pick<DigestStore, 'all' | 'onChange'>;
  /** services/digest.ts `runScheduledDigest`: posts the channel's digest unless it is off or just posted. */
  runScheduled: (channelId: number, now: number) => Promise<DigestReport | null> | DigestReport | null;
  guard: Pick<Guard, 'wrap'>;
  log: Logger;
}

export interface DigestJobView {
  channel_id: number;
  pattern: string;
  timezone: string;
  next_run_at: number | null;
}

/**
 * The daily digests: one node-cron task per channel whose digest is enabled, at its time in its time
 * zone. A task only calls `runScheduled` (the computation lives in services/digest.ts). The settings
 * store signals each change of them and the jobs reschedule; nothing runs until `start` (main.ts starts
 * it with the other workers).
 */
export class DigestJobs {
  private tasks = new Map<number, { task: ScheduledTask; timezone: string }>();
  private started = false;
  /** Counts reloads: one whose read was overtaken by a later reload's leaves the tasks to it. */
  private generation = 0;

  constructor(private readonly deps: DigestJobDeps) {
    const reload = deps.guard.wrap('rescheduling the daily digests', () => this.reload());
    deps.settings.onChange(() => reload());
  }

  async start(): Promise<void> {
    this.started = true;
    await this.reload();
  }

  /** Re-reads every channel's settings and reschedules (no-op before `start`). */
  private async reload(): Promise<void> {
    if (!this.started) return;
    const generation = ++this.generation;
    const all = await this.deps.settings.all();
    // Stopped meanwhile, or a later change's reload is under way: it schedules from what it reads.
    if (!this.started || generation !== this.generation) return;
    this.clear();
    for (const s of all) {
      if (!s.enabled) continue;
      const [hh, mm] = s.time.split(':');
      const pattern = `${Number(mm)} ${Number(hh)} * * *`;
      const task = cron.schedule(pattern, () => this.fire(s.channelId), { timezone: s.timezone, name: `digest-${s.channelId}`, noOverlap: true });
      task.unref();
      this.tasks.set(s.channelId, { task, timezone: s.timezone });
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
    this.deps.guard.wrap(`daily digest of channel ${channelId}`, async () => {
      const r = await this.deps.runScheduled(channelId, now);
      if (r) this.deps.log.info({ channelId, fired: r.totals.fired }, 'daily digest queued');
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
