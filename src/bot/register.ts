import { PermissionFlagsBits, REST, Routes, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { commandList } from './registry.js';

/**
 * The definitions `npm run register` and the bot send: read from the same command modules the router runs.
 * Configuration commands carry default_member_permissions (Manage Server), so Discord shows them only to
 * those who may use them; a server admin can open one to an admin role in Server Settings → Integrations.
 * The router checks again either way.
 */
export function commandBodies(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return commandList().map((c) => ({
    ...c.data.toJSON(),
    ...(c.access === 'admin' ? { default_member_permissions: PermissionFlagsBits.ManageGuild.toString() } : {}),
  }));
}

/**
 * Bulk-overwrites the application's commands: for one guild (shows at once) or globally (may take up to
 * an hour to show). Commands no longer in `commands/` disappear.
 */
export async function registerCommands(opts: {
  token: string;
  apiUrl: string;
  applicationId: string;
  guildId?: string;
}): Promise<{ scope: string; names: string[] }> {
  const rest = new REST({ api: opts.apiUrl }).setToken(opts.token);
  const body = commandBodies();
  const route = opts.guildId ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId) : Routes.applicationCommands(opts.applicationId);
  const saved = (await rest.put(route, { body })) as { name: string }[];
  return { scope: opts.guildId ? `guild ${opts.guildId}` : 'global', names: saved.map((c) => c.name) };
}
