/**
 * The two ways a command fails. Each becomes one line on stderr and an exit code in main.ts; neither
 * ever shows a stack trace.
 */

/** Bad input: an unknown command or flag, a missing or malformed value. Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The input was fine but the work failed: Herald unreachable, a refusal, a missing alert. Exit 1. */
export class CliFailure extends Error {
  override name = 'CliFailure';
}
