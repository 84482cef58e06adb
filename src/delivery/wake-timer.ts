/**
 * One timer that runs `fire` at the earliest moment asked for: asking for a later moment than the one
 * already set changes nothing, an earlier one moves it. Lanes and the escalation and heartbeat runners each keep one,
 * so any number of reasons to wake collapse into a single pending timer. Unref'd: it never keeps the
 * process alive on its own.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Infinity;

  constructor(private readonly fire: () => void) {}

  /** Fire at `at` (epoch ms; now or past: as soon as possible), unless an earlier firing is already set. */
  schedule(at: number): void {
    if (at >= this.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.at = Infinity;
      this.fire();
    }, Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Infinity;
  }
}

/**
 * A WakeTimer for a worker's passes that can be stopped and started again (the escalation and heartbeat
 * runners): stopped, it ignores every request to wake; started, it runs a pass at once.
 */
export class PassTimer {
  private readonly timer: WakeTimer;
  private isStopped = true;

  constructor(pass: () => void) {
    this.timer = new WakeTimer(pass);
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  start(): void {
    this.isStopped = false;
    this.schedule(Date.now());
  }

  stop(): void {
    this.isStopped = true;
    this.timer.clear();
  }

  /** Run a pass at `at` (now or past: as soon as possible), unless stopped or one is set earlier. */
  schedule(at: number): void {
    if (!this.isStopped) this.timer.schedule(at);
  }
}
