import { formatDuration } from './duration.js';

/**
 * Auto-resolve (services/auto-resolve.ts) resolves a firing alert nobody repeated for a route's or a
 * source's `auto_resolve_after`. Its resolver is named by this one convention, so the alert's actions
 * and its card show it as stale, not as resolved by its sender.
 */
const PREFIX = 'stale (no update for ';

/** The resolver's name: "stale (no update for 4 h)". */
export const staleResolverName = (afterMs: number): string => `${PREFIX}${formatDuration(afterMs)})`;

/** Whether an alert was resolved as stale (no Discord user resolves under that name). */
export const isStaleResolution = (resolvedBy: string | null | undefined, resolvedByUser: string | null | undefined): boolean =>
  !resolvedByUser && !!resolvedBy?.startsWith(PREFIX);
