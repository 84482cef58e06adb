import { config as loadDotenv } from 'dotenv';
import { REST, Routes } from 'discord.js';
import { loadConfig } from '../config.js';
import { registerCommands } from './register.js';

/** `npm run register`: bulk-registers the commands in commands/ for DISCORD_GUILD_ID, the one server Herald's bot acts for. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  const parsed = loadConfig();
  if (!parsed.ok) {
    for (const p of parsed.problems) process.stderr.write(`register: config: ${p}\n`);
    process.exit(2);
  }
  const d = parsed.config.discord;
  if (!d.token) {
    process.stderr.write('register: DISCORD_TOKEN is not set: put the bot token (Developer Portal → your application → Bot → Reset Token) in .env\n');
    process.exit(2);
  }
  let applicationId = d.applicationId;
  if (!applicationId) {
    try {
      const app = (await new REST({ api: d.apiUrl }).setToken(d.token).get(Routes.currentApplication())) as { id: string };
      applicationId = app.id;
    } catch (err) {
      process.stderr.write(
        `register: DISCORD_APPLICATION_ID is not set and Discord did not tell it (${(err as Error).message}); set it (Developer Portal → General Information → Application ID)\n`,
      );
      process.exit(2);
    }
  }
  const r = await registerCommands({ token: d.token, apiUrl: d.apiUrl, applicationId, ...(d.guildId ? { guildId: d.guildId } : {}) });
  process.stdout.write(`registered ${r.names.length} commands (${r.scope}): ${r.names.map((n) => `/${n}`).join(' ')}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`register: failed: ${err.message}\n`);
  process.exit(1);
});
