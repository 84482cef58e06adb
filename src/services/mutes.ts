import picomatch from 'picomatch';
import { refuseIfManaged } from '../domain/managed.js';
import { z } from 'zod';
import type { Store } from '../store/index.js';
import type { CommitSignals } from '../delivery/signals.js';
import { scheduleOf, type MuteRow, type NewMute } from '../store/mutes.js';
import { windowInForce } from '../domain/maintenance.js';
import { invalid, notFound } from './errors.js';
import type { Actor } from './lifecycle.js';
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

/** The mutes store refreshes the ingest path's mute table itself after each write. */
type Deps = { store: Pick<Store, 'mutes' | 'routes' | 'alerts' | 'sources'> };
type ReadDeps = { store: Pick<Store, 'mutes'> };
/**
 * A mute made from an alert, or ended, changes that alert's cards (the Mute button goes while it is in
 * force, and comes back when it is ended): their edits are queued and the channels' lanes woken.
 */
type AlertMuteDeps = { store: Pick<Store, 'mutes' | 'alerts' | 'messageOps' | 'incidents'>; signals: Pick<CommitSignals, 'editsQueued'> };
type Row = MuteRow;

const view = (m: Row, now: number, mutedAlerts = 0): MuteView => {
  const schedule = scheduleOf(m);
  return {
    ...base(m, now, mutedAlerts),
    active: m.endedAt === null && m.expiresAt > now && (schedule === undefined || windowInForce(schedule)(now)),
    ...(m.configName !== null ? { name: m.configName } : {}),
    ...(schedule?.kind === 'once' ? { starts_at: schedule.startsAt } : {}),
    ...(schedule?.kind === 'recurring' ? { recurrence: { cron: schedule.cron, duration_ms: schedule.durationMs, timezone: schedule.timezone } } : {}),
    ...(m.managedBy ? { managed_by: m.managedBy } : {}),
  };
};

const base = (m: Row, now: number, mutedAlerts: number): MuteView => ({
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
  ...(m.incidentKey !== null ? { incident_key: m.incidentKey } : {}),
});

/**
 * An incident card's "Mute 1h": the group's later members (the incident's key, of its source only) are
 * stored muted, delivered nowhere, for `minutes`; unless a mute of that group is already in force (then it,
 * `created` false, nothing written). Members already posted stay on the card. The incident's cards say until
 * when it is muted and lose their Mute button: each is edited now (but `skipMessageId`, the pressed card, which
 * the press's answer updates) and again when the mute runs out (a `mute-end` edit, a row available then, so a
 * restart keeps it), when the card shows the button again.
 */
export async function muteIncidentOnce(
  h: { store: Pick<Store, 'mutes' | 'incidents' | 'messageOps' | 'alerts' | 'transaction'>; signals: Pick<CommitSignals, 'editsQueued'> },
  incidentId: number,
  minutes: number,
  by: Actor,
  opts: { skipMessageId?: string } = {},
  now = Date.now(),
): Promise<{ mute: MuteView; created: boolean }> {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MUTE_MINUTES) throw invalid('duration_minutes', `a mute lasts 1 to ${MAX_MUTE_MINUTES} minutes`);
  const incident = await h.store.incidents.row(incidentId);
  const existing = (await h.store.mutes.list(now)).find((m) => m.incidentKey === incident.key && m.sourceId === incident.sourceId);
  if (existing) return { mute: await getMute(h, existing.id, now), created: false };
  const { row, channels } = await h.store.transaction(async (tx) => {
    const row = await insert({ store: tx }, { service: null, routeId: null, dedupKey: null, incidentKey: incident.key, sourceId: incident.sourceId, reason: `muted from incident #${incidentId}` }, minutes, by, now);
    await tx.alerts.touchIncident(incidentId, now);
    const channels = await tx.messageOps.enqueueForIncident(incidentId, now, opts.skipMessageId !== undefined ? { skipMessageId: opts.skipMessageId } : {});
    for (const c of await tx.messageOps.enqueueForIncident(incidentId, now, { at: row.expiresAt + 1 })) channels.add(c);
    return { row, channels };
  });
  for (const c of channels) h.signals.editsQueued(c);
  return { mute: view(row, now), created: true };
}

/** Mutes matching alerts for `duration_minutes`: they are stored with the mute's id and delivered nowhere. */
export async function createMute(h: Deps, input: MuteInput, by: Actor, now = Date.now()): Promise<MuteView> {
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
  if (m.route_id !== undefined && !(await h.store.routes.exists(m.route_id))) throw notFound('route', m.route_id);
  if (m.source_id !== undefined) {
    if (m.dedup_key === undefined) throw invalid('source_id', 'source_id narrows a dedup_key mute; give it only with dedup_key');
    if (!(await h.store.sources.exists(m.source_id))) throw notFound('source', m.source_id);
  }
  const row = await insert(
    h,
    { service: m.service ?? null, routeId: m.route_id ?? null, dedupKey: m.dedup_key ?? null, sourceId: m.source_id ?? null, reason: m.reason ?? null },
    m.duration_minutes,
    by,
    now,
  );
  return view(row, Date.now());
}

/** Mutes, newest first; `active`: only those still in force. */
export async function listMutes(h: ReadDeps, opts: { active?: boolean } = {}, now = Date.now()): Promise<MuteView[]> {
  const counts = await h.store.mutes.mutedCounts();
  return (await h.store.mutes.list(opts.active ? now : undefined))
    .reverse()
    .map((m) => view(m, now, counts.get(m.id) ?? 0))
    // A maintenance window between two openings is not in force.
    .filter((v) => !opts.active || v.active);
}

export async function getMute(h: ReadDeps, id: number, now = Date.now()): Promise<MuteView> {
  const row = await h.store.mutes.get(id);
  return view(row, now, (await h.store.mutes.mutedCounts([id])).get(id) ?? 0);
}

/**
 * Unmutes: alerts arriving from now on are delivered again. A mute made from an alert's card: the
 * alert's cards are edited (their Mute button comes back). 404 when no such mute is in force.
 */
export async function deleteMute(h: AlertMuteDeps, id: number, by: Actor = { kind: 'admin', name: 'admin' }, now = Date.now()): Promise<void> {
  const row = (await h.store.mutes.list()).find((m) => m.id === id);
  refuseIfManaged(row?.managedBy, `maintenance window ${row?.configName ?? id}`);
  const ended = await h.store.mutes.end(id, by, now);
  if (ended.alertId !== null) await syncCards(h, ended.alertId, now);
  // A group's mute (an incident card's Mute 1h): its incidents' cards show the Mute button again.
  if (ended.incidentKey !== null) {
    for (const incidentId of await h.store.incidents.idsOfKey(ended.sourceId, ended.incidentKey)) {
      await h.store.alerts.touchIncident(incidentId, now);
      for (const c of await h.store.messageOps.enqueueForIncident(incidentId, now)) h.signals.editsQueued(c);
    }
  }
}

/** Queues an edit of every message of the alert (its card shows whether it is muted) and wakes their lanes. */
async function syncCards(h: AlertMuteDeps, alertId: number, now: number, skipMessageId?: string): Promise<void> {
  const { channels } = await h.store.messageOps.enqueueForAlert(alertId, 'sync', now, skipMessageId);
  for (const channelId of channels) h.signals.editsQueued(channelId);
}

/**
 * The mute in force that already silences alerts like this one (a service glob, its dedup key, its
 * service and title), if any. Route mutes do not count: they silence one route, and the alert still
 * goes where its other routes send it.
 */
export async function muteCovering(h: ReadDeps & { store: Pick<Store, 'alerts'> }, alertId: number, now = Date.now()): Promise<MuteView | undefined> {
  const a = await h.store.alerts.row(alertId);
  const like = { sourceId: a.sourceId, input: { service: a.service, title: a.title, ...(a.dedupKey !== null ? { dedup_key: a.dedupKey } : {}) } };
  const m = h.store.mutes.active(now).find((c) => c.routeId === null && c.matches !== null && c.matches(like));
  return m ? getMute(h, m.id, now) : undefined;
}

/**
 * The card's "Mute 1h" and `/mute alert:`: mutes alerts like this one for `minutes`: the same dedup key
 * from the same source (another sender's alert with that key is another problem), or (without a key, or
 * when the alert's source was deleted) the same service and title. Recorded on the alert.
 */
export async function muteAlert(h: Deps & AlertMuteDeps, alertId: number, minutes: number, by: Actor, opts: { reason?: string; now?: number; skipMessageId?: string } = {}): Promise<MuteView> {
  return (await muteAlertOnce(h, alertId, minutes, by, opts)).mute;
}

/**
 * `muteAlert`, unless a mute in force already covers the alert (`muteCovering`): then that mute, with
 * `created` false and nothing written (a second press of Mute 1h from a stale card makes no second
 * mute). A new mute queues an edit of the alert's other messages (`skipMessageId`: the pressed one,
 * updated by the press's own answer), so the Mute button goes from every card of it.
 */
export async function muteAlertOnce(
  h: Deps & AlertMuteDeps,
  alertId: number,
  minutes: number,
  by: Actor,
  opts: { reason?: string; now?: number; skipMessageId?: string } = {},
): Promise<{ mute: MuteView; created: boolean }> {
  const now = opts.now ?? Date.now();
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MUTE_MINUTES) throw invalid('duration_minutes', `a mute lasts 1 to ${MAX_MUTE_MINUTES} minutes`);
  const existing = await muteCovering(h, alertId, now);
  if (existing) return { mute: existing, created: false };
  const mute = await createAlertMute(h, alertId, minutes, by, opts.reason, now);
  await syncCards(h, alertId, now, opts.skipMessageId);
  return { mute, created: true };
}

async function createAlertMute(h: Deps, alertId: number, minutes: number, by: Actor, reason: string | undefined, now: number): Promise<MuteView> {
  const a = await h.store.alerts.row(alertId);
  const target =
    a.dedupKey !== null && a.sourceId !== null
      ? { service: null, title: null, dedupKey: a.dedupKey, sourceId: a.sourceId }
      : { service: a.service, title: a.title, dedupKey: null, sourceId: null };
  const row = await insert(h, { ...target, routeId: null, reason: reason ?? `muted from alert #${alertId}`, alertId }, minutes, by, now);
  return view(row, now);
}

function insert(h: ReadDeps, what: NewMute, minutes: number, by: Actor, now: number): Promise<Row> {
  return h.store.mutes.create(what, minutes, by, now);
}
