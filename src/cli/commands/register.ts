import { parse } from '../args.js';
import type { CliCommand } from '../types.js';

const WHERE = 'herald register';

export const register: CliCommand = {
  name: 'register',
  summary: "register the bot's slash commands in DISCORD_GUILD_ID (as npm run register)",
  help: `Usage: herald register

Bulk-registers Herald's slash commands (the modules in commands/) in the one server the bot acts for,
DISCORD_GUILD_ID, with the bot token DISCORD_TOKEN. Run it once after installing and after an upgrade that
changes commands; it talks to Discord, not to a running Herald. It reads the environment and .env and checks
them as Herald's start does (so HERALD_ADMIN_TOKEN must be set too). DISCORD_APPLICATION_ID is asked of
Discord when unset.`,
  async run(args, io) {
    const { values } = parse(WHERE, args, {});
    if (values.help) return (io.out(register.help), 0);
    // discord.js is loaded only for this command: the others start in a fraction of the time without it.
    const { registerFromEnv } = await import('../../bot/register-from-env.js');
    return registerFromEnv(io.env, { out: io.out, err: io.err, prefix: WHERE });
  },
};
