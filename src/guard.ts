import type { Logger } from 'pino';
import { isDbUnavailable, type WriteHealth } from './store/sqlite/health.js';

export interface GuardOptions {
  /**
   * Called after a failure with how long to wait before trying again (backoff: 100 ms doubling up to
   * 5 s, reset by a success). Without it the failure is only logged: the next tick of an interval, or
   * the next cron run, is the retry.
   */
  retry?: (delayMs: number) => void;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

/**
 * The one guard for work that runs outside a request: timers, intervals, cron tasks, promise callbacks.
 * Whatever the work throws (or its promise rejects with) is logged and never reaches the process, so a
 * busy or full database cannot kill Herald. One error line per streak of failures (an 8 s lock does not
 * flood the log), one info line when it works again; database write failures are also noted for /readyz.
 */
export class Guard {
  constructor(
    private readonly log: Logger,
    private readonly health?: WriteHealth,
  ) {}

  /** `what` names the work in the log, e.g. "delivery lane 3". The wrapper returns nothing and never throws. */
  wrap<A extends unknown[]>(what: string, body: (...args: A) => unknown, opts: GuardOptions = {}): (...args: A) => void {
    let failures = 0;
    const failed = (err: unknown) => {
      failures++;
      const delayMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 16));
      if (isDbUnavailable(err)) this.health?.noteFailure(err);
      if (failures === 1) this.log.error({ err, task: what }, `${what} failed; ${opts.retry ? 'retrying with backoff' : 'it runs again at its next turn'}`);
      else this.log.debug({ err, task: what, failures }, `${what} failed again`);
      opts.retry?.(delayMs);
    };
    const succeeded = () => {
      if (failures > 0) this.log.info({ task: what, failures }, `${what} works again`);
      failures = 0;
    };
    return (...args: A) => {
      try {
        const result = body(...args);
        if (result instanceof Promise) result.then(succeeded, failed);
        else succeeded();
      } catch (err) {
        failed(err);
      }
    };
  }
}
