import type pg from 'pg';

/**
 * Lane leases (issue 12): with several instances on one database, one instance at a time runs a channel's lane, so
 * the channel's Discord budget is spent by one scheduler (table `lane_leases`, schema.ts). A lease is the instance's
 * until `expires_at`, which only the database's clock sets and reads (`clock_timestamp()`): instances' clocks may
 * disagree, the database has one.
 *
 * The holder's side of the contract: it treats a lease as lost from its own send time of the last successful
 * `acquire`/`renew` plus the TTL (a monotonic clock), renews well before (a third of the TTL), and stops the lane
 * when a renew no longer returns the channel. Statements are single and atomic; `acquire` locks rows in channel
 * order, so two instances asking for overlapping sets cannot deadlock.
 */
export class LaneLeases {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  /**
   * Takes the channels' leases that are free (never taken, released, or lapsed) or already the instance's, for
   * `ttlMs` from now; returns the ids it holds afterwards, in order. A lease another instance holds is left alone.
   */
  async acquire(instance: string, channelIds: readonly number[], ttlMs: number): Promise<number[]> {
    const ids = checked(instance, channelIds, ttlMs);
    if (ids.length === 0) return [];
    // ON CONFLICT DO UPDATE re-reads a row another transaction changed meanwhile and checks the WHERE against
    // that newest version: of two instances racing for one lease, exactly one gets it.
    const r = await this.db.query<{ channel_id: number }>(
      `INSERT INTO lane_leases AS l (channel_id, owner, expires_at)
       SELECT c, $1, clock_timestamp() + $3::double precision * interval '1 millisecond'
         FROM unnest($2::integer[]) AS c ORDER BY c
       ON CONFLICT (channel_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE l.owner = excluded.owner OR l.expires_at <= clock_timestamp()
       RETURNING l.channel_id`,
      [instance, ids, ttlMs],
    );
    return sorted(r.rows);
  }

  /**
   * Extends the instance's unexpired leases of these channels to `ttlMs` from now; returns the ids renewed. A lease
   * that lapsed, or that is another instance's, is not renewed (a lapsed one may be taken again with `acquire`).
   */
  async renew(instance: string, channelIds: readonly number[], ttlMs: number): Promise<number[]> {
    const ids = checked(instance, channelIds, ttlMs);
    if (ids.length === 0) return [];
    const r = await this.db.query<{ channel_id: number }>(
      `UPDATE lane_leases SET expires_at = clock_timestamp() + $3::double precision * interval '1 millisecond'
        WHERE owner = $1 AND channel_id = ANY($2::integer[]) AND expires_at > clock_timestamp()
        RETURNING channel_id`,
      [instance, ids, ttlMs],
    );
    return sorted(r.rows);
  }

  /** Gives up the instance's leases of these channels (all of them when none are named, as at stop): free at once. */
  async release(instance: string, channelIds?: readonly number[]): Promise<number[]> {
    if (!instance) throw new Error('a lease owner needs an instance id');
    const r =
      channelIds === undefined
        ? await this.db.query<{ channel_id: number }>('DELETE FROM lane_leases WHERE owner = $1 RETURNING channel_id', [instance])
        : await this.db.query<{ channel_id: number }>('DELETE FROM lane_leases WHERE owner = $1 AND channel_id = ANY($2::integer[]) RETURNING channel_id', [instance, [...channelIds]]);
    return sorted(r.rows);
  }

  /** The channels whose unexpired leases the instance holds, in order. */
  async owned(instance: string): Promise<number[]> {
    const r = await this.db.query<{ channel_id: number }>('SELECT channel_id FROM lane_leases WHERE owner = $1 AND expires_at > clock_timestamp()', [instance]);
    return sorted(r.rows);
  }
}

function checked(instance: string, channelIds: readonly number[], ttlMs: number): number[] {
  if (!instance) throw new Error('a lease owner needs an instance id');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error(`a lease needs a positive TTL (got ${ttlMs} ms)`);
  return [...new Set(channelIds)].sort((a, b) => a - b);
}

const sorted = (rows: { channel_id: number }[]) => rows.map((r) => r.channel_id).sort((a, b) => a - b);
