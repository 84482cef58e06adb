import { heraldClient, type HeraldClient } from './client.js';
import { adminToken, heraldUrl } from './target.js';
import type { CliIo } from './types.js';

/** The client for a command's `--url` / `--token` (or the environment's HERALD_URL, HERALD_ADMIN_TOKEN). */
export function connect(where: string, values: { url?: string | undefined; token?: string | undefined }, io: CliIo): HeraldClient {
  const url = heraldUrl(where, values.url, io.env);
  return heraldClient(where, url, adminToken(where, values.token, io));
}
