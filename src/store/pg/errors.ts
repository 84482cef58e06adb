/**
 * A unique violation on PostgreSQL: SQLSTATE `23505`, on the `cause` of drizzle's `DrizzleQueryError` (or on the
 * error itself when node-postgres's is thrown as it is). The counterpart of SQLite's `isUniqueViolation`.
 */
export function isPgUniqueViolation(err: unknown): boolean {
  const code = (e: unknown) => (typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined);
  return code(err) === '23505' || (typeof err === 'object' && err !== null && 'cause' in err && code((err as { cause: unknown }).cause) === '23505');
}
