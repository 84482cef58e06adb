import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, spawnHerald, type HeraldProcess } from './support/process.js';
import { waitFor } from './support/stack.js';

/**
 * What a newcomer runs: `npm start` builds (tsc → dist/) and starts the compiled Herald, which with no
 * Discord settings runs the built-in emulator, seeds the demo channel and writes demo.env.
 */
let dir: string;
let herald: HeraldProcess | undefined;
beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'herald-start-'));
}, 120_000);
afterAll(async () => {
  herald?.proc.kill('SIGTERM');
  if (herald) expect(await herald.exited).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start (the compiled build) in emulator mode', () => {
  it('starts, says it uses the emulator, takes an alert with the demo token and delivers it', async () => {
    herald = await spawnHerald({ HERALD_DB: join(dir, 'herald.db'), HERALD_EMULATOR_PORT: '0' }, { compiled: true });
    expect(herald.output()).toMatch(/using the built-in Discord emulator/);
    const demo = Object.fromEntries(
      readFileSync(join(dir, 'demo.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>;

    const ready = await fetch(`${herald.url}/readyz`);
    expect(ready.status).toBe(200);
    const res = await fetch(`${herald.url}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo.HERALD_DEMO_SOURCE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'checkout', severity: 'P1', title: 'Payment errors above 5%' }),
    });
    expect(res.status).toBe(202);
    const messagesUrl = `${demo.HERALD_EMULATOR_URL}/_emulator/channels/${demo.HERALD_DEMO_CHANNEL}/messages`;
    let titles: string[] = [];
    await waitFor('the demo alert in the emulated channel', async () => {
      const messages = (await (await fetch(messagesUrl)).json()) as { embeds: { title?: string }[]; components: unknown[] }[];
      titles = messages.flatMap((m) => m.embeds.map((e) => e.title ?? ''));
      return titles.length > 0;
    });
    expect(titles).toEqual(['[P1] Payment errors above 5%']);
  });
});
