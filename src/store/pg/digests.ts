import { asc, eq, sql, type SQL } from 'drizzle-orm';
import { SEVERITIES, type Severity } from '../../domain/alert.js';
import type { DigestReport, DigestRow } from '../../domain/digest.js';
import type { DigestSettingRow, DigestStore } from '../digests.js';
import type { PgExecutor } from './open.js';
import { digestSettings } from './schema.js';

const NOISIEST = 5;

/** The digests' listeners (`onChange`): one list per store, shared by the pool's module and each transaction's. */
export interface DigestListeners {
  list: (() => void)[];
}

export function digestListeners(): DigestListeners {
  return { list: [] };
}

/**
 * `../digests.ts`'s `digestReport` on PostgreSQL: the same queries. What PostgreSQL needs said: the channel
 * parameter is typed (`::integer`: `$1 is null` alone has no type), counts, sums and averages come back as strings
 * (mapped to numbers), and the noisiest list's ties sort by name bytewise (`collate "C"`, SQLite's order).
 */
export async function pgDigestReport(db: PgExecutor, range: { from: number; to: number; channelId?: number | null }): Promise<DigestReport> {
  const channelId = range.channelId ?? null;
  const from = sql`${range.from}::bigint`;
  const to = sql`${range.to}::bigint`;
  const channel = sql`${channelId}::integer`;
  const fired = sql`a.occurrences > 0 and a.retracted_at is null`;
  const scope = sql`${fired} and (${channel} is null or exists (select 1 from deliveries d where d.alert_id = a.id and d.channel_id = ${channel}))`;
  const inChannel = sql`(${channel} is null or d.channel_id = ${channel})`;
  const rowsOf = async <R>(q: SQL): Promise<R[]> => (await db.execute(q)).rows as R[];
  const num = (v: unknown): number => Number(v);
  const counts = async (column: string) =>
    (
      await rowsOf<{ service: string; severity: Severity; n: string }>(
        sql`select a.service as service, a.severity as severity, count(*) as n from alerts a
            where a.${sql.raw(column)} >= ${from} and a.${sql.raw(column)} < ${to} and a.muted_by_mute_id is null and ${scope} group by 1, 2`,
      )
    ).map((r) => ({ service: r.service, severity: r.severity, n: num(r.n) }));

  const rows = new Map<string, DigestRow>();
  const add = (list: { service: string; severity: Severity; n: number }[], key: 'fired' | 'acknowledged' | 'resolved') => {
    for (const r of list) {
      const k = `${r.service}\u0000${r.severity}`;
      const row = rows.get(k) ?? { service: r.service, severity: r.severity, fired: 0, acknowledged: 0, resolved: 0 };
      row[key] += r.n;
      rows.set(k, row);
    }
  };
  add(await counts('received_at'), 'fired');
  add(await counts('acknowledged_at'), 'acknowledged');
  add(await counts('resolved_at'), 'resolved');
  const by_service = [...rows.values()].sort((x, y) => (x.service < y.service ? -1 : x.service > y.service ? 1 : SEVERITIES.indexOf(x.severity) - SEVERITIES.indexOf(y.severity)));
  const totals = by_service.reduce((t, r) => ({ fired: t.fired + r.fired, acknowledged: t.acknowledged + r.acknowledged, resolved: t.resolved + r.resolved }), { fired: 0, acknowledged: 0, resolved: 0 });

  const mean = async (column: string) => {
    const [r] = await rowsOf<{ m: string | null }>(
      sql`select avg(a.${sql.raw(column)} - a.received_at) as m from alerts a
          where a.${sql.raw(column)} >= ${from} and a.${sql.raw(column)} < ${to} and a.muted_by_mute_id is null and ${scope}`,
    );
    return r?.m === null || r?.m === undefined ? null : num(r.m);
  };
  const mtta = await mean('acknowledged_at');
  const mttr = await mean('resolved_at');

  const noisiest = (
    await rowsOf<{ service: string; title: string; count: string }>(
      sql`select a.service as service, a.title as title, sum(a.occurrences) as count from alerts a
          where a.received_at >= ${from} and a.received_at < ${to} and a.muted_by_mute_id is null and ${scope}
          group by a.service, a.title order by 3 desc, a.service collate "C", a.title collate "C" limit ${sql.raw(String(NOISIEST))}`,
    )
  ).map((r) => ({ service: r.service, title: r.title, count: num(r.count) }));

  const count = async (q: SQL) => num((await rowsOf<{ n: string }>(q))[0]?.n ?? 0);
  const muted = await count(sql`select count(*) as n from alerts a where a.received_at >= ${from} and a.received_at < ${to} and a.muted_by_mute_id is not null and a.occurrences > 0`);
  // Kept for the digest in scope, and posted nowhere in scope (a raised severity may have posted it after all).
  const digestOnly = await count(
    sql`select count(*) as n from alerts a where a.received_at >= ${from} and a.received_at < ${to} and a.muted_by_mute_id is null and ${fired}
        and exists (select 1 from deliveries d where d.alert_id = a.id and d.state = 'digest' and ${inChannel})
        and not exists (select 1 from deliveries d where d.alert_id = a.id and d.state <> 'digest' and ${inChannel})`,
  );
  const deadLetters = await count(
    sql`select count(*) as n from dead_letters dl join deliveries d on d.id = dl.delivery_id where dl.created_at >= ${from} and dl.created_at < ${to} and ${inChannel}`,
  );

  return {
    from: range.from,
    to: range.to,
    channel_id: channelId,
    totals,
    by_service,
    mtta_ms: mtta === null ? null : Math.round(mtta),
    mttr_ms: mttr === null ? null : Math.round(mttr),
    noisiest,
    muted,
    digest_only: digestOnly,
    dead_letters: deadLetters,
  };
}

/**
 * `../digests.ts`'s `DigestStore` on PostgreSQL. Its listeners are the store's shared state: one registered on the
 * store is told of a write made through a transaction's module too, synchronously after the write's statement, as
 * SQLite's (inside a transaction, that is before the commit).
 */
export class PgDigestStore implements Pick<DigestStore, keyof DigestStore> {
  constructor(
    private readonly db: PgExecutor,
    private readonly listeners: DigestListeners,
  ) {}

  onChange(listener: () => void): void {
    this.listeners.list.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners.list) l();
  }

  async report(range: { from: number; to: number; channelId?: number | null }): Promise<DigestReport> {
    return pgDigestReport(this.db, range);
  }

  async settings(channelId: number): Promise<DigestSettingRow | undefined> {
    const [row] = await this.db.select().from(digestSettings).where(eq(digestSettings.channelId, channelId)).limit(1);
    return row;
  }

  /** By channel, as SQLite's table (keyed by its rowid, the channel id) comes. */
  async all(): Promise<DigestSettingRow[]> {
    return this.db.select().from(digestSettings).orderBy(asc(digestSettings.channelId));
  }

  async save(channelId: number, settings: { enabled: boolean; time: string; timezone: string }, managedBy: 'file' | null = null): Promise<void> {
    const values = { ...settings, managedBy };
    await this.db
      .insert(digestSettings)
      .values({ channelId, ...values })
      .onConflictDoUpdate({ target: digestSettings.channelId, set: values });
    this.changed();
  }

  async delete(channelId: number): Promise<boolean> {
    const deleted = (await this.db.delete(digestSettings).where(eq(digestSettings.channelId, channelId)).returning({ id: digestSettings.channelId })).length > 0;
    if (deleted) this.changed();
    return deleted;
  }

  async markSent(channelId: number, to: number): Promise<void> {
    await this.db.update(digestSettings).set({ lastSentAt: to }).where(eq(digestSettings.channelId, channelId));
  }
}
