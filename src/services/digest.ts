import { z } from 'zod';
import { refuseIfManaged } from '../domain/managed.js';
import { renderDigest } from '../cards/digest.js';
import type { Config } from '../config.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { DigestSettingRow } from '../store/digests.js';
import type { Store } from '../store/index.js';
import { invalid } from './errors.js';
import type { DigestReport, DigestSettingView } from './views.js';

/**
 * The digest of a time range, computed over the database alone (no clock: `from` and `to` are given);
 * its queries live in the digests store (store/digests.ts).
 */
export { digestReport as computeDigest } from '../store/digests.js';

const DAY_MS = 86_400_000;

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

export type DigestDeps = {
  store: Pick<Store, 'transaction' | 'digests' | 'channels' | 'deliveries'>;
  config: Pick<Config, 'digest' | 'delivery'>;
  /** Told after the digest's delivery was committed. */
  signals: Pick<CommitSignals, 'deliveriesQueued'>;
};
type Deps = DigestDeps;
type ReadDeps = { store: Pick<Store, 'digests' | 'channels'>; config: Pick<Config, 'digest'> };

const view = (s: DigestSettingRow): DigestSettingView => ({
  channel_id: s.channelId,
  enabled: s.enabled,
  time: s.time,
  timezone: s.timezone,
  last_sent_at: s.lastSentAt,
});

/** Sets a channel's digest (unset fields keep their value, or take the HERALD_DIGEST_* defaults). */
export async function setDigest(h: Deps, channelId: number, input: DigestInput): Promise<DigestSettingView> {
  await h.store.channels.row(channelId);
  const prior = await h.store.digests.settings(channelId);
  refuseIfManaged(prior?.managedBy, `the digest of channel ${channelId}`);
  await h.store.digests.save(channelId, {
    enabled: input.enabled,
    time: input.time ?? prior?.time ?? h.config.digest.time,
    timezone: input.timezone ?? prior?.timezone ?? h.config.digest.timezone,
  });
  return getDigest(h, channelId);
}

/** A channel's digest settings (a channel never set up has none: disabled, with the defaults shown). */
export async function getDigest(h: ReadDeps, channelId: number): Promise<DigestSettingView> {
  await h.store.channels.row(channelId);
  const s = await h.store.digests.settings(channelId);
  return s ? view(s) : { channel_id: channelId, enabled: false, time: h.config.digest.time, timezone: h.config.digest.timezone, last_sent_at: null };
}

export async function deleteDigest(h: Deps, channelId: number): Promise<void> {
  await h.store.channels.row(channelId);
  refuseIfManaged((await h.store.digests.settings(channelId))?.managedBy, `the digest of channel ${channelId}`);
  if (!(await h.store.digests.delete(channelId))) throw invalid('channel_id', `channel ${channelId} has no digest`);
}

/** The digest report of a range for a channel, without posting it (the admin API's preview). */
export function previewDigest(h: { store: Pick<Store, 'digests'> }, channelId: number, range: { from: number; to: number }): Promise<DigestReport> {
  return h.store.digests.report({ ...range, channelId });
}

/**
 * Computes the digest of the 24 hours before `now` (or the range given) for the channel and queues it
 * there through the outbox (a P3-priority delivery of a message about no alert), in one transaction
 * that also records the period as posted. Returns the report.
 */
export async function postDigest(h: Deps, channelId: number, now: number, range?: { from: number; to: number }): Promise<DigestReport> {
  const ch = await h.store.channels.row(channelId);
  const settings = await getDigest(h, channelId);
  const to = range?.to ?? now;
  const from = range?.from ?? to - DAY_MS;
  const report = await h.store.transaction(async (tx) => {
    const r = await tx.digests.report({ from, to, channelId });
    const message = renderDigest(r, { timezone: settings.timezone, username: h.config.delivery.username, channelName: ch.name });
    await tx.deliveries.enqueue(null, channelId, 3, now, { message });
    await tx.digests.markSent(channelId, to);
    return r;
  });
  h.signals.deliveriesQueued(channelId, 1);
  return report;
}

/**
 * The cron job's call: posts the channel's digest unless it is disabled or one was posted in the last
 * hour (a second firing, e.g. after a restart in the same minute). Returns the report, or null when skipped.
 */
export async function runScheduledDigest(h: Deps, channelId: number, now: number): Promise<DigestReport | null> {
  const s = await h.store.digests.settings(channelId);
  if (!s || !s.enabled) return null;
  if (s.lastSentAt !== null && now - s.lastSentAt < 3_600_000) return null;
  return postDigest(h, channelId, now);
}
