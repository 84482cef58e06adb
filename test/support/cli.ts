import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './process.js';

/** The real `herald` executable (package.json "bin"), as `npx herald` runs it. */
export const HERALD_BIN = resolve(ROOT, 'bin/herald.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `herald <args>` in a child process with only `env` (plus PATH and HOME), in `cwd` (a folder with no
 * .env, so the repository's own settings never leak in). Resolves with its exit code and output.
 */
export function herald(args: string[], env: Record<string, string>, opts: { cwd: string; timeoutMs?: number }): Promise<CliRun> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [HERALD_BIN, ...args],
      { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: opts.timeoutMs ?? 30_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | undefined) : 0;
        resolveRun({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}
