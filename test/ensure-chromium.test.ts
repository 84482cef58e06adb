import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/process.js';

/** scripts/ensure-chromium.sh (npm's pretest): nothing to do when Chromium is there, one clear line when it cannot be had. */
describe('scripts/ensure-chromium.sh', () => {
  const run = (env: Record<string, string>) =>
    spawnSync('bash', ['scripts/ensure-chromium.sh'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });

  it('does nothing when the Chromium it is pointed at exists', () => {
    const r = run({ HERALD_CHROMIUM: process.execPath });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('fails with one line naming the problem when the Chromium it is pointed at is missing, never skipping', () => {
    const r = run({ HERALD_CHROMIUM: '/nonexistent/chromium' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['ensure-chromium: HERALD_CHROMIUM=/nonexistent/chromium is not an executable file']);
  });
});
