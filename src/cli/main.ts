import { config as loadDotenv } from 'dotenv';
import { alerts } from './commands/alerts.js';
import { backup } from './commands/backup.js';
import { configCommand } from './commands/config.js';
import { deadletters } from './commands/deadletters.js';
import { register } from './commands/register.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { CliFailure, UsageError } from './errors.js';
import type { CliCommand, CliIo } from './types.js';

/** Every `herald` subcommand group, in the order `herald --help` lists them. */
export const commands: CliCommand[] = [start, status, configCommand, alerts, deadletters, register, backup];

function topHelp(list: CliCommand[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'Usage: herald <command> [options]',
    '',
    "Herald's command line: start Herald, and look at or act on a running one over its HTTP API.",
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'herald <command> --help shows a command\'s options. Commands that talk to Herald take --url (default',
    '$HERALD_URL, else http://127.0.0.1:$HERALD_PORT) and read the admin token from HERALD_ADMIN_TOKEN',
    '(the environment or .env). Exit codes: 0 done, 2 a usage or validation error, 1 a failure (Herald not',
    'reachable, a refusal). Reference: docs/cli.md.',
  ].join('\n');
}

/** Runs one command line; resolves to the exit code. Errors become one line on stderr, never a stack trace. */
export async function runCli(argv: string[], io: CliIo, list: CliCommand[] = commands): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) {
      io.err(topHelp(list));
      return 2;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      const about = name === 'help' ? rest[0] : undefined;
      const cmd = about === undefined ? undefined : list.find((c) => c.name === about);
      if (about !== undefined && !cmd) throw new UsageError(unknownCommand(about, list));
      io.out(cmd ? cmd.help : topHelp(list));
      return 0;
    }
    if (name === '--version' || name === '-v') {
      io.out(await version());
      return 0;
    }
    const cmd = list.find((c) => c.name === name);
    if (!cmd) throw new UsageError(unknownCommand(name, list));
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof CliFailure) {
      io.err(err.message);
      return 1;
    }
    // A bug of ours: still one line, with what happened.
    io.err(`herald ${name ?? ''}: unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.replace(/ {2,}/g, ' '));
    return 1;
  }
}

function unknownCommand(name: string, list: CliCommand[]): string {
  if (name.startsWith('-')) return `herald: unknown option ${name} (see herald --help)`;
  return `herald: unknown command "${name}": use one of ${list.map((c) => c.name).join(', ')} (see herald --help)`;
}

async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  const { PACKAGE_ROOT } = await import('./package-root.js');
  const pkg = JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return `herald ${pkg.version}`;
}

/** The `herald` executable (bin/herald.js): .env loaded as Herald loads it, then one command line. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  loadDotenv({ quiet: true });
  const io: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  };
  const code = await runCli(argv, io);
  // `start` returns once Herald exited; the others are done. Let stdout drain, then exit with the code.
  process.exitCode = code;
}
