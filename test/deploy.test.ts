import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../src/cli/commands/start.js';
import { loadConfig } from '../src/config.js';
import { ROOT } from './support/process.js';
import { startStack, type Stack } from './support/stack.js';

/**
 * deploy/: what can be checked here without Docker's daemon (none runs on this machine, and no base image
 * can be pulled): the Dockerfile agrees with the code's defaults and its HEALTHCHECK command works against a
 * real Herald; the systemd unit passes `systemd-analyze verify` and has the hardening it promises.
 */
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const dockerfile = read('deploy/Dockerfile');
const unit = read('deploy/herald.service');
/** The runtime stage: everything after the last FROM. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const defaults = (() => {
  const r = loadConfig({ DISCORD_API_URL: 'http://127.0.0.1:9/api', HERALD_ADMIN_TOKEN: 'deploy-test-token-0123456789' });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
})();
/** `ENV A=1 B=2` (with line continuations) as a map. */
const envOf = (stage: string) =>
  Object.fromEntries([...stage.replace(/\\\n\s*/g, ' ').matchAll(/^ENV (.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/(\w+)=(\S+)/g)].map((kv) => [kv[1]!, kv[2]!])));
/** The exec-form (JSON array) command of the runtime stage's instruction starting with `prefix` (e.g. `CMD`, `HEALTHCHECK .*?CMD`). */
const jsonInstruction = (prefix: string) => JSON.parse(new RegExp(`^${prefix} +(\\[.*\\])$`, 'm').exec(runtime.replace(/\\\n\s*/g, ' '))![1]!) as string[];

describe('deploy/Dockerfile', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack?.close());

  it("exposes Herald's default port, keeps the database on the /data volume and runs as a user of its own", () => {
    const env = envOf(runtime);
    expect(Number(env.HERALD_PORT)).toBe(defaults.port);
    expect(runtime).toMatch(new RegExp(`^EXPOSE ${defaults.port}$`, 'm'));
    expect(runtime).toMatch(/^VOLUME \/data$/m);
    expect(env.HERALD_DB).toMatch(/^\/data\//);
    expect(env.HERALD_HOST).toBe('0.0.0.0'); // reachable through the published port
    expect(runtime).toMatch(/^USER herald$/m);
    expect(runtime).toMatch(/useradd --system/);
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev$/m);
    // The runtime has no compiler and no source: it runs dist/ with the flags of npm start.
    expect(runtime).not.toMatch(/g\+\+|COPY src /);
    expect(jsonInstruction('CMD')).toEqual(['node', ...NODE_FLAGS, 'dist/src/main.js']);
  });

  it('copies only files that exist, and its context leaves secrets and local state out', () => {
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const src of m[1]!.split(/\s+/)) expect(existsSync(join(ROOT, src)), src).toBe(true);
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', 'dist', 'data', '.env', '*.db']) expect(ignored).toContain(entry);
  });

  it("HEALTHCHECK asks /readyz, and its command says healthy for a ready Herald and unhealthy when there is none", async () => {
    const check = jsonInstruction('HEALTHCHECK .*?CMD');
    expect(check.join(' ')).toContain('/readyz');
    const run = (port: string) =>
      promisify(execFile)(check[0] === 'node' ? process.execPath : check[0]!, check.slice(1), { env: { PATH: process.env.PATH ?? '', HERALD_PORT: port }, timeout: 10_000 }).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
    expect(await run(new URL(stack.url).port)).toBe(0);
    expect(await run('9')).toBe(1);
  });
});

describe('deploy/herald.service', () => {
  it('has the hardening and restart policy it promises, and runs dist/ with the flags of npm start', () => {
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'StateDirectory=herald',
      'User=herald',
      'EnvironmentFile=/etc/herald/herald.env',
      'Restart=on-failure',
      'RestartPreventExitStatus=2',
      'Environment=HERALD_DB=/var/lib/herald/herald.db',
    ])
      expect(unit.split('\n'), line).toContain(line);
    expect(unit).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${NODE_FLAGS.join(' ')} /opt/herald/dist/src/main\\.js$`, 'm'));
  });

  const analyze = (() => {
    try {
      execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!analyze)('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-unit-'));
    try {
      const copy = join(dir, 'herald.service');
      copyFileSync(join(ROOT, 'deploy/herald.service'), copy);
      // verify exits non-zero and prints the problem (unknown keys, a missing ExecStart binary) on stderr.
      const r = execFileSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(r).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
