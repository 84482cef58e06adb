import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Herald's package folder: two levels up from this file when run from source (src/cli/), three when run
 * compiled (dist/src/cli/); the first with a package.json wins.
 */
export const PACKAGE_ROOT = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../..'), resolve(here, '../../..')];
  return candidates.find((dir) => existsSync(resolve(dir, 'package.json'))) ?? candidates[0]!;
})();
