/**
 * The one SQLite connection, taken in turns. better-sqlite3 runs each statement synchronously, but an asynchronous
 * transaction (`Store.transaction(async (tx) => …)`) awaits between its statements, and while it does, any other
 * flow's store call would run on the same connection, inside that transaction (and be rolled back with it). So a
 * transaction holds the gate from BEGIN to COMMIT; a call made through the store (not the transaction's `tx`)
 * while it is held waits its turn, in arrival order, and runs alone once the transaction ends. When the gate is
 * free, a call runs at once: on the hot path it costs one check.
 */
export class ConnectionGate {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly onSlowWait: (what: string) => void = () => {},
    private readonly slowWaitMs = 30_000,
  ) {}

  /** Runs `fn` with the connection to itself, after every turn queued before it. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held = true;
    try {
      return await fn();
    } finally {
      // Handed straight to the next in line (still held), or freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.held = false;
    }
  }

  /** A store call from outside any transaction: at once when the gate is free, else in its turn. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!this.held) return fn();
    // Only a call that should have gone through a transaction's `tx` waits this long: it waits for itself.
    const slow = setTimeout(() => this.onSlowWait(what), this.slowWaitMs);
    slow.unref();
    return this.exclusive(fn).finally(() => clearTimeout(slow));
  }
}

const AsyncFunction = (async () => {}).constructor;

/**
 * The module as callers outside a transaction see it: its asynchronous methods (those that reach the database)
 * go through the gate; its synchronous ones (cache readers) and its fields are the module's own.
 */
export function gated<M extends object>(module: M, name: string, gate: ConnectionGate): M {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(module, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      let w = wrapped.get(key);
      if (w === undefined) {
        const fn = value as (...args: unknown[]) => unknown;
        w =
          value instanceof AsyncFunction
            ? (...args: unknown[]) => gate.call(`${name}.${String(key)}`, () => fn.apply(target, args) as Promise<unknown>)
            : fn.bind(target);
        wrapped.set(key, w);
      }
      return w;
    },
  });
}
