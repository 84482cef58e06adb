import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { spawnHerald } from './support/process.js';

const STRONG = 'config-test-token-0123456789';

describe('configuration', () => {
  it('has working defaults and starts the emulator only when Discord is not configured', () => {
    const r = loadConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ host: '127.0.0.1', port: 8080, dbPath: './data/herald.db' });
    expect(r.config.discord).toMatchObject({ emulated: true, apiUrl: 'https://discord.com/api' });
    expect(r.config.delivery).toMatchObject({ channelCap: 30, channelWindowMs: 60_000 });

    const real = loadConfig({ DISCORD_TOKEN: 'x', HERALD_ADMIN_TOKEN: STRONG });
    expect(real.ok && real.config.discord.emulated).toBe(false);
    const api = loadConfig({ DISCORD_API_URL: 'http://127.0.0.1:9999/api/', HERALD_ADMIN_TOKEN: STRONG });
    expect(api.ok && api.config.discord).toMatchObject({ emulated: false, apiUrl: 'http://127.0.0.1:9999/api' });
  });

  it('refuses emulator mode on a non-loopback HERALD_HOST unless HERALD_EMULATOR=1', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(loadConfig({ HERALD_HOST: host }).ok, host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'herald.example.com']) {
      const r = loadConfig({ HERALD_HOST: host });
      expect(r.ok, host).toBe(false);
      if (r.ok) continue;
      expect(r.problems).toEqual([expect.stringMatching(new RegExp(`built-in emulator on ${host.replace(/\./g, '\\.')}, which is not a loopback address.*HERALD_EMULATOR=1`))]);
    }
    const onPurpose = loadConfig({ HERALD_HOST: '0.0.0.0', HERALD_EMULATOR: '1' });
    expect(onPurpose.ok && onPurpose.config.discord.emulated).toBe(true);
    // With Discord configured the host is the operator's choice.
    expect(loadConfig({ HERALD_HOST: '0.0.0.0', DISCORD_TOKEN: 'x', DISCORD_GUILD_ID: '123456789012345678', HERALD_ADMIN_TOKEN: 'config-test-token-0123456789' }).ok).toBe(true);
    const bad = loadConfig({ HERALD_EMULATOR: 'yes' });
    expect(!bad.ok && bad.problems).toEqual([expect.stringMatching(/^HERALD_EMULATOR must be 1/)]);
  });

  it('reports every bad value as one plain line', () => {
    const r = loadConfig({
      HERALD_PORT: 'eighty',
      HERALD_CHANNEL_CAP: '0',
      HERALD_USERNAME: 'Discord Alerts',
      DISCORD_API_URL: 'discord.com',
      HERALD_ADMIN_TOKEN: 'short',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(5);
    expect(r.problems.join('\n')).toMatch(/HERALD_PORT must be a whole number from 0 to 65535 \(got "eighty"\)/);
    expect(r.problems.join('\n')).toMatch(/HERALD_USERNAME may not contain "discord"/);
    expect(r.problems.join('\n')).toMatch(/HERALD_ADMIN_TOKEN must be at least 16 characters/);
  });

  it('reads the bot settings: application id, guild id and role lists', () => {
    const r = loadConfig({
      DISCORD_APPLICATION_ID: '123456789012345678',
      DISCORD_GUILD_ID: ' 223456789012345678 ',
      HERALD_ADMIN_ROLE_IDS: '323456789012345678, 423456789012345678,',
      HERALD_ONCALL_ROLE_IDS: '',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.discord).toMatchObject({
      applicationId: '123456789012345678',
      guildId: '223456789012345678',
      adminRoleIds: ['323456789012345678', '423456789012345678'],
      oncallRoleIds: [],
    });
    const none = loadConfig({});
    expect(none.ok && none.config.discord).toMatchObject({ applicationId: undefined, guildId: undefined, adminRoleIds: [], oncallRoleIds: [] });
  });

  it('reports each bad Discord id on its own line', () => {
    const r = loadConfig({
      DISCORD_APPLICATION_ID: 'my-bot',
      DISCORD_GUILD_ID: '12345',
      HERALD_ADMIN_ROLE_IDS: '323456789012345678,@admins',
      HERALD_ONCALL_ROLE_IDS: 'oncall',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(4);
    const text = r.problems.join('\n');
    expect(text).toMatch(/DISCORD_APPLICATION_ID must be a Discord id \(17 to 20 digits; got "my-bot"\)/);
    expect(text).toMatch(/DISCORD_GUILD_ID must be a Discord id/);
    expect(text).toMatch(/HERALD_ADMIN_ROLE_IDS must be comma-separated Discord role ids .*not: "@admins"/);
    expect(text).toMatch(/HERALD_ONCALL_ROLE_IDS .*not: "oncall"/);
  });

  it('requires an admin token once real Discord is configured', () => {
    const r = loadConfig({ DISCORD_TOKEN: 'bot-token' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatch(/HERALD_ADMIN_TOKEN is required/);
  });

  it('refuses an obviously weak admin token: one repeated character, or fewer than 10 different characters', () => {
    for (const weak of ['a'.repeat(20), 'abcabcabcabcabcabc', '2024-01-01-2024-01-01']) {
      const r = loadConfig({ HERALD_ADMIN_TOKEN: weak });
      expect(r.ok, weak).toBe(false);
      if (!r.ok) expect(r.problems).toEqual([expect.stringMatching(/^HERALD_ADMIN_TOKEN is too weak: it has only \d+ different characters? \(at least 10 are needed\)/)]);
    }
    expect(loadConfig({ HERALD_ADMIN_TOKEN: STRONG }).ok).toBe(true);
  });

  it('a weak admin token stops the real process at start: exit 2, one line', async () => {
    const p = await spawnHerald({ HERALD_ADMIN_TOKEN: 'x'.repeat(32) }, { expectExit: true });
    expect(await p.exited).toBe(2);
    expect(p.output().trim().split('\n')).toEqual([expect.stringMatching(/^herald: config: HERALD_ADMIN_TOKEN is too weak/)]);
  });

  it('the real process exits with code 2 and one line per problem, no stack trace', async () => {
    const p = await spawnHerald({ HERALD_PORT: '99999', HERALD_LOG_LEVEL: 'loud' }, { expectExit: true });
    expect(await p.exited).toBe(2);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^herald: config: (HERALD_PORT|HERALD_LOG_LEVEL)/);
    expect(p.output()).not.toMatch(/at .*\.ts:\d+/);
  });
});
