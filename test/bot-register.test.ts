import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { commandBodies } from '../src/bot/register.js';
import { startEmulator } from '../src/emulator/index.js';

const run = promisify(execFile);

/** `npm run register` as a person runs it: a child process reading the environment. */
async function register(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/bot/register-cli.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run register', () => {
  it('says plainly what is missing without a token', async () => {
    const r = await register({ DISCORD_API_URL: 'http://127.0.0.1:9/api', HERALD_ADMIN_TOKEN: 'register-test-token-0123456789' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^register: DISCORD_TOKEN is not set: put the bot token/);
  });

  it('bulk-registers the command modules for the guild, learning the application id', async () => {
    const emulator = await startEmulator();
    try {
      const r = await register({
        DISCORD_API_URL: emulator.url,
        DISCORD_TOKEN: emulator.botToken,
        DISCORD_GUILD_ID: emulator.guildId,
        HERALD_ADMIN_TOKEN: 'register-test-token-0123456789',
      });
      expect(r.stderr).toBe('');
      const names = commandBodies().map((c) => c.name);
      expect(r.stdout).toContain(`registered ${names.length} commands (guild ${emulator.guildId}): /${names[0]}`);
      expect(emulator.commands({ guildId: emulator.guildId }).map((c) => c.name).sort()).toEqual([...names].sort());

      const bad = await register({ DISCORD_API_URL: emulator.url, DISCORD_TOKEN: 'emu.wrong', DISCORD_GUILD_ID: emulator.guildId, HERALD_ADMIN_TOKEN: 'register-test-token-0123456789' });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/DISCORD_APPLICATION_ID is not set and Discord did not tell it/);
      expect(bad.stderr).not.toContain('emu.wrong');
    } finally {
      await emulator.close();
    }
  });
});
