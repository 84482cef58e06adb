import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatProblem, loadConfigText } from '../../services/config/load.js';
import type { CliCommand, CliIo } from '../types.js';

const HELP = `Usage: herald config <check|diff|export> [options]

The configuration file (HERALD_CONFIG, else herald.yaml in the working directory): docs/config-file.md.

  herald config check <file> [--api-url URL]
      Validate a file: YAML, \${NAME} references (from the environment), every key and every reference.
      Exit 0 when it is valid, 2 with each problem as file:line:column: key: message.
      --api-url: the Discord API base whose host webhook URLs may use besides discord.com
                 (default DISCORD_API_URL, else HERALD_EMULATOR_URL of emulator mode's demo.env)

  herald config diff <file> [--url URL]
      What applying the file would change in a running Herald (nothing is written): "+" created,
      "~" changed, "=" taken over from the API, "-" removed. \${NAME} references are expanded from
      this environment when it has them (they are sent with the file), else from Herald's, as its
      reload would. Exit 0, or 2 when Herald refuses the file.

  herald config export [--url URL] [--out FILE] [--secrets-file FILE]
      A running Herald's configuration as a file that check accepts. Credentials (webhook URLs,
      outbound URLs and secrets) are \${NAME} references; --secrets-file also writes their values
      (NAME='value' lines, mode 0600) for your secret store. Without --out the file goes to stdout.

  --url: the running Herald (default HERALD_URL, else http://127.0.0.1:$HERALD_PORT or :8080);
  the admin token is read from HERALD_ADMIN_TOKEN.`;

type Parsed = { positionals: string[]; values: Record<string, string | boolean | undefined> };

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>): Parsed {
  return parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed;
}

/** The running Herald to talk to, and its admin token; a missing token is a usage error. */
function target(values: Parsed['values'], env: NodeJS.ProcessEnv): { url: string; token: string } | string {
  const url = String(values.url ?? env.HERALD_URL ?? `http://127.0.0.1:${env.HERALD_PORT || 8080}`).replace(/\/+$/, '');
  const token = env.HERALD_ADMIN_TOKEN;
  if (!token) return 'HERALD_ADMIN_TOKEN is not set: export the admin token of the Herald at ' + url;
  return { url, token };
}

class Failure extends Error {}

/** One admin API call; any failure is one line (never the token, never a stack). */
async function call(t: { url: string; token: string }, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new Failure(`cannot reach Herald at ${t.url} (${cause}); is it running? (--url, HERALD_URL)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status === 401) throw new Failure(`Herald at ${t.url} refused the admin token (401): check HERALD_ADMIN_TOKEN`);
  if (res.status >= 400 && (res.status !== 422 || json === undefined)) {
    const message = (json as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
    throw new Failure(`Herald at ${t.url} answered ${res.status}: ${message}`);
  }
  return { status: res.status, json };
}

/** The file a `config` subcommand was given, or undefined after saying on stderr why it cannot be read. */
async function readFileFor(subcommand: string, file: string, io: CliIo): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    io.err(`herald: config ${subcommand}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}

async function check(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parse(args, { 'api-url': { type: 'string' } });
  if (positionals.length !== 1) return usage(io, 'config check takes one file: herald config check <file>');
  const file = positionals[0]!;
  const text = await readFileFor('check', file, io);
  if (text === undefined) return 2;
  // Emulator mode's demo.env names the emulator (HERALD_EMULATOR_URL): its webhook URLs are then accepted too.
  const emulator = io.env.HERALD_EMULATOR_URL ? `${io.env.HERALD_EMULATOR_URL.replace(/\/+$/, '')}/api` : undefined;
  const apiUrl = String(values['api-url'] ?? (io.env.DISCORD_API_URL || emulator || 'https://discord.com/api')).replace(/\/+$/, '');
  const loaded = loadConfigText(text, { env: io.env, apiUrl });
  if (!loaded.ok) {
    for (const p of loaded.problems) io.err(formatProblem(p, file));
    io.err(`${file}: ${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}`);
    return 2;
  }
  for (const w of loaded.config.warnings) io.err(`warning: ${formatProblem(w, file)}`);
  const f = loaded.config.file;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  io.out(
    `${file}: valid (${[count(f.channels.length, 'channel'), count(f.routes.length, 'route'), count(f.escalations.length, 'escalation chain'), count(f.sources.length, 'source'), count(f.heartbeats.length, 'heartbeat'), count(f.maintenance.length, 'maintenance window'), count(f.digests.length, 'digest')].join(', ')})`,
  );
  return 0;
}

async function diff(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parse(args, { url: { type: 'string' } });
  if (positionals.length !== 1) return usage(io, 'config diff takes one file: herald config diff <file> [--url URL]');
  const file = positionals[0]!;
  const t = target(values, io.env);
  if (typeof t === 'string') return usage(io, t);
  const text = await readFileFor('diff', file, io);
  if (text === undefined) return 2;
  // The references this environment can expand go with the file (over the admin API, which is the trust the
  // token gives anyway); the others are left to Herald's environment, as its reload would read them.
  const env = Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].flatMap(([, name]) => (io.env[name!] === undefined ? [] : [[name!, io.env[name!]!]])));
  const { json } = await call(t, 'POST', '/v1/admin/config/diff', { yaml: text, env });
  const answer = json as { valid: boolean; changes: string[]; problems: string[]; warnings: string[] };
  for (const w of answer.warnings) io.err(`warning: ${file}:${w}`);
  if (!answer.valid) {
    for (const p of answer.problems) io.err(`${file}:${p}`);
    return 2;
  }
  if (answer.changes.length === 0) io.out(`${file}: no changes`);
  for (const c of answer.changes) io.out(c);
  return 0;
}

async function exportFile(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parse(args, { url: { type: 'string' }, out: { type: 'string' }, 'secrets-file': { type: 'string' } });
  if (positionals.length) return usage(io, 'config export takes no file name; write it with --out FILE');
  const t = target(values, io.env);
  if (typeof t === 'string') return usage(io, t);
  const secrets = typeof values['secrets-file'] === 'string' ? values['secrets-file'] : undefined;
  const { json } = await call(t, 'GET', `/v1/admin/config/export${secrets ? '?secrets=true' : ''}`);
  const answer = json as { yaml: string; env?: Record<string, string> };
  if (secrets) {
    const lines = Object.entries(answer.env ?? {}).map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'`);
    await writeFile(secrets, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
    io.err(`wrote ${lines.length} credential${lines.length === 1 ? '' : 's'} to ${secrets} (keep it out of git)`);
  }
  if (typeof values.out === 'string') {
    await writeFile(values.out, answer.yaml);
    io.err(`wrote ${values.out}`);
  } else io.out(answer.yaml.replace(/\n$/, ''));
  return 0;
}

function usage(io: CliIo, message: string): number {
  io.err(`herald: ${message} (herald config --help)`);
  return 2;
}

/** `herald config check|diff|export` (the command interface: /work/briefs/cli-interface.md, src/cli/types.ts). */
export const configCommand: CliCommand = {
  name: 'config',
  summary: 'check a configuration file, diff it against a running Herald, export one',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    try {
      if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
        io.out(HELP);
        return sub === undefined ? 2 : 0;
      }
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(HELP);
        return 0;
      }
      if (sub === 'check') return await check(rest, io);
      if (sub === 'diff') return await diff(rest, io);
      if (sub === 'export') return await exportFile(rest, io);
      return usage(io, `unknown config command "${sub}"; use check, diff or export`);
    } catch (err) {
      if (err instanceof Failure) {
        io.err(`herald: config ${sub}: ${err.message}`);
        return 1;
      }
      // parseArgs: an unknown or malformed option.
      if (err instanceof TypeError && 'code' in err && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) return usage(io, err.message);
      io.err(`herald: config ${sub}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  },
};
