import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../store/sqlite/open.js';
import { channels, digestSettings } from '../store/sqlite/schema.js';
import { renderDigest } from '../cards/digest.js';
import { SEVERITIES, type Severity } from '../domain/alert.js';
import type { Herald } from '../herald.js';
import { invalid, notFound } from './errors.js';
import type { DigestReport, DigestRow, DigestSettingView } from './views.js';

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// The report: a pure-ish function of the database and a time range

const NOISIEST = 5;

/**
 * The digest of a time range, computed over the database alone (no clock: `from` and `to` are given).
 * An alert counts for a channel when it was delivered (or queued, or kept for the digest) there.
 * Retracted alerts (sent by mistake) and alerts that never fired (`occurrences = 0`: a sender's resolved
 * with nothing to resolve, stored for the record) are left out; muted alerts are counted apart.
 */
export function computeDigest(db: Db, range: { from: number; to: number; channelId?: number | null }): DigestReport {
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

// ---------------------------------------------------------------------------------------------
// Per-channel settings and posting

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const digestInput = z.strictObject({
  enabled: z.boolean().default(true).describe('Post the digest (false keeps the settings and stops posting)'),
  time: z.string().regex(HHMM, 'a time as HH:MM (24 h), e.g. 09:00').optional().describe('When to post, HH:MM in `timezone` (default HERALD_DIGEST_TIME)'),
  timezone: z
    .string()
    .min(1)
    .max(64)
    .refine(isTimeZone, 'an IANA time zone, e.g. Europe/Paris or UTC')
    .optional()
    .describe('IANA time zone (default HERALD_DIGEST_TIMEZONE)'),
});
export type DigestInput = z.output<typeof digestInput>;

type Deps = Pick<Herald, 'db' | 'config' | 'outbox' | 'scheduler' | 'digests'>;

function channelRow(h: Pick<Herald, 'db'>, channelId: number) {
  const ch = h.db.select({ id: channels.id, name: channels.name }).from(channels).where(eq(channels.id, channelId)).get();
  if (!ch) throw notFound('channel', channelId);
  return ch;
}

const view = (s: typeof digestSettings.$inferSelect): DigestSettingView => ({
  channel_id: s.channelId,
  enabled: s.enabled,
  time: s.time,
  timezone: s.timezone,
  last_sent_at: s.lastSentAt,
});

/** Sets a channel's digest (unset fields keep their value, or take the HERALD_DIGEST_* defaults). */
export function setDigest(h: Deps, channelId: number, input: DigestInput): DigestSettingView {
  channelRow(h, channelId);
  const prior = h.db.select().from(digestSettings).where(eq(digestSettings.channelId, channelId)).get();
  const values = {
    enabled: input.enabled,
    time: input.time ?? prior?.time ?? h.config.digest.time,
    timezone: input.timezone ?? prior?.timezone ?? h.config.digest.timezone,
  };
  h.db
    .insert(digestSettings)
    .values({ channelId, ...values })
    .onConflictDoUpdate({ target: digestSettings.channelId, set: values })
    .run();
  h.digests.reload();
  return getDigest(h, channelId);
}

/** A channel's digest settings (a channel never set up has none: disabled, with the defaults shown). */
export function getDigest(h: Pick<Herald, 'db' | 'config'>, channelId: number): DigestSettingView {
  channelRow(h, channelId);
  const s = h.db.select().from(digestSettings).where(eq(digestSettings.channelId, channelId)).get();
  return s ? view(s) : { channel_id: channelId, enabled: false, time: h.config.digest.time, timezone: h.config.digest.timezone, last_sent_at: null };
}

export function listDigests(h: Pick<Herald, 'db'>): DigestSettingView[] {
  return h.db.select().from(digestSettings).all().map(view);
}

export function deleteDigest(h: Deps, channelId: number): void {
  channelRow(h, channelId);
  const n = h.db.delete(digestSettings).where(eq(digestSettings.channelId, channelId)).run().changes;
  if (!n) throw invalid('channel_id', `channel ${channelId} has no digest`);
  h.digests.reload();
}

/**
 * Computes the digest of the 24 hours before `now` (or the range given) for the channel and queues it
 * there through the outbox (a P3-priority delivery of a message about no alert), in one transaction
 * that also records the period as posted. Returns the report.
 */
export function postDigest(h: Deps, channelId: number, now: number, range?: { from: number; to: number }): DigestReport {
  const ch = channelRow(h, channelId);
  const settings = getDigest(h, channelId);
  const to = range?.to ?? now;
  const from = range?.from ?? to - DAY_MS;
  const report = h.db.transaction(() => {
    const r = computeDigest(h.db, { from, to, channelId });
    const message = renderDigest(r, { timezone: settings.timezone, username: h.config.delivery.username, channelName: ch.name });
    h.outbox.enqueue(null, channelId, 3, now, { message });
    h.db.update(digestSettings).set({ lastSentAt: to }).where(eq(digestSettings.channelId, channelId)).run();
    return r;
  });
  h.scheduler.wake(channelId, 1);
  return report;
}

/**
 * The cron job's call: posts the channel's digest unless it is disabled or one was posted in the last
 * hour (a second firing, e.g. after a restart in the same minute). Returns the report, or null when skipped.
 */
export function runScheduledDigest(h: Deps, channelId: number, now: number): DigestReport | null {
  const s = h.db.select().from(digestSettings).where(eq(digestSettings.channelId, channelId)).get();
  if (!s || !s.enabled) return null;
  if (s.lastSentAt !== null && now - s.lastSentAt < 3_600_000) return null;
  return postDigest(h, channelId, now);
}
