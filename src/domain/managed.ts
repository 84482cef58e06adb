import { conflict } from './errors.js';

/**
 * Objects the configuration file manages are changed by editing the file: the admin API and the slash
 * commands (which call these services) get a 409 that says so. Objects made through the API stay theirs.
 */
export function refuseIfManaged(managedBy: 'file' | null | undefined, what: string): void {
  if (managedBy === 'file') {
    throw conflict(`${what} is managed by the configuration file (HERALD_CONFIG); change it there and reload (SIGHUP, or POST /v1/admin/config/reload)`);
  }
}
