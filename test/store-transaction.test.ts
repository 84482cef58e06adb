import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/index.js';
import { ConnectionGate } from '../src/store/sqlite/gate.js';

/**
 * The store's asynchronous transaction on SQLite (src/store/index.ts, sqlite/gate.ts), against a real database file:
 * while a transaction awaits between its statements, a call from outside it waits for it instead of running inside it
 * (and being rolled back with it).
 */
let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-tx-'));
  store = openStore(join(dir, 'herald.db'), { sync: 'normal', agingMs: 60_000 });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const messages = async () => (await store.events.list({ limit: 10 })).map((e) => e.message).reverse();

it('commits every call made through tx together, after the callback resolves', async () => {
  const result = await store.transaction(async (tx) => {
    await tx.webhooks.recordEvent('test', 'one', 1);
    await tx.webhooks.recordEvent('test', 'two', 2);
    return 'done';
  });
  expect(result).toBe('done');
  expect(await messages()).toEqual(['one', 'two']);
});

it('a throw rolls back everything written through tx and is rethrown; a nested tx.transaction joins it', async () => {
  const failed = store.transaction(async (tx) => {
    await tx.webhooks.recordEvent('test', 'outer', 1);
    await tx.transaction(async (inner) => inner.webhooks.recordEvent('test', 'inner', 2));
    throw new Error('no');
  });
  await expect(failed).rejects.toThrow('no');
  expect(await messages()).toEqual([]);
});

it('a call from outside made while a transaction awaits runs after it, and survives its rollback', async () => {
  let outside: Promise<void> | undefined;
  const failed = store.transaction(async (tx) => {
    await tx.webhooks.recordEvent('test', 'inside', 1);
    outside = store.webhooks.recordEvent('test', 'outside', 2);
    await tx.webhooks.recordEvent('test', 'inside again', 3);
    // Not yet run: it waits for the transaction, which has not ended.
    expect((await tx.events.list({ limit: 10 })).map((e) => e.message)).toEqual(['inside again', 'inside']);
    throw new Error('rolled back');
  });
  await expect(failed).rejects.toThrow('rolled back');
  await outside;
  expect(await messages()).toEqual(['outside']);
});

it('transactions take turns in the order they were asked for; cache readers answer at once meanwhile', async () => {
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const first = store.transaction(async (tx) => {
    await tx.webhooks.recordEvent('test', 'first', 1);
    order.push('first');
    await held; // only a test awaits something else inside a transaction: it holds the gate open
  });
  const second = store.transaction(async (tx) => {
    order.push('second');
    await tx.webhooks.recordEvent('test', 'second', 2);
  });
  const plain = store.webhooks.recordEvent('test', 'plain', 3).then(() => order.push('plain'));
  expect(store.routes.routes).toEqual([]); // synchronous, from memory, not behind the gate
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual(['first']);
  release();
  await Promise.all([first, second, plain]);
  expect(order).toEqual(['first', 'second', 'plain']);
  expect(await messages()).toEqual(['first', 'second', 'plain']);
});

it('the gate says when a call waits for long (a call inside a transaction that went through the store, not tx)', async () => {
  let warned!: (what: string) => void;
  const warning = new Promise<string>((r) => (warned = r));
  const gate = new ConnectionGate((what) => warned(what), 20);
  let release!: () => void;
  let ran = false;
  const held = gate.exclusive(() => new Promise<void>((r) => (release = r)));
  const waiting = gate.call('alerts.latest', async () => (ran = true));
  expect(await warning).toBe('alerts.latest');
  expect(ran).toBe(false);
  release();
  expect(await waiting).toBe(true);
  await held;
});
