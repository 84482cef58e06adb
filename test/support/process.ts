import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface HeraldProcess {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs Herald in a child process (from source, or compiled as `npm start` runs it), and resolves once it is listening.
 * Used where only a real process will do: kill -9, exit codes, signals.
 */
export function spawnHerald(
  env: Record<string, string>,
  opts: { expectExit?: boolean; compiled?: boolean; nodeFlags?: string[]; root?: string } = {},
): Promise<HeraldProcess> {
  // `compiled`: the build `npm start` runs (dist/, made by `npm run build`); otherwise the TypeScript source through tsx.
  // `nodeFlags`: extra node flags before those (the bench's --cpu-prof, which NODE_OPTIONS may not carry).
  // `root`: the checkout to run (its dist/ or src/, and its package.json's start flags), e.g. the bench's
  // worktree of an older revision; this repository by default.
  const root = opts.root ?? ROOT;
  const args = [...(opts.nodeFlags ?? []), ...(opts.compiled ? startArgs(root) : ['--import', 'tsx', 'src/main.ts'])];
  const proc = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HERALD_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // a Herald that never said it listens is not left running
      reject(new Error(`Herald did not start:\n${out}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"address":"(http:\/\/[^"]+)","msg":"Herald is listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({ proc, url: m[1]!, output: () => out, exited });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      if (opts.expectExit) resolveStart({ proc, url: '', output: () => out, exited });
      else reject(new Error(`Herald exited with ${code} before listening:\n${out}`));
    });
  });
}

/** Node's arguments in `root`'s package.json `start` script (`… && node <flags> dist/src/main.js`), so tests and benchmarks run exactly that. */
function startArgs(root: string): string[] {
  const start = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const at = start.lastIndexOf('node ');
  if (at < 0) throw new Error(`package.json's start script does not run node: ${start}`);
  return start.slice(at + 'node '.length).trim().split(/\s+/);
}

/** A tiny HTTP client for a Herald in another process. */
export function client(url: string, adminToken: string) {
  const call = async (method: string, path: string, body: unknown, token: string) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    admin: (method: string, path: string, body?: unknown) => call(method, path, body, adminToken),
    post: (token: string, body: unknown) => call('POST', '/v1/alerts', body, token),
  };
}

export interface LockHolder {
  /** Resolves when the other process has committed and closed the database. */
  released: Promise<void>;
  proc: ChildProcess;
}

/**
 * Another process (node with better-sqlite3, like a backup tool or a second writer) that takes SQLite's
 * write lock on `dbPath` with BEGIN IMMEDIATE and holds it for `ms`. Resolves once it holds the lock.
 */
export function holdWriteLock(dbPath: string, ms: number): Promise<LockHolder> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[2]));
  `;
  const proc = spawn(process.execPath, ['-e', script, dbPath, String(ms)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const released = new Promise<void>((resolveReleased, reject) => {
    proc.on('exit', (code) => (code === 0 && out.includes('released') ? resolveReleased() : reject(new Error(`lock holder exited with ${code}:\n${out}`))));
  });
  return new Promise((resolveLocked, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolveLocked({ released, proc });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    released.catch(reject);
  });
}
