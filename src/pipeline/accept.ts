import { and, eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/open.js';
import { alerts, idempotencyKeys } from '../db/schema.js';
import { type AlertInput, severityRank } from '../domain/alert.js';
import type { Outbox } from '../delivery/outbox.js';
import type { Metrics } from '../metrics.js';
import type { PlannedAlert, Stage } from './types.js';

export interface Accepted {
  ids: number[];
  /** True when an earlier request with the same Idempotency-Key gave these ids. */
  replayed: boolean;
}

interface Submission {
  sourceId: number | null;
  inputs: AlertInput[];
  idempotencyKey: string | undefined;
  receivedAt: number;
  resolve: (a: Accepted) => void;
  reject: (e: unknown) => void;
}

/** Flush at once past this many queued alerts, so one transaction stays short. */
const MAX_BATCH_ALERTS = 5000;

const p = sql.placeholder;

/**
 * Group commit: submissions that arrive in the same event-loop turn share one SQLite transaction.
 * A promise resolves only after that transaction committed, so "accepted" always means "on disk"
 * (invariant 1) while one fsync serves many requests.
 */
export class Acceptor {
  private queue: Submission[] = [];
  private queuedAlerts = 0;
  private flushScheduled = false;
  private readonly insertAlert;
  private readonly findKey;
  private readonly saveKey;
  /** Called inside the ingest transaction for each alert row inserted (outbound targets enqueue there). */
  afterInsert: ((alertId: number, planned: PlannedAlert) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly pipeline: Stage,
    private readonly outbox: Outbox,
    private readonly onCommitted: (channelCounts: Map<number, number>) => void,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Arms escalation chains on new alerts, in this same transaction (src/escalation). */
    private readonly escalation?: { arm(alertId: number, routeIds: readonly number[], channelIds: readonly number[], now: number): void },
  ) {
    this.insertAlert = db
      .insert(alerts)
      .values({
        sourceId: p('sourceId'),
        service: p('service'),
        severity: p('severity'),
        title: p('title'),
        description: p('description'),
        status: p('status'),
        dedupKey: p('dedupKey'),
        environment: p('environment'),
        labels: p('labels'),
        fields: p('fields'),
        links: p('links'),
        unrouted: p('unrouted'),
        receivedAt: p('receivedAt'),
        mutedByMuteId: p('mutedBy'),
      })
      .returning({ id: alerts.id })
      .prepare();
    this.findKey = db
      .select({ response: idempotencyKeys.response })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.sourceId, p('sourceId')), eq(idempotencyKeys.key, p('key'))))
      .prepare();
    this.saveKey = db
      .insert(idempotencyKeys)
      .values({ sourceId: p('sourceId'), key: p('key'), response: p('response'), createdAt: p('createdAt') })
      .prepare();
  }

  submit(sourceId: number | null, inputs: AlertInput[], idempotencyKey?: string): Promise<Accepted> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sourceId, inputs, idempotencyKey, receivedAt: Date.now(), resolve, reject });
      this.queuedAlerts += inputs.length;
      if (this.queuedAlerts >= MAX_BATCH_ALERTS) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued. Also called at shutdown, after the server stopped taking requests. */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedAlerts = 0;
    const channelCounts = new Map<number, number>();
    let results: Accepted[];
    try {
      results = this.db.transaction(() => batch.map((s) => this.apply(s, channelCounts)));
    } catch (err) {
      // One bad submission must not fail its neighbours: retry each in a transaction of its own.
      if (batch.length > 1) {
        this.log.warn({ err }, 'group commit failed; committing the batch one request at a time');
        for (const s of batch) this.commitOne(s);
      } else {
        this.log.error({ err }, 'could not store alerts');
        batch[0]!.reject(err);
      }
      return;
    }
    batch.forEach((s, i) => s.resolve(results[i]!));
    this.afterCommit(batch, results, channelCounts);
  }

  private commitOne(s: Submission): void {
    const counts = new Map<number, number>();
    try {
      const result = this.db.transaction(() => this.apply(s, counts));
      s.resolve(result);
      this.afterCommit([s], [result], counts);
    } catch (err) {
      this.log.error({ err }, 'could not store alerts');
      s.reject(err);
    }
  }

  private afterCommit(batch: Submission[], results: Accepted[], channelCounts: Map<number, number>): void {
    batch.forEach((s, i) => {
      if (results[i]!.replayed) return;
      for (const a of s.inputs) this.metrics.accepted.inc({ severity: a.severity });
    });
    this.onCommitted(channelCounts);
  }

  /** Inside the transaction: idempotency, the pipeline's stages, then the alert rows and their outbox rows. */
  private apply(s: Submission, channelCounts: Map<number, number>): Accepted {
    if (s.idempotencyKey !== undefined && s.sourceId !== null) {
      const prior = this.findKey.get({ sourceId: s.sourceId, key: s.idempotencyKey });
      if (prior) return { ids: (JSON.parse(prior.response) as { ids: number[] }).ids, replayed: true };
    }
    const incoming: PlannedAlert[] = s.inputs.map((input) => ({ input, sourceId: s.sourceId, receivedAt: s.receivedAt, channels: [], routeIds: [], unrouted: false, mutedBy: null }));
    const planned = this.pipeline(incoming);
    const ids: number[] = [];
    for (const a of planned) {
      const i = a.input;
      const row = this.insertAlert.get({
        sourceId: a.sourceId,
        service: i.service,
        severity: i.severity,
        title: i.title,
        description: i.description ?? null,
        status: i.status,
        dedupKey: i.dedup_key ?? null,
        environment: i.environment ?? null,
        labels: i.labels ?? null,
        fields: i.fields ?? null,
        links: i.links ?? null,
        unrouted: a.unrouted,
        receivedAt: a.receivedAt,
        mutedBy: a.mutedBy,
      })!;
      ids.push(row.id);
      this.afterInsert?.(row.id, a);
      if (a.unrouted) this.metrics.unrouted.inc();
      if (a.mutedBy === null && i.status === 'firing') this.escalation?.arm(row.id, a.routeIds, a.channels, a.receivedAt);
      for (const channelId of a.channels) {
        this.outbox.enqueue(row.id, channelId, severityRank(i.severity), a.receivedAt);
        channelCounts.set(channelId, (channelCounts.get(channelId) ?? 0) + 1);
      }
    }
    if (s.idempotencyKey !== undefined && s.sourceId !== null) {
      this.saveKey.run({ sourceId: s.sourceId, key: s.idempotencyKey, response: JSON.stringify({ ids }), createdAt: s.receivedAt });
    }
    return { ids, replayed: false };
  }
}
