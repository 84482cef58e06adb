import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { AlertInput } from '../src/domain/alert.js';
import { createMetrics } from '../src/metrics.js';
import { Acceptor, buildPipeline } from '../src/pipeline/index.js';
import { openStore, type Store } from '../src/store/index.js';

/**
 * The acceptor's group commit over the asynchronous store (src/pipeline/accept.ts), on a real SQLite file: one
 * transaction per batch, its requests applied one after another through the transaction's store, one flush at a time.
 */
let dir: string;
let store: Store;
let acceptor: Acceptor;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-acceptor-'));
  store = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
  await store.channels.create({ name: 'ops', discordChannelId: '123456789012345678', isDefault: true });
  const signals = { deliveriesQueued: () => {}, editsQueued: () => {}, escalationsArmed: () => {} };
  acceptor = new Acceptor(store, buildPipeline({ routes: store.routes, mutes: store.mutes, reopenWindowMs: 3_600_000 }), signals, createMetrics(), pino({ level: 'silent' }));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const fire = (key: string): AlertInput => ({ service: 's', severity: 'P2', title: 't', status: 'firing', dedup_key: key });

it('one batch: a repeat later in it folds into the alert stored earlier in it', async () => {
  const [a, b, c] = await Promise.all([acceptor.submit(null, [fire('k')]), acceptor.submit(null, [fire('k')]), acceptor.submit(null, [fire('k'), fire('j')])]);
  expect(b.ids).toEqual(a.ids);
  expect(c.ids[0]).toBe(a.ids[0]);
  expect(c.ids[1]).not.toBe(a.ids[0]);
  expect((await store.alerts.row(a.ids[0]!)).occurrences).toBe(3);
});

it('a flush asked for while one is in flight is that one; what was queued meanwhile commits after it, in order', async () => {
  const first = acceptor.submit(null, [fire('x')]);
  const flushing = acceptor.flush();
  const second = acceptor.submit(null, [fire('x')]);
  expect(acceptor.flush()).toBe(flushing);
  await flushing;
  const [a, b] = await Promise.all([first, second]);
  expect(b.ids).toEqual(a.ids);
  expect((await store.alerts.row(a.ids[0]!)).occurrences).toBe(2);
  await acceptor.flush(); // nothing queued: resolves
});

it('the early flush of a large batch and the next turn commit one after the other', async () => {
  const big = acceptor.submit(null, Array.from({ length: 5000 }, (_, i) => fire(`b${i % 10}`)));
  const next = acceptor.submit(null, [fire('b0')]);
  const [r1, r2] = await Promise.all([big, next]);
  expect(r2.ids[0]).toBe(r1.ids[0]);
  expect((await store.alerts.row(r1.ids[0]!)).occurrences).toBe(501);
});

it('a failing request in a batch is retried alone and fails alone; its neighbours are stored', async () => {
  const r = await Promise.allSettled([acceptor.submit(null, [fire('g')]), acceptor.submit(999, [fire('g')]), acceptor.submit(null, [fire('g')])]);
  expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  const ids = r.flatMap((x) => (x.status === 'fulfilled' ? x.value.ids : []));
  expect(ids[1]).toBe(ids[0]);
});
