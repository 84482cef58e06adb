import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The database holds webhook tokens and signing secrets: only Herald's own user may read it. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Set on shared directories such as /tmp: tightening one of those would break other users' programs. */
const STICKY = 0o1000;

/**
 * Makes the database's folder 0700 and the database file 0600 before SQLite opens it, so that no
 * other user can read tokens from it. A folder that exists already is tightened when Herald's user
 * owns it and it is not a shared (sticky) folder like /tmp; otherwise it is left as it is and a
 * warning says so. Returns those warnings (the caller logs them); never throws for a mode it cannot set.
 */
export function secureDatabasePath(path: string): string[] {
  const warnings: string[] = [];
  const file = resolve(path);
  const dir = dirname(file);
  if (!existsSync(dir)) {
    // `mode` applies to every folder mkdir creates (less the umask, which only removes bits).
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  } else {
    const st = statSync(dir);
    const ours = typeof process.getuid !== 'function' || st.uid === process.getuid();
    if ((st.mode & 0o077) !== 0) {
      if (!ours || (st.mode & STICKY) !== 0) {
        warnings.push(
          `the database folder ${dir} is readable by other users (mode ${octal(st.mode)}) and is ${ours ? 'a shared folder' : "owned by another user"}, so Herald leaves it as it is; ` +
            'keep the database in a folder of its own that only Herald\'s user can open (HERALD_DB)',
        );
      } else {
        tighten(dir, DIR_MODE, warnings);
      }
    }
  }
  // Created here with 0600, so SQLite never makes it with its default 0644 (its WAL and SHM files copy the database's mode).
  if (!existsSync(file)) closeSync(openSync(file, 'a', FILE_MODE));
  secureDatabaseFiles(file, warnings);
  return warnings;
}

/** Sets 0600 on the database file and its WAL and SHM files where they exist and are looser. */
export function secureDatabaseFiles(path: string, warnings: string[] = []): string[] {
  const file = resolve(path);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f)) continue;
    if ((statSync(f).mode & 0o077) !== 0) tighten(f, FILE_MODE, warnings);
  }
  return warnings;
}

function tighten(path: string, mode: number, warnings: string[]): void {
  try {
    chmodSync(path, mode);
  } catch (err) {
    warnings.push(`cannot restrict ${path} to mode ${octal(mode)} (${(err as NodeJS.ErrnoException).code ?? 'error'}); other users may be able to read it`);
  }
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;
