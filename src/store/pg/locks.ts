/**
 * PostgreSQL advisory lock keys of Herald, in the two-integer form (`pg_advisory_lock(space, key)`): the first is
 * Herald's own ("HRLD"), so other users of the same database cannot take one by accident, the second says which.
 * Advisory locks are per database: Herald deployments on different databases of one server do not meet.
 */
export const LOCK_SPACE = 0x48524c44;

export const LOCK_KEYS = {
  /** Held while one instance migrates (`open.ts`); the others wait, then find nothing left to do. */
  migrate: 1,
  /** Held by the instance whose bot is connected to Discord (`leader.ts`). */
  bot: 2,
  /** Held by a transaction that makes a channel the default (`channels.ts`), to its end: one default at a time. */
  defaultChannel: 3,
} as const;

/**
 * The space of the transaction-level locks on an incident's group (`pg_advisory_xact_lock(space, hash)`, `incidents.ts`
 * `join`): "HRLI", apart from `LOCK_SPACE` so that a group's hash never meets the migration's or the bot's key.
 */
export const INCIDENT_LOCK_SPACE = 0x48524c49;
