import type { Logger } from 'pino';
import { refuseIfManaged } from '../domain/managed.js';
import { z } from 'zod';
import { type AlertInput, SEVERITIES } from '../domain/alert.js';
import { formatDuration, parseDurationMs } from '../domain/duration.js';
import type { Accepted } from '../pipeline/accept.js';
import type { HeartbeatListRow, HeartbeatRow, NewHeartbeat } from '../store/heartbeats.js';
import type { Store } from '../store/index.js';
import { invalid, ServiceError } from './errors.js';
import type { BeatView, HeartbeatView } from './views.js';

/** The shortest interval a heartbeat may promise: shorter is a liveness probe, not a dead man's switch. */
export const MIN_INTERVAL_MS = 10_000;
/** The longest interval or grace: a weekly job's heartbeat fits. */
const MAX_SPAN_MS = 31 * 86_400_000;

const duration = z
  .union([z.string().trim().min(1).max(20), z.number()])
  .describe('A duration: text such as "30s", "5m", "2h", "1d", or a number of seconds');

export const heartbeatInput = z.strictObject({
  source_id: z.number().int().positive().describe('The source that beats (with its token: POST /v1/heartbeats/{name})'),
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^/\p{Cc}]+$/u, 'a name has no "/" and no control characters (it is part of the beat\'s URL)')
    .describe("Unique per source; for a job scheduler's on_success to count as the beat, the job's `name`"),
  interval: duration.describe('How often a beat is promised, at least 10 s: "30s", "5m", "1d", or seconds'),
  grace: duration.optional().describe('How late a beat may be before the miss is raised (default 0): "1m", or seconds'),
  severity: z.enum(SEVERITIES).default('P1').describe("The missed heartbeat's alert severity (default P1)"),
  service: z.string().trim().min(1).max(200).optional().describe("The alert's service (default: the heartbeat's name); routes match on it"),
  environment: z.string().min(1).max(100).optional(),
  labels: z
    .record(z.string().min(1).max(128), z.string().max(1024))
    .optional()
    .refine((l) => l === undefined || Object.keys(l).length <= 63, 'at most 63 labels')
    .describe('Labels of the alert (routes match on them); `heartbeat: <name>` is added'),
});
export type HeartbeatInput = z.input<typeof heartbeatInput>;

/** A heartbeat's settings as stored, from its validated input (the admin API's and the file's); 400 naming the field for a bad span. */
export function heartbeatSettings(h: Omit<z.output<typeof heartbeatInput>, 'source_id'>): Omit<NewHeartbeat, 'sourceId' | 'now'> {
  const intervalMs = spanMs(h.interval, 'interval');
  if (intervalMs < MIN_INTERVAL_MS) throw invalid('interval', `the interval is at least 10 s (got ${formatDuration(intervalMs)})`);
  const graceMs = h.grace === undefined ? 0 : spanMs(h.grace, 'grace');
  return {
    name: h.name,
    intervalMs,
    graceMs,
    severity: h.severity,
    service: h.service ?? h.name,
    environment: h.environment ?? null,
    labels: h.labels && Object.keys(h.labels).length ? h.labels : null,
  };
}

/** The dedup key of a heartbeat's alert: its miss and the beat that ends it are one alert. */
export const heartbeatKey = (name: string): string => `heartbeat:${name}`;

export interface HeartbeatDeps {
  store: Pick<Store, 'heartbeats' | 'sources' | 'alerts'>;
  /** The ingest path senders use (pipeline/accept.ts): a miss is raised, and its end resolved, through it. */
  acceptor: { submit(sourceId: number | null, inputs: AlertInput[]): Promise<Accepted> };
  /** The wall clock heartbeats are judged by (tests move it; default the process clock). */
  clock?: () => number;
  log: Logger;
}

/**
 * Heartbeats (dead man's switches): a source declares one (a name, an interval, a grace); each
 * `POST /v1/heartbeats/:name` is a beat; when none comes for interval + grace, Herald raises an alert
 * of its own through the same ingest path as a sender's (dedup key `heartbeat:<name>`), and the next
 * beat resolves it.
 *
 * Crash safety without one transaction around both (the Acceptor commits its own group):
 * - a miss: the alert is committed first, then the heartbeat's state (`markMissed`). A crash in between
 *   leaves the heartbeat "ok" and past due, so the runner raises it again after restart: the dedup key
 *   finds the alert still firing and folds the second raise in as a repeat (one card, edited; nothing
 *   posted twice). The other order could lose the alert.
 * - a beat after a miss: the beat is committed first (state ok, `alertId` kept), then the resolve, then
 *   `alertId` cleared. A crash in between leaves "ok with an alert": the runner finishes the resolve
 *   (`finishResolves`). The 202 is sent after all of it, so a beat answered is never lost.
 * - beats and raises of one heartbeat run one at a time (`serial`), so a beat cannot slip between a
 *   raise's commit and its `markMissed` (which also checks the due time it judged, to be sure).
 */
export class Heartbeats {
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly clock: () => number;

  constructor(private readonly deps: HeartbeatDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Declares a heartbeat: its first beat is due within interval + grace from now. */
  async declare(input: HeartbeatInput): Promise<HeartbeatView> {
    const parsed = heartbeatInput.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw invalid(issue.path.join('.') || '(body)', issue.message);
    }
    const row = await this.deps.store.heartbeats.create({ sourceId: parsed.data.source_id, ...heartbeatSettings(parsed.data), now: this.clock() });
    return heartbeatView({ ...row, sourceName: (await this.deps.store.sources.settings(row.sourceId))?.name ?? '' });
  }

  /** Heartbeats (of one source when given), by source and name. */
  async list(sourceId?: number): Promise<HeartbeatView[]> {
    return (await this.deps.store.heartbeats.list(sourceId)).map(heartbeatView);
  }

  /** Forgets a heartbeat. An alert it raised stays as it is (resolve it like any other). */
  async remove(id: number): Promise<void> {
    refuseIfManaged((await this.deps.store.heartbeats.get(id)).managedBy, `heartbeat ${id}`);
    await this.deps.store.heartbeats.delete(id);
  }

  /**
   * A beat from `sourceId` for its heartbeat `name`: committed before this returns (and so before the
   * hook's 202). After a miss, the miss's alert is resolved (through the ingest path, as its sender)
   * before this returns too. 404 when the source has no heartbeat by that name.
   */
  async beat(sourceId: number, name: string, at: number = this.clock()): Promise<BeatView> {
    const found = await this.deps.store.heartbeats.find(sourceId, name);
    if (!found) {
      throw new ServiceError(404, 'not_found', `no heartbeat named "${name.slice(0, 200)}" for this source; declare it first (POST /v1/admin/heartbeats, or /heartbeat add)`);
    }
    return this.serial(found.id, async () => {
      const row = await this.deps.store.heartbeats.beat(found.id, at);
      const resolved = row.alertId;
      if (resolved !== null) await this.finishResolve(row);
      return { name: row.name, state: 'ok', last_beat_at: row.lastBeatAt!, due_at: row.dueAt, resolved_alert_id: resolved };
    });
  }

  /** Whether the source has a heartbeat by that name (a job's on_success beats only a declared one). */
  async has(sourceId: number, name: string): Promise<boolean> {
    return (await this.deps.store.heartbeats.find(sourceId, name)) !== undefined;
  }

  /** The runner's pass: raises each heartbeat due by `now`; returns how many were raised. */
  async raiseDue(now: number = this.clock()): Promise<number> {
    let raised = 0;
    for (const due of await this.deps.store.heartbeats.due(now)) {
      const ok = await this.serial(due.id, async () => {
        // Read again under the heartbeat's turn: a beat may have come since the list was read.
        const row = await this.deps.store.heartbeats.find(due.sourceId, due.name);
        if (!row || row.state !== 'ok' || row.dueAt > now) return false;
        await this.raise(row, now);
        return true;
      });
      if (ok) raised++;
    }
    return raised;
  }

  /** The runner's pass: finishes resolves a crash interrupted (a beat committed, its resolve not). */
  async finishResolves(): Promise<number> {
    let n = 0;
    for (const pending of await this.deps.store.heartbeats.unfinishedResolves()) {
      await this.serial(pending.id, async () => {
        const row = await this.deps.store.heartbeats.find(pending.sourceId, pending.name);
        if (row && row.state === 'ok' && row.alertId !== null) {
          await this.finishResolve(row);
          n++;
        }
      });
    }
    return n;
  }

  /** The earliest time a heartbeat falls due (null: none waits for a beat). */
  nextDueAt(): Promise<number | null> {
    return this.deps.store.heartbeats.nextDueAt();
  }

  private async raise(row: HeartbeatRow, now: number): Promise<void> {
    const since = row.lastBeatAt ?? row.createdAt;
    const accepted = await this.deps.acceptor.submit(row.sourceId, [missedAlert(row, now - since, since)]);
    const alertId = accepted.ids[0]!;
    // Only now that the alert is committed (see the class comment).
    if (!(await this.deps.store.heartbeats.markMissed(row.id, row.dueAt, alertId, now))) {
      this.deps.log.warn({ heartbeat: row.name, alertId }, 'heartbeat changed while its miss was raised; the runner looks again');
      return;
    }
    this.deps.log.info({ heartbeat: row.name, sourceId: row.sourceId, alertId }, 'heartbeat missed: alert raised');
  }

  private async finishResolve(row: HeartbeatRow): Promise<void> {
    const key = heartbeatKey(row.name);
    // Only an alert still open is resolved: a resolve with nothing open would be stored as a resolved alert of its own.
    if ((await this.deps.store.alerts.openWithKey(row.sourceId, key)) !== undefined) {
      await this.deps.acceptor.submit(row.sourceId, [
        { service: row.service, severity: row.severity, title: `heartbeat from ${row.name} is back`, status: 'resolved', dedup_key: key },
      ]);
    }
    await this.deps.store.heartbeats.resolved(row.id, row.alertId!);
  }

  /** Runs `fn` after every earlier call for the same heartbeat has finished. */
  private serial<T>(id: number, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }
}

/** The alert a miss raises: "no heartbeat from nightly-backup for 7 min". */
function missedAlert(row: HeartbeatRow, silentMs: number, since: number): AlertInput {
  return {
    service: row.service,
    severity: row.severity,
    title: `no heartbeat from ${row.name} for ${formatDuration(silentMs)}`,
    description:
      row.lastBeatAt === null
        ? `No beat since the heartbeat was declared; one was promised every ${formatDuration(row.intervalMs)} (grace ${formatDuration(row.graceMs)}).`
        : `The last beat came ${formatDuration(silentMs)} ago; one was promised every ${formatDuration(row.intervalMs)} (grace ${formatDuration(row.graceMs)}). The next beat resolves this alert.`,
    status: 'firing',
    dedup_key: heartbeatKey(row.name),
    ...(row.environment ? { environment: row.environment } : {}),
    labels: { ...(row.labels ?? {}), heartbeat: row.name },
    fields: [
      { name: 'Last beat', value: row.lastBeatAt === null ? 'never' : new Date(since).toISOString() },
      { name: 'Expected every', value: formatDuration(row.intervalMs) },
      { name: 'Grace', value: formatDuration(row.graceMs) },
    ],
  };
}

/** A duration field (text, or seconds) → ms, within 0 … 31 days; 400 naming the field otherwise. */
function spanMs(raw: string | number, field: string): number {
  const ms = typeof raw === 'number' ? (Number.isFinite(raw) ? raw * 1000 : NaN) : parseDurationMs(raw, 's');
  if (typeof raw === 'number' && raw < 0) throw invalid(field, `${field} must be 0 or more`);
  if (ms === undefined || Number.isNaN(ms)) throw invalid(field, `"${String(raw).slice(0, 20)}" is not a duration; write e.g. "30s", "5m", "2h" or a number of seconds`);
  if (ms > MAX_SPAN_MS) throw invalid(field, `${field} is at most 31 days`);
  return Math.round(ms);
}

export function heartbeatView(r: HeartbeatListRow): HeartbeatView {
  return {
    id: r.id,
    source_id: r.sourceId,
    source_name: r.sourceName,
    name: r.name,
    interval_ms: r.intervalMs,
    grace_ms: r.graceMs,
    severity: r.severity,
    service: r.service,
    environment: r.environment,
    labels: r.labels,
    state: r.state,
    last_beat_at: r.lastBeatAt,
    due_at: r.dueAt,
    alert_id: r.alertId,
    missed_at: r.missedAt,
    created_at: r.createdAt,
  };
}
