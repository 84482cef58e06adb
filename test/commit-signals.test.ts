import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commitSignals, deliverySignals } from '../src/delivery/signals.js';
import { QueuedPosts } from '../src/pipeline/queued-posts.js';
import { Guard } from '../src/guard.js';
import { createLogger } from '../src/log.js';

/** The port's fan-out with recording fakes for the workers, and a real Guard logging into `lines`. */
function setUp() {
  const calls: string[] = [];
  const lines: { level: number; msg: string; task?: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const guard = new Guard(createLogger('debug', sink));
  let poolFails = false;
  const scheduler = {
    wake: (channelId: number, n: number, onlyLow?: boolean) => calls.push(`wake ${channelId} ${n}${onlyLow ? ' low' : ''}`),
    wakeOps: (channelId: number) => calls.push(`wakeOps ${channelId}`),
    reloadPool: (channelId: number) => {
      if (poolFails) throw new Error('pool cannot be read');
      calls.push(`reloadPool ${channelId}`);
    },
  };
  const delivery = deliverySignals(scheduler, guard);
  const signals = commitSignals(
    {
      delivery,
      outbound: { start: () => calls.push('outbound start') },
      escalation: { afterCommit: () => calls.push('escalation afterCommit'), poke: () => calls.push('escalation poke') },
    },
    guard,
  );
  return { signals, delivery, calls, lines, failPool: (fails: boolean) => (poolFails = fails) };
}

describe('commit signals', () => {
  it('each signal reaches the worker that owns it, with its arguments', () => {
    const { signals, calls } = setUp();
    signals.deliveriesQueued(3, 7);
    signals.editsQueued(4);
    signals.poolChanged(5);
    signals.outboundQueued();
    signals.escalationsArmed();
    signals.chainsChanged();
    expect(calls).toEqual(['wake 3 7', 'wakeOps 4', 'reloadPool 5', 'outbound start', 'escalation afterCommit', 'escalation poke']);
  });

  it('the full port reuses the delivery part handed to the escalation runner (one guard per signal, not two)', () => {
    const { signals, delivery } = setUp();
    expect(signals.deliveriesQueued).toBe(delivery.deliveriesQueued);
    expect(signals.editsQueued).toBe(delivery.editsQueued);
    expect(signals.poolChanged).toBe(delivery.poolChanged);
  });

  it('a worker that throws never reaches the caller; it is logged once per streak, and once when it works again', () => {
    const { signals, calls, lines, failPool } = setUp();
    failPool(true);
    expect(() => signals.poolChanged(1)).not.toThrow();
    expect(() => signals.poolChanged(2)).not.toThrow();
    // The other signals go on meanwhile.
    signals.deliveriesQueued(1, 1);
    expect(calls).toEqual(['wake 1 1']);
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.task).toBe("rebuilding a channel's webhook pool");
    failPool(false);
    signals.poolChanged(3);
    expect(calls).toEqual(['wake 1 1', 'reloadPool 3']);
    expect(lines.filter((l) => l.level === 30 && /works again/.test(l.msg))).toHaveLength(1);
  });
});

describe('the posts one group commit queued', () => {
  it('tells each channel once, how many are ready, and whether all of them are P2/P3', () => {
    const { signals, calls } = setUp();
    const posts = new QueuedPosts();
    posts.add(1, 3, false);
    posts.add(1, 2, false);
    posts.add(2, 3, false);
    posts.add(2, 0, false); // a page: channel 2 must look at once
    posts.add(3, 1, true); // held for business hours: nothing ready, but a P1 all the same
    posts.signal(signals);
    expect(calls).toEqual(['wake 1 2 low', 'wake 2 2', 'wake 3 0']);
  });
});
