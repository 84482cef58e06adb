import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` in strict mode, with its errors turned into one plain line (exit 2). `where` names the
 * command for the messages ("herald alerts list"). Every command also takes `--help`.
 */
export function parse<O extends Options>(where: string, args: string[], options: O, opts: { positionals?: boolean } = {}) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, strict: true, allowPositionals: opts.positionals ?? false });
  } catch (err) {
    throw new UsageError(`${where}: ${plainParseError(err)} (see ${where} --help)`);
  }
}

/** parseArgs' messages, shortened to what the user needs (they carry advice meant for programmers). */
function plainParseError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = /'([^']+)'/.exec(msg)?.[1];
      return flag ? `unknown option ${flag}` : 'unknown option';
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']+)'/.exec(msg)?.[1];
      return arg ? `unexpected argument "${arg}"` : 'unexpected argument';
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // e.g. "Option '--limit <value>' argument missing"
      return msg.replace(/^Option '([^ ']+)[^']*' argument missing$/, '$1 needs a value').replace(/\.$/, '');
    default:
      return msg.split('\n')[0]!.replace(/\.$/, '');
  }
}

/** A whole number from `min` to `max`, for a flag. */
export function intFlag(where: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${where}: --${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

/** `--limit` and `--before-id` of a list command, as the admin API's paging query (`limit`, `before_id`). */
export function pageQuery(where: string, values: { limit?: string | undefined; 'before-id'?: string | undefined }): URLSearchParams {
  const q = new URLSearchParams();
  const limit = intFlag(where, 'limit', values.limit, 1, 1000);
  const before = intFlag(where, 'before-id', values['before-id'], 1, Number.MAX_SAFE_INTEGER);
  if (limit !== undefined) q.set('limit', String(limit));
  if (before !== undefined) q.set('before_id', String(before));
  return q;
}

/** The one id argument of a command (a positive whole number): missing, several or not a number is a usage error. */
export function idArg(where: string, what: string, positionals: string[]): number {
  if (positionals.length > 1) throw new UsageError(`${where}: one ${what} id only (got ${positionals.length})`);
  const value = positionals[0];
  if (value === undefined) throw new UsageError(`${where}: the ${what} id is missing (see ${where} --help)`);
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${where}: the ${what} id must be a positive whole number (got "${value}")`);
  return n;
}
