/**
 * PostgreSQL's error codes where a module turns a failure into a caller's error, as SQLite's `isUniqueViolation`
 * (`../sqlite/health.ts`) does for its own. drizzle wraps the driver's error in a `DrizzleQueryError` whose `cause`
 * is node-postgres's, which carries the SQLSTATE as `code`; the driver's own error is accepted too.
 */
const UNIQUE_VIOLATION = '23505';

const codeOf = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined);

/** True for a unique (or primary key) violation, on drizzle's error's `cause` or on the driver's error itself. */
export function isPgUniqueViolation(err: unknown): boolean {
  if (codeOf(err) === UNIQUE_VIOLATION) return true;
  return typeof err === 'object' && err !== null && 'cause' in err && codeOf((err as { cause: unknown }).cause) === UNIQUE_VIOLATION;
}
