import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIsStale } from '../src/cli/build-freshness.js';

/** When `herald start` compiles first: a package folder of real files whose times the test sets. */
let root: string;
const at = (path: string, secondsAgo: number) => {
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(join(root, path), t, t);
};
const file = (path: string, secondsAgo: number) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), '');
  at(path, secondsAgo);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'herald-build-'));
  file('package.json', 500);
  file('tsconfig.json', 500);
  file('src/main.ts', 400);
  file('src/cli/commands/start.ts', 400);
  file('commands/ack.ts', 400);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('buildIsStale', () => {
  it('is stale without dist/src/main.js, fresh when it is newer than every input', () => {
    expect(buildIsStale(root)).toBe(true);
    file('dist/src/main.js', 100);
    expect(buildIsStale(root)).toBe(false);
  });

  it('is stale when a source in a nested folder, a command module, a tsconfig or the lock file changed after the build', () => {
    file('dist/src/main.js', 100);
    for (const path of ['src/cli/commands/start.ts', 'commands/ack.ts', 'tsconfig.json']) {
      at(path, 10);
      expect(buildIsStale(root), path).toBe(true);
      at(path, 400);
      expect(buildIsStale(root), path).toBe(false);
    }
    file('package-lock.json', 10);
    expect(buildIsStale(root)).toBe(true);
  });

  it('ignores what the build does not read (notes, other files beside the sources)', () => {
    file('dist/src/main.js', 100);
    file('src/store/README.md', 5);
    file('docs/cli.md', 5);
    expect(buildIsStale(root)).toBe(false);
  });
});
