import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What the build reads besides the TypeScript: a change to any of them calls for a new build too. */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const SOURCE_FOLDERS = ['src', 'commands'];

/**
 * Whether `root`'s dist/ is older than its sources, so `herald start` must compile first: no dist/src/main.js,
 * or any .ts file under src/ or commands/ (or a tsconfig, package.json, package-lock.json) changed after it was
 * written. A checkout or `git pull` gives changed files a new time, so they always rebuild. (tsc writes main.js
 * with every other output, all after reading the sources; a failed build removes it: see start.ts.)
 */
export function buildIsStale(root: string): boolean {
  const main = resolve(root, 'dist/src/main.js');
  if (!existsSync(main)) return true;
  const built = statSync(main).mtimeMs;
  const newer = (path: string) => existsSync(path) && statSync(path).mtimeMs > built;
  if (BUILD_INPUTS.some((f) => newer(resolve(root, f)))) return true;
  return SOURCE_FOLDERS.some((folder) => anyNewer(resolve(root, folder), built));
}

function anyNewer(dir: string, than: number): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (anyNewer(path, than)) return true;
    } else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > than) {
      return true;
    }
  }
  return false;
}
