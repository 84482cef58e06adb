import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import type { CliIo } from './types.js';
import { UsageError } from './errors.js';

/** The flags every command that talks to a running Herald takes. */
export const targetOptions = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const;

export const TARGET_HELP = `Where Herald runs:
  --url <url>      Herald's address (default: $HERALD_URL, else http://$HERALD_HOST:$HERALD_PORT,
                   i.e. http://127.0.0.1:8080; a wildcard host such as 0.0.0.0 is asked on 127.0.0.1)
  --token <token>  the admin token; prefer HERALD_ADMIN_TOKEN in the environment or .env: a token on
                   the command line is visible to other users of the machine (a warning says so)
In emulator mode without HERALD_ADMIN_TOKEN, the token Herald wrote to demo.env beside HERALD_DB is used.`;

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/** Herald's base URL, from the flag, HERALD_URL, or the address Herald itself binds by default. */
export function heraldUrl(where: string, flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = flag ?? env.HERALD_URL;
  if (raw !== undefined && raw !== '') {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(`${where}: --url must be an http(s) URL such as http://127.0.0.1:8080 (got "${raw}")`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${where}: --url must be an http(s) URL (got "${raw}")`);
    return url.toString().replace(/\/+$/, '');
  }
  const host = (env.HERALD_HOST ?? '').trim();
  const port = (env.HERALD_PORT ?? '').trim() || '8080';
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new UsageError(`${where}: HERALD_PORT must be a port from 1 to 65535 to find Herald (got "${port}"); or pass --url`);
  const h = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/**
 * The admin token: --token (with a warning: argv is readable by every user through ps), else
 * HERALD_ADMIN_TOKEN, else the one emulator mode wrote to demo.env beside the database (src/demo.ts).
 */
export function adminToken(where: string, flag: string | undefined, io: CliIo): string {
  if (flag !== undefined) {
    io.err(`${where}: warning: a token given with --token is visible to other users of this machine (ps, shell history); prefer HERALD_ADMIN_TOKEN`);
    if (flag === '') throw new UsageError(`${where}: --token is empty`);
    return flag;
  }
  const fromEnv = io.env.HERALD_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const demo = demoEnvValue('HERALD_ADMIN_TOKEN', io.env);
  if (demo) return demo;
  throw new UsageError(`${where}: no admin token: set HERALD_ADMIN_TOKEN (in the environment or .env)`);
}

/** A value from the demo.env that emulator mode writes beside the database (src/demo.ts), if there is one. */
export function demoEnvValue(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const file = join(dirname(resolve(env.HERALD_DB || './data/herald.db')), 'demo.env');
  if (!existsSync(file)) return undefined;
  try {
    return parseDotenv(readFileSync(file))[name] || undefined;
  } catch {
    return undefined; // unreadable (another user's file): the caller asks for the variable
  }
}
