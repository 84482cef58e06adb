import { eq } from 'drizzle-orm';
import { SEVERITIES, type Severity } from '../domain/alert.js';
import type { DigestReport, DigestRow } from '../domain/digest.js';
import type { Db } from './sqlite/open.js';
import { digestSettings } from './sqlite/schema.js';

export type DigestSettingRow = typeof digestSettings.$inferSelect;

const NOISIEST = 5;

/**
 * The digest of a time range, computed over the database alone (no clock: `from` and `to` are given).
 * An alert counts for a channel when it was delivered (or queued, or kept for the digest) there.
 * Retracted alerts (sent by mistake) and alerts that never fired (`occurrences = 0`: a sender's resolved
 * with nothing to resolve, stored for the record) are left out; muted alerts are counted apart.
 */
export function digestReport(db: Db, range: { from: number; to: number; channelId?: number | null }): DigestReport {
  const c = db.$client;
  const channelId = range.channelId ?? null;
  const params = { from: range.from, to: range.to, channel: channelId };
  const fired = `a.occurrences > 0 AND a.retracted_at IS NULL`;
  const scope = `${fired} AND (@channel IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.channel_id = @channel))`;
  const inChannel = `(@channel IS NULL OR d.channel_id = @channel)`;
  const counts = (column: string) =>
    c
      .prepare(`SELECT a.service AS service, a.severity AS severity, count(*) AS n FROM alerts a WHERE a.${column} >= @from AND a.${column} < @to AND a.muted_by_mute_id IS NULL AND ${scope} GROUP BY 1, 2`)
      .all(params) as { service: string; severity: Severity; n: number }[];

  const rows = new Map<string, DigestRow>();
  const add = (list: { service: string; severity: Severity; n: number }[], key: 'fired' | 'acknowledged' | 'resolved') => {
    for (const r of list) {
      const k = `${r.service}\u0000${r.severity}`;
      const row = rows.get(k) ?? { service: r.service, severity: r.severity, fired: 0, acknowledged: 0, resolved: 0 };
      row[key] += r.n;
      rows.set(k, row);
    }
  };
  add(counts('received_at'), 'fired');
  add(counts('acknowledged_at'), 'acknowledged');
  add(counts('resolved_at'), 'resolved');
  const by_service = [...rows.values()].sort((x, y) => (x.service < y.service ? -1 : x.service > y.service ? 1 : SEVERITIES.indexOf(x.severity) - SEVERITIES.indexOf(y.severity)));
  const totals = by_service.reduce((t, r) => ({ fired: t.fired + r.fired, acknowledged: t.acknowledged + r.acknowledged, resolved: t.resolved + r.resolved }), { fired: 0, acknowledged: 0, resolved: 0 });

  const mean = (column: string) =>
    (c.prepare(`SELECT avg(a.${column} - a.received_at) AS m FROM alerts a WHERE a.${column} >= @from AND a.${column} < @to AND a.muted_by_mute_id IS NULL AND ${scope}`).get(params) as { m: number | null }).m;
  const mtta = mean('acknowledged_at');
  const mttr = mean('resolved_at');

  const noisiest = c
    .prepare(
      `SELECT a.service AS service, a.title AS title, sum(a.occurrences) AS count FROM alerts a
       WHERE a.received_at >= @from AND a.received_at < @to AND a.muted_by_mute_id IS NULL AND ${scope}
       GROUP BY a.service, a.title ORDER BY count DESC, a.service, a.title LIMIT ${NOISIEST}`,
    )
    .all(params) as { service: string; title: string; count: number }[];

  const muted = (c.prepare(`SELECT count(*) AS n FROM alerts a WHERE a.received_at >= @from AND a.received_at < @to AND a.muted_by_mute_id IS NOT NULL AND a.occurrences > 0`).get(params) as { n: number }).n;
  // Kept for the digest in scope, and posted nowhere in scope (a raised severity may have posted it after all).
  const digestOnly = (
    c
      .prepare(
        `SELECT count(*) AS n FROM alerts a WHERE a.received_at >= @from AND a.received_at < @to AND a.muted_by_mute_id IS NULL AND ${fired}
         AND EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state = 'digest' AND ${inChannel})
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state <> 'digest' AND ${inChannel})`,
      )
      .get(params) as { n: number }
  ).n;
  const deadLetters = (
    c
      .prepare(`SELECT count(*) AS n FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id WHERE dl.created_at >= @from AND dl.created_at < @to AND (@channel IS NULL OR d.channel_id = @channel)`)
      .get(params) as { n: number }
  ).n;

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

/** The digests: the report's queries (SQLite SQL) and each channel's digest settings. */
export class DigestStore {
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly db: Db) {}

  /** `listener` runs after each write of a channel's settings (save, delete): the digest jobs reschedule on it. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** The digest of a time range (see `digestReport`); inside `store.transaction` it reads that transaction's view. */
  async report(range: { from: number; to: number; channelId?: number | null }): Promise<DigestReport> {
    return digestReport(this.db, range);
  }

  async settings(channelId: number): Promise<DigestSettingRow | undefined> {
    return this.db.select().from(digestSettings).where(eq(digestSettings.channelId, channelId)).get();
  }

  async all(): Promise<DigestSettingRow[]> {
    return this.db.select().from(digestSettings).all();
  }

  async save(channelId: number, settings: { enabled: boolean; time: string; timezone: string }, managedBy: 'file' | null = null): Promise<void> {
    const values = { ...settings, managedBy };
    this.db
      .insert(digestSettings)
      .values({ channelId, ...values })
      .onConflictDoUpdate({ target: digestSettings.channelId, set: values })
      .run();
    this.changed();
  }

  /** Removes the channel's settings; false when it had none. */
  async delete(channelId: number): Promise<boolean> {
    const deleted = this.db.delete(digestSettings).where(eq(digestSettings.channelId, channelId)).run().changes > 0;
    if (deleted) this.changed();
    return deleted;
  }

  /** Records the period up to `to` as posted. */
  async markSent(channelId: number, to: number): Promise<void> {
    this.db.update(digestSettings).set({ lastSentAt: to }).where(eq(digestSettings.channelId, channelId)).run();
  }
}
