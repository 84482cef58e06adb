import { REST, Routes } from 'discord.js';
import { loadConfig } from '../config.js';
import { registerCommands } from './register.js';

/** Where the registration's lines go, and the name they start with ("register", "herald register"). */
export interface RegisterIo {
  out(line: string): void;
  err(line: string): void;
  prefix: string;
}

/**
 * Bulk-registers the commands in commands/ for DISCORD_GUILD_ID, the one server Herald's bot acts for, from
 * Herald's configuration in `env` (checked as at start). Shared by `npm run register` (register-cli.ts) and
 * `herald register` (src/cli/commands/register.ts). Resolves to the exit code: 0 registered, 2 a setting is
 * missing or wrong, 1 Discord refused or could not be reached.
 */
export async function registerFromEnv(env: NodeJS.ProcessEnv, io: RegisterIo): Promise<number> {
  const parsed = loadConfig(env);
  if (!parsed.ok) {
    for (const p of parsed.problems) io.err(`${io.prefix}: config: ${p}`);
    return 2;
  }
  const d = parsed.config.discord;
  if (!d.token) {
    io.err(`${io.prefix}: DISCORD_TOKEN is not set: put the bot token (Developer Portal → your application → Bot → Reset Token) in .env`);
    return 2;
  }
  let applicationId = d.applicationId;
  if (!applicationId) {
    try {
      const app = (await new REST({ api: d.apiUrl }).setToken(d.token).get(Routes.currentApplication())) as { id: string };
      applicationId = app.id;
    } catch (err) {
      io.err(
        `${io.prefix}: DISCORD_APPLICATION_ID is not set and Discord did not tell it (${(err as Error).message}); set it (Developer Portal → General Information → Application ID)`,
      );
      return 2;
    }
  }
  try {
    const r = await registerCommands({ token: d.token, apiUrl: d.apiUrl, applicationId, ...(d.guildId ? { guildId: d.guildId } : {}) });
    io.out(`registered ${r.names.length} commands (${r.scope}): ${r.names.map((n) => `/${n}`).join(' ')}`);
    return 0;
  } catch (err) {
    io.err(`${io.prefix}: failed: ${(err as Error).message}`);
    return 1;
  }
}
