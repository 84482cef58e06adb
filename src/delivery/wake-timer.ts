/**
 * One timer that runs `fire` at the earliest moment asked for: asking for a later moment than the one
 * already set changes nothing, an earlier one moves it. Lanes and the escalation runner each keep one,
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
