import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findAlertmanager } from '../bench/alertmanager.js';
import { alertSequence, primingAlerts, REPEAT_KEYS } from '../bench/load.js';
import { summariseProfile } from '../bench/profile.js';

// The bench's own decisions, which its figures rest on: what load is sent, how a profile is summed,
// and whether Alertmanager's column can run.

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'herald-bench-tools-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bench workloads', () => {
  it('repeats draw keys from 5,000, the same sequence every time; distinct never repeats a key; every alert has its own label value', () => {
    const take = (next: () => { key: string; seq: string }, n: number) => Array.from({ length: n }, next);
    const a = take(alertSequence('repeats'), 20_000);
    const b = take(alertSequence('repeats'), 20_000);
    expect(a).toEqual(b);
    const keys = new Set(a.map((x) => x.key));
    expect(keys.size).toBeLessThanOrEqual(REPEAT_KEYS);
    expect(keys.size).toBeGreaterThan(REPEAT_KEYS * 0.95); // 20,000 draws leave under 2% of the keys unseen
    expect(new Set(a.map((x) => x.seq)).size).toBe(a.length);
    // Priming stores every key the repeats can draw, so the measured POSTs are all repeats.
    const primed = new Set(primingAlerts().map((x) => x.key));
    expect([...keys].every((k) => primed.has(k))).toBe(true);
    const d = take(alertSequence('distinct'), 5_000);
    expect(new Set(d.map((x) => x.key)).size).toBe(d.length);
  });
});

describe('bench profile summary', () => {
  // main → flush (Herald) → sqliteTransaction (better-sqlite3); main → parse (zod)
  const profile = {
    startTime: 1_000,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
      { id: 2, callFrame: { functionName: 'main', url: 'file:///app/dist/src/main.js', lineNumber: 0 }, children: [3, 5] },
      { id: 3, callFrame: { functionName: 'flush', url: 'file:///app/dist/src/pipeline/accept.js', lineNumber: 95 }, children: [4] },
      { id: 4, callFrame: { functionName: 'sqliteTransaction', url: 'file:///app/node_modules/better-sqlite3/lib/methods/transaction.js', lineNumber: 51 } },
      { id: 5, callFrame: { functionName: 'parse', url: 'file:///app/node_modules/zod/v4/core/parse.js', lineNumber: 40 } },
    ],
    // Sample times: 1,100 (sqlite), 1,200 (sqlite), 1,300 (zod), 5,000 (zod, after the window)
    samples: [4, 4, 5, 5],
    timeDeltas: [100, 100, 100, 3_700],
  };

  it('sums only the window, by area and function, and charges library time to the Herald function that called it', () => {
    const path = join(tempDir(), 'p.cpuprofile');
    writeFileSync(path, JSON.stringify(profile));
    const s = summariseProfile(path, { start: 1_050, end: 1_350 });
    expect(s.windowed).toBe(true);
    expect(s.sampledMs).toBeCloseTo(0.3);
    expect(s.areas).toEqual([
      { area: 'better-sqlite3', selfMs: 0.2 },
      { area: 'zod', selfMs: 0.1 },
    ]);
    const flush = s.functions.find((f) => f.name === 'flush')!;
    expect(flush).toMatchObject({ where: 'src/pipeline/accept.js:96', selfMs: 0 });
    expect(flush.totalMs).toBeCloseTo(0.2);
    expect(s.functions.find((f) => f.name === 'main')!.totalMs).toBeCloseTo(0.3);
    expect(s.heraldCallers.map((c) => [c.name, Number(c.ms.toFixed(3))])).toEqual([
      ['flush', 0.2],
      ['main', 0.1],
    ]);
  });

  it('sums the whole profile, and says so, when no sample falls in the window', () => {
    const path = join(tempDir(), 'p.cpuprofile');
    writeFileSync(path, JSON.stringify(profile));
    const s = summariseProfile(path, { start: 10_000, end: 20_000 });
    expect(s.windowed).toBe(false);
    expect(s.sampledMs).toBeCloseTo(4);
  });
});

describe('bench: finding Alertmanager', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it("finds Debian's prometheus-alertmanager on PATH, and nothing where there is none", () => {
    const bin = tempDir();
    process.env.PATH = bin;
    expect(findAlertmanager()).toBeUndefined();
    writeFileSync(join(bin, 'prometheus-alertmanager'), '#!/bin/sh\n');
    chmodSync(join(bin, 'prometheus-alertmanager'), 0o755);
    expect(findAlertmanager()).toBe(join(bin, 'prometheus-alertmanager'));
  });
});
