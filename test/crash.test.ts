import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { alert, alertIdsOf, deliveredAlertIds, waitFor } from './support/stack.js';
import { client, holdWriteLock, ROOT, spawnHerald } from './support/process.js';

const ADMIN = 'crash-test-admin-token-0123456789';
let emulator: Emulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ channelCap: { limit: 30, windowMs: 1000 }, webhookBucket: { limit: 5, windowMs: 100 } });
  dir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 of the real process mid-storm', () => {
  it('delivers every accepted alert after a restart; duplicates only for sends in flight at the kill', async () => {
    const env = {
      HERALD_DB: join(dir, 'herald.db'),
      HERALD_ADMIN_TOKEN: ADMIN,
      DISCORD_API_URL: emulator.url,
      // Herald paces the channel at 100 alerts/s (30 packed messages per 3 s): a backlog builds while the senders
      // post, so the kill lands mid-storm even when the senders' commits wait on a slow disk's fsync.
      HERALD_CHANNEL_CAP: '30',
      HERALD_CHANNEL_WINDOW_MS: '3000',
      HERALD_LOG_LEVEL: 'info',
    };
    const first = await spawnHerald(env);
    const api = client(first.url, ADMIN);
    const source = (await api.admin('POST', '/v1/admin/sources', { name: 'crash' })).body.token as string;
    const emuChannel = emulator.createChannel({ name: 'crash' });
    const ch = (await api.admin('POST', '/v1/admin/channels', { name: 'crash', discord_channel_id: emuChannel.id })).body.id as number;
    for (let i = 0; i < 2; i++) {
      const hook = emulator.createWebhook(emuChannel.id);
      expect((await api.admin('POST', `/v1/admin/channels/${ch}/webhooks`, { url: hook.url })).status).toBe(201);
    }
    await api.admin('POST', '/v1/admin/routes', { channel_id: ch });

    // 20 senders post single alerts as fast as they can; the process is killed while they do.
    const accepted: number[] = [];
    let killed = false;
    const sender = async (k: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await api.post(source, alert(k * 10_000 + i));
          if (res.status === 202) accepted.push(...(res.body.ids as number[]));
        } catch {
          return; // connection reset by the kill: that alert was never acknowledged
        }
      }
    };
    const senders = Array.from({ length: 20 }, (_, k) => sender(k));
    await waitFor('a storm under way', () => accepted.length >= 600 && deliveredAlertIds(emulator, emuChannel.id).length > 50, 30_000, 5);
    first.proc.kill('SIGKILL');
    killed = true;
    await first.exited;
    await Promise.all(senders);
    const deliveredBeforeRestart = deliveredAlertIds(emulator, emuChannel.id).length;
    expect(deliveredBeforeRestart).toBeLessThan(accepted.length);
    const postedBeforeRestart = new Set(emulator.messages(emuChannel.id).map((m) => m.id));

    const second = await spawnHerald(env);
    try {
      await waitFor(
        'every accepted alert delivered after restart',
        () => {
          const got = new Set(deliveredAlertIds(emulator, emuChannel.id));
          return accepted.every((id) => got.has(id));
        },
        60_000,
        100,
      );
      const delivered = deliveredAlertIds(emulator, emuChannel.id);
      const times = new Map<number, number>();
      for (const id of delivered) times.set(id, (times.get(id) ?? 0) + 1);
      const duplicated = new Set([...times].filter(([, n]) => n > 1).map(([id]) => id));
      // Duplicates only for sends in flight at the kill: messages Discord took that the killed process had not
      // recorded, at most one per webhook (2 here; a packed card holds up to 10 alerts, a compact storm message
      // dozens). Each such alert is shown twice: in that message, and once more after the restart.
      expect([...duplicated].every((id) => times.get(id) === 2)).toBe(true);
      const inFlightAtKill = emulator.messages(emuChannel.id).filter((m) => postedBeforeRestart.has(m.id) && alertIdsOf(m).some((id) => duplicated.has(id)));
      expect(inFlightAtKill.length).toBeLessThanOrEqual(2);
    } finally {
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});

describe("errors nothing caught reach the process-level handlers (src/main.ts)", () => {
  // Faults planted from outside Herald's code, on a signal (test/support/stray-errors.mjs).
  const faults = { NODE_OPTIONS: `--import ${join(ROOT, 'test/support/stray-errors.mjs')}` };
  const env = (name: string) => ({ HERALD_DB: join(dir, `${name}.db`), HERALD_ADMIN_TOKEN: ADMIN, DISCORD_API_URL: emulator.url, HERALD_LOG_LEVEL: 'info', ...faults });
  const linesWith = (output: string, text: string) => output.split('\n').filter((l) => l.includes(text));

  it('an unhandled rejection is logged in one line and Herald keeps serving', async () => {
    const herald = await spawnHerald(env('stray-rejection'));
    try {
      herald.proc.kill('SIGUSR2');
      await waitFor('the rejection logged', () => herald.output().includes('unhandled promise rejection'), 10_000);
      const lines = linesWith(herald.output(), 'a stray rejection nobody awaited');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, msg: 'unhandled promise rejection (Error: a stray rejection nobody awaited); Herald goes on' });
      // Still serving: health, and an alert taken and stored.
      expect((await fetch(`${herald.url}/healthz`)).status).toBe(200);
      const api = client(herald.url, ADMIN);
      const source = (await api.admin('POST', '/v1/admin/sources', { name: 'stray' })).body.token as string;
      expect((await api.post(source, alert(1))).status).toBe(202);
      expect(herald.proc.exitCode).toBeNull();
    } finally {
      herald.proc.kill('SIGTERM');
      await herald.exited;
    }
  });

  it('an uncaught exception that is not a database error exits non-zero with one line', async () => {
    const herald = await spawnHerald(env('stray-exception'));
    herald.proc.kill('SIGHUP');
    expect(await herald.exited).toBe(1);
    const lines = linesWith(herald.output(), 'a stray exception in a callback');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 60,
      msg: "uncaught exception (TypeError: a stray exception in a callback); exiting, as Herald's state may be inconsistent",
    });
  });
});

describe('another process holds the database write lock for 8 s', () => {
  it('Herald stays up, answers /healthz promptly, refuses ingest with 503 (never 202 unstored), then delivers again', async () => {
    const dbPath = join(dir, 'locked.db');
    const herald = await spawnHerald({
      HERALD_DB: dbPath,
      HERALD_ADMIN_TOKEN: ADMIN,
      DISCORD_API_URL: emulator.url,
      HERALD_CHANNEL_CAP: '30',
      HERALD_CHANNEL_WINDOW_MS: '1000',
      HERALD_LOG_LEVEL: 'info',
    });
    try {
      const api = client(herald.url, ADMIN);
      const source = (await api.admin('POST', '/v1/admin/sources', { name: 'lock' })).body.token as string;
      const emuChannel = emulator.createChannel({ name: 'lock' });
      const ch = (await api.admin('POST', '/v1/admin/channels', { name: 'lock', discord_channel_id: emuChannel.id })).body.id as number;
      expect((await api.admin('POST', `/v1/admin/channels/${ch}/webhooks`, { url: emulator.createWebhook(emuChannel.id).url })).status).toBe(201);
      await api.admin('POST', '/v1/admin/routes', { channel_id: ch });
      const before = await api.post(source, alert(1));
      expect(before.status).toBe(202);
      await waitFor('the first alert delivered', () => deliveredAlertIds(emulator, emuChannel.id).includes(before.body.ids[0]), 10_000);

      const lock = await holdWriteLock(dbPath, 8000);
      let lockHeld = true;
      void lock.released.then(() => (lockHeld = false));
      // While the lock is held (the outbound worker's interval, the lanes and ingest all meet SQLITE_BUSY):
      const healthLatencies: number[] = [];
      const during: { status: number; ids?: number[] }[] = [];
      let readyDuringLock: { status: number; body: { problems: string[] } } | undefined;
      for (let i = 0; lockHeld; i++) {
        const t0 = performance.now();
        const health = await fetch(`${herald.url}/healthz`);
        healthLatencies.push(performance.now() - t0);
        expect(health.status).toBe(200);
        if (i % 5 === 0 && lockHeld) {
          const res = await api.post(source, alert(100 + i));
          during.push({ status: res.status, ids: res.body?.ids });
        }
        if (i === 3) {
          const r = await fetch(`${herald.url}/readyz`);
          readyDuringLock = { status: r.status, body: (await r.json()) as { problems: string[] } };
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await lock.released;
      expect(herald.proc.exitCode).toBeNull();
      expect(healthLatencies.length).toBeGreaterThan(20);
      // Promptly: no statement waits seconds for the lock, so the event loop keeps turning.
      expect(Math.max(...healthLatencies)).toBeLessThan(1000);
      expect(during.length).toBeGreaterThan(0);
      // What could not be committed is refused with 503; a 202 would be an id that is not stored.
      for (const d of during) expect([202, 503]).toContain(d.status);
      expect(during.some((d) => d.status === 503)).toBe(true);
      expect(readyDuringLock?.status).toBe(503);
      expect(readyDuringLock?.body.problems.join('\n')).toMatch(/database: cannot take the write lock \(SQLITE_BUSY/);

      const after = await api.post(source, alert(2));
      expect(after.status).toBe(202);
      const acceptedDuring = during.filter((d) => d.status === 202).flatMap((d) => d.ids ?? []);
      await waitFor(
        'the next alert (and any accepted during the lock) delivered',
        () => [after.body.ids[0], ...acceptedDuring].every((id) => deliveredAlertIds(emulator, emuChannel.id).includes(id)),
        15_000,
      );
      expect(herald.proc.exitCode).toBeNull();
      expect(herald.output()).not.toMatch(/uncaught|unhandled/i);
    } finally {
      herald.proc.kill('SIGTERM');
      expect(await herald.exited).toBe(0);
    }
  });
});
