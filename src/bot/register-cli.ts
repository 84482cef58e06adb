import { config as loadDotenv } from 'dotenv';
import { registerFromEnv } from './register-from-env.js';

/** `npm run register` (also `herald register`): bulk-registers the commands in commands/ for DISCORD_GUILD_ID. */
loadDotenv({ quiet: true });
registerFromEnv(process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  prefix: 'register',
}).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`register: failed: ${err.message}\n`);
    process.exit(1);
  },
);
