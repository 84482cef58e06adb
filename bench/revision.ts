import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/support/process.js';
import { progress } from './support.js';

/**
 * An older revision of Herald, built in a temporary git worktree, for the bench's head to head
 * (`npm run bench -- --against <rev>`). The worktree borrows this checkout's node_modules through a
 * symlink, so the old revision runs with today's dependencies: only Herald's own code differs between
 * the two columns.
 */

/** One Herald the bench can start: where its build lives and how its lines are labelled. */
export interface Build {
  /** `Herald HEAD`, or `Herald <short hash>` for an older revision. */
  label: string;
  /** The checkout whose dist/src/main.js and package.json start flags are used. */
  root: string;
}

/** This checkout as it is (its dist/, made by `npm run build` before the bench starts: uncommitted changes included). */
export const HEAD_BUILD: Build = { label: 'Herald HEAD', root: ROOT };

export interface RevisionBuild extends Build {
  /** The commit's short hash. */
  short: string;
  /** Removes the worktree (files and git's record of it); safe to call twice. */
  remove(): void;
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The commit `rev` names, refusing anything that is not one (a typo should fail before minutes of building). */
export interface Revision {
  /** As given on the command line. */
  rev: string;
  hash: string;
  short: string;
}

/** The commit `rev` names, or undefined (a typo should be refused before minutes of building). */
export function resolveRevision(rev: string): Revision | undefined {
  try {
    const hash = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
    return { rev, hash, short: git('rev-parse', '--short', hash) };
  } catch {
    return undefined;
  }
}

/** Runs a command in `cwd`, its output kept and shown only if it fails (tsc's errors, git's complaint). */
function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} in ${cwd} failed (${signal ?? code}):\n${out}`))));
  });
}

/**
 * Checks `rev` out in a temporary detached worktree, links node_modules into it and builds it with its
 * own tsconfig.build.json. The worktree is registered for removal before anything that can fail, so a
 * failed build (or Ctrl-C while building) leaves nothing behind once the caller's cleanup runs.
 */
export async function prepareRevision({ rev, hash, short }: Revision, onCreated: (b: RevisionBuild) => void): Promise<RevisionBuild> {
  const parent = mkdtempSync(join(tmpdir(), `herald-bench-${short}-`));
  const root = join(parent, 'herald');
  let removed = false;
  const build: RevisionBuild = {
    label: `Herald ${short}`,
    root,
    short,
    remove() {
      if (removed) return;
      removed = true;
      try {
        if (existsSync(root)) git('worktree', 'remove', '--force', root);
      } catch {
        // A half-made worktree git does not know as one: the files go below, then prune forgets it.
      }
      rmSync(parent, { recursive: true, force: true });
      try {
        git('worktree', 'prune');
      } catch {
        // nothing to prune
      }
    },
  };
  onCreated(build);
  progress(`checking out ${short}${rev === short ? '' : ` (${rev})`} into a temporary worktree …`);
  git('worktree', 'add', '--detach', root, hash);
  // The old revision runs with today's dependencies (a symlink, not an install: seconds, no network).
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  progress(`building ${short} (npx tsc -p tsconfig.build.json in its worktree) …`);
  await run('npx', ['tsc', '-p', 'tsconfig.build.json'], root);
  if (!existsSync(join(root, 'dist', 'src', 'main.js'))) throw new Error(`bench: building ${short} made no dist/src/main.js`);
  return build;
}
