import { and, asc, eq, gt, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import picomatch from 'picomatch';
import { z } from 'zod';
import { alerts, mutes, routes, sources } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { ServiceError, invalid, notFound } from './errors.js';
import { type Actor, recordAction } from './lifecycle.js';
import type { MuteView } from './views.js';
export type { MuteView } from './views.js';

/** Longest mute: 30 days. */
export const MAX_MUTE_MINUTES = 43_200;

/** Exactly one target: checked by `oneTarget`, which the admin API's body schema reuses. */
export const muteFields = z.strictObject({
    service: z.string().trim().min(1).max(200).optional().describe('A glob on the alert\'s service, e.g. "payments-*" (case-insensitive)'),
    route_id: z.number().int().positive().optional().describe('Silence one route (alerts still go where other matching routes send them)'),
    dedup_key: z.string().min(1).max(255).optional().describe('Alerts with exactly this dedup key'),
    source_id: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("With dedup_key: only this source's alerts (a dedup key is its sender's own name). Without it, the dedup key is muted for every source"),
    duration_minutes: z.number().int().min(1).max(MAX_MUTE_MINUTES).describe(`How long, in minutes (1 to ${MAX_MUTE_MINUTES})`),
    reason: z.string().trim().min(1).max(500).optional(),
});

export const oneTarget: [
  (m: { service?: string | undefined; route_id?: number | undefined; dedup_key?: string | undefined }) => boolean,
  { message: string; path: PropertyKey[] },
] = [
  (m) => [m.service, m.route_id, m.dedup_key].filter((v) => v !== undefined).length === 1,
  { message: 'give exactly one of service, route_id, dedup_key', path: ['service'] },
];

export const muteInput = muteFields.refine(...oneTarget);
export type MuteInput = z.output<typeof muteInput>;

type Deps = Pick<Herald, 'db' | 'mutes'>;
type Row = typeof mutes.$inferSelect;

const view = (m: Row, now: number, mutedAlerts = 0): MuteView => ({
  id: m.id,
  service: m.service,
  title: m.title,
  route_id: m.routeId,
  dedup_key: m.dedupKey,
  source_id: m.sourceId,
  reason: m.reason,
  created_by: m.createdBy,
  created_at: m.createdAt,
  expires_at: m.expiresAt,
  ended_at: m.endedAt,
  active: m.endedAt === null && m.expiresAt > now,
  muted_alerts: mutedAlerts,
});

/** How many alerts each mute silenced. */
function mutedCounts(h: Pick<Herald, 'db'>, ids?: number[]): Map<number, number> {
  const rows = h.db
    .select({ id: alerts.mutedByMuteId, n: sql<number>`count(*)` })
    .from(alerts)
    .where(ids ? inArray(alerts.mutedByMuteId, ids) : isNotNull(alerts.mutedByMuteId))
    .groupBy(alerts.mutedByMuteId)
    .all();
  return new Map(rows.map((r) => [r.id!, r.n]));
}

/** Mutes matching alerts for `duration_minutes`: they are stored with the mute's id and delivered nowhere. */
export function createMute(h: Deps, input: MuteInput, by: Actor, now = Date.now()): MuteView {
  const parsed = muteInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(issue.path.join('.') || 'body', issue.message);
  }
  const m = parsed.data;
  if (m.service !== undefined) {
    try {
      picomatch.makeRe(m.service);
    } catch {
      throw invalid('service', `"${m.service}" is not a valid glob`);
    }
  }
  if (m.route_id !== undefined && !h.db.select({ id: routes.id }).from(routes).where(eq(routes.id, m.route_id)).get()) throw notFound('route', m.route_id);
  if (m.source_id !== undefined) {
    if (m.dedup_key === undefined) throw invalid('source_id', 'source_id narrows a dedup_key mute; give it only with dedup_key');
    if (!h.db.select({ id: sources.id }).from(sources).where(eq(sources.id, m.source_id)).get()) throw notFound('source', m.source_id);
  }
  const row = insert(
    h,
    { service: m.service ?? null, routeId: m.route_id ?? null, dedupKey: m.dedup_key ?? null, sourceId: m.source_id ?? null, reason: m.reason ?? null },
    m.duration_minutes,
    by,
    now,
  );
  return view(row, Date.now());
}

/** Mutes, newest first; `active`: only those still in force. */
export function listMutes(h: Pick<Herald, 'db'>, opts: { active?: boolean } = {}, now = Date.now()): MuteView[] {
  const counts = mutedCounts(h);
  return h.db
    .select()
    .from(mutes)
    .where(opts.active ? and(isNull(mutes.endedAt), gt(mutes.expiresAt, now)) : undefined)
    .orderBy(asc(mutes.id))
    .all()
    .reverse()
    .map((m) => view(m, now, counts.get(m.id) ?? 0));
}

export function getMute(h: Pick<Herald, 'db'>, id: number, now = Date.now()): MuteView {
  const m = h.db.select().from(mutes).where(eq(mutes.id, id)).get();
  if (!m) throw notFound('mute', id);
  return view(m, now, mutedCounts(h, [id]).get(id) ?? 0);
}

/** Unmutes: alerts arriving from now on are delivered again. 404 when no such mute is in force. */
export function deleteMute(h: Deps, id: number, by: Actor = { kind: 'admin', name: 'admin' }, now = Date.now()): void {
  h.db.transaction(() => {
    const m = h.db.select().from(mutes).where(eq(mutes.id, id)).get();
    if (!m || m.endedAt !== null || m.expiresAt <= now) throw new ServiceError(404, 'not_found', `no mute in force with id ${id}`);
    h.db.update(mutes).set({ endedAt: now }).where(eq(mutes.id, id)).run();
    if (m.alertId !== null) recordAction(h, m.alertId, 'unmute', by, null, now);
  });
  h.mutes.reload();
}

/**
 * The card's "Mute 1h" and `/mute alert:`: mutes alerts like this one for `minutes`: the same dedup key
 * from the same source (another sender's alert with that key is another problem), or (without a key, or
 * when the alert's source was deleted) the same service and title. Recorded on the alert.
 */
export function muteAlert(h: Deps, alertId: number, minutes: number, by: Actor, opts: { reason?: string; now?: number } = {}): MuteView {
  const now = opts.now ?? Date.now();
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MUTE_MINUTES) throw invalid('duration_minutes', `a mute lasts 1 to ${MAX_MUTE_MINUTES} minutes`);
  const a = h.db
    .select({ service: alerts.service, title: alerts.title, dedupKey: alerts.dedupKey, sourceId: alerts.sourceId })
    .from(alerts)
    .where(eq(alerts.id, alertId))
    .get();
  if (!a) throw notFound('alert', alertId);
  const target =
    a.dedupKey !== null && a.sourceId !== null
      ? { service: null, title: null, dedupKey: a.dedupKey, sourceId: a.sourceId }
      : { service: a.service, title: a.title, dedupKey: null, sourceId: null };
  const row = insert(h, { ...target, routeId: null, reason: opts.reason ?? `muted from alert #${alertId}`, alertId }, minutes, by, now);
  return view(row, now);
}

function insert(
  h: Deps,
  what: {
    service: string | null;
    title?: string | null;
    routeId: number | null;
    dedupKey: string | null;
    sourceId: number | null;
    reason: string | null;
    alertId?: number;
  },
  minutes: number,
  by: Actor,
  now: number,
): Row {
  const row = h.db.transaction(() => {
    const r = h.db
      .insert(mutes)
      .values({ ...what, title: what.title ?? null, alertId: what.alertId ?? null, createdBy: by.name, createdAt: now, expiresAt: now + minutes * 60_000 })
      .returning()
      .get();
    if (what.alertId !== undefined) recordAction(h, what.alertId, 'mute', by, what.reason, now);
    return r;
  });
  h.mutes.reload();
  return row;
}
