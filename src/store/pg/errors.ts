/**
 * Whether `err` is PostgreSQL's unique violation (SQLSTATE 23505): on the `cause` of drizzle's `DrizzleQueryError`,
 * or on the driver's own error when it is thrown unwrapped. The PostgreSQL twin of `../sqlite/health.ts`'s
 * `isUniqueViolation`.
 */
export function isPgUniqueViolation(err: unknown): boolean {
  const code = (e: unknown) => (typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined);
  return code(err) === '23505' || (typeof err === 'object' && err !== null && 'cause' in err && code((err as { cause: unknown }).cause) === '23505');
}
