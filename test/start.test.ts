import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ROOT, client, spawnHerald, type HeraldProcess } from './support/process.js';
import { waitFor } from './support/stack.js';
import { HERALD_BIN, herald as cli } from './support/cli.js';

const demoEnv = (file: string) =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;

/** Every row of every table, to show that a start changed nothing. */
function dump(dbFile: string): Record<string, unknown[]> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").pluck().all() as string[];
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`select * from "${t}" order by rowid`).all()]));
  } finally {
    db.close();
  }
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** A port something else holds, as when another Herald runs. */
async function takenPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, release: () => new Promise((r) => server.close(() => r())) };
}

/**
 * What a newcomer runs: `npm start` builds (tsc → dist/) and starts the compiled Herald, which with no
 * Discord settings runs the built-in emulator, seeds the demo channel and writes demo.env.
 */
let dir: string;
let herald: HeraldProcess | undefined;
const spawned: HeraldProcess[] = [];
/** spawnHerald, remembered so that afterAll can stop it. */
const start = async (...args: Parameters<typeof spawnHerald>) => {
  const p = await spawnHerald(...args);
  spawned.push(p);
  return p;
};
beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'herald-start-'));
}, 120_000);
afterAll(async () => {
  herald?.proc.kill('SIGTERM');
  if (herald) expect(await herald.exited).toBe(0);
  // A test that failed half-way leaves no Herald behind.
  for (const p of spawned) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start (the compiled build) in emulator mode', () => {
  it('starts, says it uses the emulator, takes an alert with the demo token and delivers it', async () => {
    herald = await spawnHerald({ HERALD_DB: join(dir, 'herald.db'), HERALD_EMULATOR_PORT: '0' }, { compiled: true });
    expect(herald.output()).toMatch(/using the built-in Discord emulator/);
    const demo = demoEnv(join(dir, 'demo.env'));

    // Ready once its bot has connected to the emulator's gateway (after HTTP listens).
    let readyStatus = 0;
    await waitFor('Herald ready (its bot connected)', async () => (readyStatus = (await fetch(`${herald!.url}/readyz`)).status) === 200);
    expect(readyStatus).toBe(200);
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

describe('emulator mode across restarts (the compiled build)', () => {
  it('keeps its credentials and its demo webhook across a restart; a start that cannot bind changes nothing', async () => {
    const data = join(dir, 'restart', 'data');
    const dbFile = join(data, 'herald.db');
    const env = { HERALD_DB: dbFile, HERALD_EMULATOR_PORT: '0' };
    const first = await start(env, { compiled: true });
    const demo1 = demoEnv(join(data, 'demo.env'));
    const api1 = client(first.url, demo1.HERALD_ADMIN_TOKEN!);
    const posted = await api1.post(demo1.HERALD_DEMO_SOURCE_TOKEN!, { service: 'checkout', severity: 'P2', title: 'Before the restart' });
    expect(posted.status).toBe(202);
    const alertId = posted.body.ids[0] as number;
    const sourceId = (await api1.admin('GET', `/v1/admin/alerts/${alertId}`)).body.source_id as number;
    expect(sourceId).toEqual(expect.any(Number));
    const channel = (await api1.admin('GET', '/v1/admin/channels')).body.find((c: { name: string }) => c.name === 'demo');
    const hooks1 = (await api1.admin('GET', `/v1/admin/channels/${channel.id}/webhooks`)).body as { id: number }[];
    // Readiness and metrics say which Discord this is. Ready once the bot has connected to the emulator's
    // gateway, which it does after HTTP listens (until then /readyz says "bot: starting").
    let readiness: unknown;
    await waitFor('Herald ready (its bot connected)', async () => {
      readiness = await (await fetch(`${first.url}/readyz`)).json();
      return (readiness as { ok: boolean }).ok;
    });
    expect(readiness).toMatchObject({ ok: true, mode: 'emulator' });
    expect(await (await fetch(`${first.url}/metrics`)).text()).toMatch(/^herald_mode\{mode="emulator"\} 1$/m);
    // Only Herald's user can read the database and its folder (made by Herald here).
    expect([mode(data), mode(dbFile), mode(`${dbFile}-wal`), mode(`${dbFile}-shm`), mode(join(data, 'demo.env'))]).toEqual([0o700, 0o600, 0o600, 0o600, 0o600]);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // The port is taken: one line, exit 1, and neither demo.env nor the database changed.
    const envBefore = readFileSync(join(data, 'demo.env'));
    const dbBefore = dump(dbFile);
    const taken = await takenPort();
    try {
      const failed = await start({ ...env, HERALD_PORT: String(taken.port) }, { compiled: true, expectExit: true });
      expect(await failed.exited).toBe(1);
      const lines = failed.output().split('\n').filter((l) => l.startsWith('herald:'));
      expect(lines).toEqual([expect.stringMatching(/^herald: cannot start: .*EADDRINUSE.*\(is another Herald or emulator running\?/)]);
    } finally {
      await taken.release();
    }
    expect(readFileSync(join(data, 'demo.env')).equals(envBefore)).toBe(true);
    expect(dump(dbFile)).toEqual(dbBefore);

    // A normal restart: the same tokens work, the old alert keeps its source, the demo webhook is the same and delivers.
    const again = await start(env, { compiled: true });
    const demo2 = demoEnv(join(data, 'demo.env'));
    expect([demo2.HERALD_ADMIN_TOKEN, demo2.HERALD_DEMO_SOURCE_TOKEN, demo2.HERALD_DEMO_CHANNEL]).toEqual([demo1.HERALD_ADMIN_TOKEN, demo1.HERALD_DEMO_SOURCE_TOKEN, demo1.HERALD_DEMO_CHANNEL]);
    const api2 = client(again.url, demo1.HERALD_ADMIN_TOKEN!);
    expect((await api2.admin('GET', `/v1/admin/alerts/${alertId}`)).body.source_id).toBe(sourceId);
    const after = await api2.post(demo1.HERALD_DEMO_SOURCE_TOKEN!, { service: 'checkout', severity: 'P2', title: 'After the restart' });
    expect(after.status).toBe(202);
    expect((await api2.admin('GET', `/v1/admin/alerts/${after.body.ids[0]}`)).body.source_id).toBe(sourceId);
    const hooks2 = (await api2.admin('GET', `/v1/admin/channels/${channel.id}/webhooks?include_removed=true`)).body as { id: number; state: string }[];
    expect(hooks2.map((w) => [w.id, w.state])).toEqual(hooks1.map((w) => [w.id, 'active']));
    const messagesUrl = `${demo2.HERALD_EMULATOR_URL}/_emulator/channels/${demo2.HERALD_DEMO_CHANNEL}/messages`;
    await waitFor('the alert posted after the restart', async () => {
      const messages = (await (await fetch(messagesUrl)).json()) as { embeds: { title?: string }[] }[];
      return messages.some((m) => m.embeds.some((e) => e.title === '[P2] After the restart'));
    });
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('refuses to run the emulator on a non-loopback HERALD_HOST unless HERALD_EMULATOR=1: one line, exit 2', async () => {
    const refused = await start({ HERALD_DB: join(dir, 'public', 'herald.db'), HERALD_HOST: '0.0.0.0', HERALD_EMULATOR_PORT: '0' }, { compiled: true, expectExit: true });
    expect(await refused.exited).toBe(2);
    expect(refused.output().trim().split('\n')).toEqual([expect.stringMatching(/^herald: config: .*built-in emulator on 0\.0\.0\.0, which is not a loopback address.*HERALD_EMULATOR=1/)]);
  });
});

describe('herald start (the bin, as npx herald start runs it)', () => {
  it('runs the build (up to date: beforeAll made it) with the flags of npm start, and stops cleanly on SIGTERM with exit 0', async () => {
    const { NODE_FLAGS } = await import('../src/cli/commands/start.js');
    const startScript = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(startScript).toBe(`npm run build --silent && node ${NODE_FLAGS.join(' ')} dist/src/main.js`);

    const data = join(dir, 'bin-start');
    const proc = spawn(process.execPath, [HERALD_BIN, 'start', '--port', '0', '--db', join(data, 'herald.db')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HERALD_EMULATOR_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      let url = '';
      await waitFor(
        'Herald started by herald start',
        () => {
          url = /"address":"(http:\/\/[^"]+)","msg":"Herald is listening"/.exec(stdout)?.[1] ?? '';
          return url !== '';
        },
        90_000,
      );
      // dist/ is newer than every source (beforeAll compiled it): no second build; buildIsStale is tested in cli-build.test.ts.
      expect(stderr).toMatch(/^herald start: dist\/ is up to date with the sources: not compiling$/m);
      // The CLI finds emulator mode's admin token in demo.env beside HERALD_DB.
      const status = await cli(['status', '--json'], { HERALD_URL: url, HERALD_DB: join(data, 'herald.db') }, { cwd: dir });
      expect(status.stderr).toBe('');
      expect(JSON.parse(status.stdout).status.queue_depth_by_priority).toEqual({ P0: 0, P1: 0, P2: 0, P3: 0 });
      // ... and the demo source's token there too: a test alert with no token in the environment.
      const sent = await cli(['alerts', 'send', '--title', 'From the demo'], { HERALD_URL: url, HERALD_DB: join(data, 'herald.db') }, { cwd: dir });
      expect(sent.stderr).toBe('');
      expect(sent.stdout).toMatch(/^accepted: alert #\d+ \(P3 herald-cli: From the demo\)/);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/"msg":"stopped"/);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  }, 120_000);

  it("passes Herald's exit code on: a bad setting is one line from Herald and exit 2", async () => {
    // dist/ was built by the test above (and beforeAll): --skip-build runs it as it is.
    const r = await cli(['start', '--skip-build', '--db', join(dir, 'bad-setting', 'herald.db')], { HERALD_LOG_LEVEL: 'chatty', HERALD_PORT: '0', HERALD_EMULATOR_PORT: '0' }, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^herald: config: HERALD_LOG_LEVEL: /)]);
  });
});
