import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { parse } from '../args.js';
import { buildIsStale } from '../build-freshness.js';
import { CliFailure, UsageError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { CliCommand } from '../types.js';

const WHERE = 'herald start';

/**
 * Node's flags for Herald, the same as package.json's `start` script (a test keeps the two in step):
 * source maps for stack traces of the compiled code, and a small young generation (RSS stays flat).
 */
export const NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=8'];

export const start: CliCommand = {
  name: 'start',
  summary: 'start Herald (as npm start: compile to dist/ if the sources changed, then run it)',
  help: `Usage: herald start [--host <address>] [--port <n>] [--db <path>] [--skip-build]

Runs Herald in the foreground, as npm start does: from a checkout it first compiles the TypeScript to dist/
(tsc, some 15 s; a line says so) unless dist/ is newer than every source, then runs dist/src/main.js with the
node flags of npm start. Herald reads its settings from the environment and .env in the current folder
(docs/configuration.md); with no Discord settings it runs the built-in emulator. Ctrl-C (SIGINT) or SIGTERM
stops it cleanly; this command exits with Herald's exit code (2: a setting is wrong).

  --host <address>   listen on this address (sets HERALD_HOST; default 127.0.0.1)
  --port <n>         listen on this port (sets HERALD_PORT; default 8080)
  --db <path>        the SQLite database (sets HERALD_DB; default ./data/herald.db)
  --skip-build       run dist/ as it is (an installation built beforehand, e.g. the Docker image)`,
  async run(args, io) {
    const { values } = parse(WHERE, args, { host: { type: 'string' }, port: { type: 'string' }, db: { type: 'string' }, 'skip-build': { type: 'boolean' } });
    if (values.help) return (io.out(start.help), 0);
    for (const flag of ['host', 'port', 'db'] as const) if (values[flag] === '') throw new UsageError(`${WHERE}: --${flag} is empty`);
    if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new UsageError(`${WHERE}: --port must be a whole number from 0 to 65535 (got "${values.port}")`);
    const main = resolve(PACKAGE_ROOT, 'dist/src/main.js');
    if (!values['skip-build']) build(io.err);
    if (!existsSync(main)) throw new CliFailure(`${WHERE}: ${main} does not exist: build Herald first (npm run build), or run herald start without --skip-build`);
    const env = {
      ...io.env,
      ...(values.host !== undefined ? { HERALD_HOST: values.host } : {}),
      ...(values.port !== undefined ? { HERALD_PORT: values.port } : {}),
      ...(values.db !== undefined ? { HERALD_DB: values.db } : {}),
    };
    return runHerald(main, env);
  },
};

/**
 * tsc → dist/, when this is a checkout with the compiler whose dist/ is older than its sources (an image
 * installed with --omit=dev has neither src/ nor tsc: it runs its dist/).
 */
function build(say: (line: string) => void): void {
  let tsc: string | undefined;
  try {
    tsc = createRequire(resolve(PACKAGE_ROOT, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    tsc = undefined;
  }
  if (!existsSync(resolve(PACKAGE_ROOT, 'src/main.ts')) || !tsc) return;
  if (!buildIsStale(PACKAGE_ROOT)) {
    say(`${WHERE}: dist/ is up to date with the sources: not compiling`);
    return;
  }
  say(`${WHERE}: compiling the TypeScript to dist/ (tsc -p tsconfig.build.json, some 15 s)…`);
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    // tsc writes its output even when it finds errors: without main.js, the next start compiles again rather than run it.
    rmSync(resolve(PACKAGE_ROOT, 'dist/src/main.js'), { force: true });
    throw new CliFailure(`${WHERE}: the build failed (tsc exited with ${r.status ?? r.signal}); its errors are above`);
  }
}

/** Herald in a child process, signals passed on, its exit code ours (a signal's death: 128 + its number, as shells do). */
function runHerald(main: string, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...NODE_FLAGS, main], { env, stdio: 'inherit' });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of signals) process.on(s, forward);
  return new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolveExit(code ?? 128 + (signal ? (constants.signals[signal] ?? 15) : 15));
    });
    child.on('error', (err) => {
      for (const s of signals) process.off(s, forward);
      resolveExit(1);
      process.stderr.write(`${WHERE}: cannot run node: ${err.message}\n`);
    });
  });
}
