import { parse } from '../args.js';
import { CliFailure, UsageError } from '../errors.js';
import type { CliCommand } from '../types.js';

const WHERE = 'herald backup';

export const backup: CliCommand = {
  name: 'backup',
  summary: "copy Herald's SQLite database to a file, safely while Herald runs",
  help: `Usage: herald backup <file> [--db <path>]

Writes a consistent copy of Herald's SQLite database to <file> with SQLite's online backup API: safe while
Herald runs (copying the file itself is not: the write-ahead log holds recent commits). Take one before every
upgrade; restoring it (Herald stopped: replace the database file with the copy and delete its -wal and -shm
files) is how an upgrade is rolled back (docs/deploy.md). Run it as Herald's user, on Herald's machine.

The copy holds webhook tokens and token hashes: it is created readable by you only (0600), and an existing
file is never overwritten.

  --db <path>   the database (default: $HERALD_DB, else ./data/herald.db)`,
  async run(args, io) {
    const { values, positionals } = parse(WHERE, args, { db: { type: 'string' } }, { positionals: true });
    if (values.help) return (io.out(backup.help), 0);
    if (positionals.length !== 1) throw new UsageError(`${WHERE}: give one file to write the backup to (see ${WHERE} --help)`);
    const dbPath = values.db ?? (io.env.HERALD_DB || './data/herald.db');
    // The store opens the database; loaded here only, so other commands never load the SQLite driver.
    const { backupDatabase } = await import('../../store/backup.js');
    try {
      const r = await backupDatabase(dbPath, positionals[0]!);
      io.out(`backed up ${dbPath} to ${positionals[0]} (${r.pages} pages, ${(r.bytes / 1_048_576).toFixed(1)} MiB)`);
      return 0;
    } catch (err) {
      throw new CliFailure(`${WHERE}: ${(err as Error).message}`);
    }
  },
};
