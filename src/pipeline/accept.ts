import type { Logger } from 'pino';
import { DatabaseUnavailableError, isDbUnavailable } from '../store/sqlite/health.js';
import type { Store } from '../store/index.js';
import { type AlertInput, severityRank } from '../domain/alert.js';
import { DEFAULT_GROUP_WAIT_MS } from '../domain/incidents.js';
import { RAISED_PAGE } from '../discord/mention.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { Metrics } from '../metrics.js';
import type { OutboundTargets } from '../outbound/targets.js';
import { ServiceError } from '../services/errors.js';
import { type Actor, acknowledgeFromSender, foldRepeat, resolveFromSender } from '../services/lifecycle.js';
import { QueuedPosts } from './queued-posts.js';
import type { Pipeline, PlannedAlert } from './types.js';

export interface Accepted {
  ids: number[];
  /** True when an earlier request with the same Idempotency-Key, or the same signed message, gave these ids. */
  replayed: boolean;
  /** True when the Idempotency-Key came before with another request: nothing was stored, `ids` is empty. */
  keyReused?: boolean;
  /** Alerts the request's acknowledges (PagerDuty `acknowledge`) acknowledged, in the same commit. */
  acknowledged?: number[];
  /** Acknowledges with nothing to do, and why. */
  ignored?: string[];
}

/** What makes a request the same as an earlier one, recorded in the transaction that stores its alerts. */
export interface RequestKeys {
  /** The sender's Idempotency-Key, and a fingerprint (hash) of the request it came with. */
  idempotency?: { key: string; fingerprint: string };
  /** A signed request's Standard Webhooks `webhook-id`, and until when (epoch ms) its answer is kept for retries. */
  webhookId?: { id: string; keepUntil: number };
}

interface Submission {
  sourceId: number | null;
  inputs: AlertInput[];
  /** Dedup keys of this source's open alerts to acknowledge. */
  acknowledge: readonly string[];
  keys: RequestKeys;
  receivedAt: number;
  resolve: (a: Accepted) => void;
  reject: (e: unknown) => void;
}

/**
 * What the acceptor uses of the store: its transactions (whose `tx` every write of a batch goes through: alerts,
 * incidents, their deliveries and edits, idempotency, names of sources, outbound messages, escalations) and `durable`.
 */
export type IngestStore = Pick<Store, 'transaction' | 'durable'>;

/** Escalation chains armed on new alerts, in the ingest transaction (`tx`: its store; src/escalation). */
export interface IngestEscalation {
  arm(tx: Store, alertId: number, routeIds: readonly number[], channelIds: readonly number[], now: number, incidentId?: number): Promise<void> | void;
}

/** The incident a new alert joined in this transaction (store/incidents.ts), and whether it was created by it. */
interface Joined {
  id: number;
  createdAt: number;
  created: boolean;
}

/** The answer kept with an Idempotency-Key or a webhook-id, given again to the request's retries. */
interface Stored {
  ids: number[];
  acknowledged?: number[];
}

/** Flush at once past this many queued alerts, so one transaction stays short. */
const MAX_BATCH_ALERTS = 5000;

const FLUSHED: Promise<void> = Promise.resolve();

/**
 * Group commit: submissions that arrive in the same event-loop turn share one SQLite transaction.
 * A promise resolves only after that transaction committed, so "accepted" always means "on disk"
 * (docs/delivery.md, guarantee 1) while one fsync serves many requests.
 */
export class Acceptor {
  private queue: Submission[] = [];
  private queuedAlerts = 0;
  private flushScheduled = false;
  /** The flush in flight (one at a time: batches commit in the order they were queued), until the queue is empty. */
  private flushing: Promise<void> | undefined;
  constructor(
    private readonly store: IngestStore,
    private readonly pipeline: Pipeline,
    /** Told after each commit: new deliveries per channel, channels whose sent messages got edits queued, escalations armed. */
    private readonly signals: Pick<CommitSignals, 'deliveriesQueued' | 'editsQueued' | 'escalationsArmed'>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Arms escalation chains on new alerts, in this same transaction (src/escalation). */
    private readonly escalation?: IngestEscalation,
    /**
     * Outbound targets beyond Discord, queued in this same transaction: the firing message (`afterInsert`)
     * and a sender's resolve's follow-up (services/lifecycle.ts queues it).
     */
    private readonly followUps?: Pick<OutboundTargets, 'enqueue' | 'enqueueFollowUp'>,
  ) {}

  /**
   * Inside the ingest transaction, for each alert event beyond Discord: a new alert stored, an alert
   * reopened or raised; not muted ones. Not for repeats folded into a firing alert (nothing new to tell),
   * nor for a resolved with nothing to resolve, nor for a sender's resolve: that one's follow-up is
   * queued by the lifecycle change itself (`followUps`), once, and only if it resolved.
   */
  private afterInsert(tx: Store, alertId: number, a: PlannedAlert): Promise<number> | undefined {
    return a.mutedBy === null ? this.followUps?.enqueue(tx, alertId, a.routeIds, 'alert.firing', a.receivedAt) : undefined;
  }

  /**
   * Stores `inputs` and applies `acknowledge` (dedup keys of the source's open alerts) in one commit:
   * the answer is about all of it, so a 503 (the database cannot write) means nothing of it was stored.
   */
  submit(sourceId: number | null, inputs: AlertInput[], keys: RequestKeys = {}, acknowledge: readonly string[] = []): Promise<Accepted> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sourceId, inputs, acknowledge, keys, receivedAt: Date.now(), resolve, reject });
      this.queuedAlerts += inputs.length;
      if (this.queuedAlerts >= MAX_BATCH_ALERTS) void this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Commits everything queued; resolves once it is committed (never rejects: each submission hears of its own
   * failure). Also called, and awaited, at shutdown, after the server stopped taking requests. One flush runs at a
   * time: called while one is in flight (a turn's timer, the early flush of a large batch), it returns that one,
   * which goes on with what was queued meanwhile once its transaction is done, so batches commit in order.
   */
  flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return FLUSHED;
    this.flushing = this.drain();
    return this.flushing;
  }

  /** Commits batch after batch until nothing is queued (`commitBatch` yields at least once: `flushing` is set first). */
  private async drain(): Promise<void> {
    try {
      do {
        try {
          await this.commitBatch();
        } catch (err) {
          // commitBatch answers every submission itself; this is only a bug's last net (nothing may crash the process).
          this.log.error({ err }, 'could not store alerts');
        }
      } while (this.queue.length > 0);
    } finally {
      this.flushing = undefined;
    }
  }

  /** One group commit: everything queued now, in one transaction, one submission after another. */
  private async commitBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.queuedAlerts = 0;
    const posts = new QueuedPosts();
    const opsChannels = new Set<number>();
    let results: Accepted[];
    try {
      results = await this.store.transaction(async (tx) => {
        const out: Accepted[] = [];
        // In order: a repeat later in the batch finds the alert stored earlier in it.
        for (const s of batch) out.push(await this.apply(tx, s, posts, opsChannels));
        return out;
      });
    } catch (err) {
      if (isDbUnavailable(err)) {
        // Busy (another process holds the write lock) or unwritable: nothing was committed, and trying
        // each request alone would only wait on the lock once per request. Every one of them gets a 503.
        const unavailable = new DatabaseUnavailableError(err);
        for (const s of batch) s.reject(unavailable);
        return;
      }
      // One bad submission must not fail its neighbours: retry each in a transaction of its own.
      if (batch.length > 1) {
        this.log.warn({ err }, 'group commit failed; committing the batch one request at a time');
        for (const s of batch) await this.commitOne(s);
      } else {
        this.log.error({ err }, 'could not store alerts');
        batch[0]!.reject(err);
      }
      return;
    }
    this.whenDurable(batch, results, posts, opsChannels);
  }

  /**
   * The answers, and delivery, wait for the commit to reach stable storage (HERALD_DB_SYNC=full: one fsync
   * in the thread pool serves the batch while the event loop goes on parsing and committing the next one), so
   * Discord never shows an alert that a power loss could take back. Should the fsync fail, the senders get a
   * 503 (their retry is a repeat) and delivery goes on with what was committed.
   */
  private whenDurable(batch: Submission[], results: Accepted[], posts: QueuedPosts, opsChannels: Set<number>): void {
    this.store.durable().then(
      () => {
        batch.forEach((s, i) => s.resolve(results[i]!));
        this.afterCommit(batch, results, posts, opsChannels);
      },
      (err: unknown) => {
        this.log.error({ err }, 'could not fsync committed alerts; answering 503 (the sender retries, and a retry is a repeat)');
        const unavailable = new DatabaseUnavailableError(err);
        for (const s of batch) s.reject(unavailable);
        this.afterCommit(batch, results, posts, opsChannels);
      },
    );
  }

  private async commitOne(s: Submission): Promise<void> {
    const posts = new QueuedPosts();
    const opsChannels = new Set<number>();
    try {
      const result = await this.store.transaction((tx) => this.apply(tx, s, posts, opsChannels));
      this.whenDurable([s], [result], posts, opsChannels);
    } catch (err) {
      if (isDbUnavailable(err)) return s.reject(new DatabaseUnavailableError(err));
      this.log.error({ err }, 'could not store alerts');
      s.reject(err);
    }
  }

  private afterCommit(batch: Submission[], results: Accepted[], posts: QueuedPosts, opsChannels: Set<number>): void {
    batch.forEach((s, i) => {
      if (results[i]!.replayed || results[i]!.keyReused) return;
      for (const a of s.inputs) this.metrics.accepted.inc({ severity: a.severity });
    });
    posts.signal(this.signals);
    this.signals.escalationsArmed();
    for (const channelId of opsChannels) this.signals.editsQueued(channelId);
  }

  /**
   * Inside the transaction: idempotency, then each alert through the pipeline's stages and the plan
   * carried out. One alert at a time, so a repeat later in the same request finds the alert stored
   * earlier. The answer has one id per alert sent: the new alert's, or the one it was folded into.
   * Requests are applied one after another, so of two copies of one request in flight at once, the
   * second finds what the first recorded (even in the same group commit) and is answered the same.
   * Every read and write goes through the transaction's store, `tx`.
   */
  private async apply(tx: Store, s: Submission, posts: QueuedPosts, opsChannels: Set<number>): Promise<Accepted> {
    const { webhookId, idempotency } = s.sourceId === null ? {} : s.keys;
    if (webhookId) {
      const prior = await tx.idempotency.webhookIdAnswer(s.sourceId, webhookId.id);
      if (prior) return { ...(JSON.parse(prior) as Stored), replayed: true };
    }
    if (idempotency) {
      const prior = await tx.idempotency.key(s.sourceId, idempotency.key);
      if (prior && prior.bodyHash !== null && prior.bodyHash !== idempotency.fingerprint) return { ids: [], replayed: false, keyReused: true };
      if (prior) return { ...(JSON.parse(prior.response) as Stored), replayed: true };
    }
    const ids: number[] = [];
    // The sender as an actor (its source's name), read once per request and only when a change needs it.
    let sender: Actor | undefined;
    for (const input of s.inputs) {
      const incoming: PlannedAlert = { input, sourceId: s.sourceId, receivedAt: s.receivedAt, channels: [], routeIds: [], unrouted: false, mutedBy: null };
      for (const a of await this.pipeline([incoming], tx)) {
        const g = a.grouping ?? { kind: 'new' };
        switch (g.kind) {
          case 'new': {
            const joining = this.joinIncident(tx, a);
            const joined = joining && (await joining);
            const id = await this.storeNew(tx, a, posts, null, joined);
            const told = this.afterInsert(tx, id, a);
            if (told) await told;
            // Escalate only what is posted now: a P2/P3 held for business hours (or the digest) must not page at night.
            const postedNow = a.channels.some((c) => a.held?.get(c) === undefined);
            // Per incident, not per member: each chain once per incident (armed on the first member whose routes name
            // it; the runner reads the incident's state), so a later P0 member of a route with a chain still pages.
            if (a.mutedBy === null && a.input.status === 'firing' && postedNow && this.escalation) {
              const armed = this.escalation.arm(tx, id, a.routeIds, a.channels, a.receivedAt, joined?.id);
              if (armed) await armed;
            }
            ids.push(id);
            break;
          }
          case 'orphan':
            ids.push(await this.storeNew(tx, a, posts, (sender ??= await this.senderOf(tx, s.sourceId))));
            break;
          case 'repeat': {
            // Read before the fold raises it: does this member's rise make the incident a page it was not?
            const pages = g.incidentId !== undefined && (await this.raisesIncident(tx, g.incidentId, a));
            sender ??= await this.senderOf(tx, s.sourceId);
            for (const c of await foldRepeat({ store: tx }, g.alertId, a.input, { at: a.receivedAt, reopen: g.reopen, by: sender })) opsChannels.add(c);
            // A higher severity is news: the alert is posted again (a new message of the same alert). A member of an
            // incident joins its card again instead (an edit), so where the rise makes a page it is also posted as one.
            if (g.raised) await this.enqueueDeliveries(tx, g.alertId, a, posts);
            if (pages) await this.enqueuePage(tx, g.alertId, a, posts);
            if (g.reopen || g.raised) await this.afterInsert(tx, g.alertId, a);
            ids.push(g.alertId);
            break;
          }
          case 'resolve':
            sender ??= await this.senderOf(tx, s.sourceId);
            for (const id of g.alertIds) {
              for (const c of await resolveFromSender({ store: tx, outboundTargets: this.followUps }, id, sender, a.receivedAt)) opsChannels.add(c);
            }
            ids.push(g.alertIds[0]!);
            break;
          case 'resolved-again':
            ids.push(g.alertId);
            break;
        }
      }
    }
    const acknowledged: number[] = [];
    const ignored: string[] = [];
    for (const key of s.acknowledge) {
      const open = await tx.alerts.openWithKey(s.sourceId, key);
      if (open === undefined) {
        ignored.push(`no open alert with dedup key "${key}" to acknowledge`);
        continue;
      }
      try {
        sender ??= await this.senderOf(tx, s.sourceId);
        for (const c of await acknowledgeFromSender({ store: tx }, open, sender, s.receivedAt)) opsChannels.add(c);
        acknowledged.push(open);
      } catch (err) {
        // Refused before anything was written (a retracted or resolved alert): said in the answer.
        if (!(err instanceof ServiceError)) throw err;
        ignored.push(err.message);
      }
    }
    const stored: Stored = { ids, ...(acknowledged.length ? { acknowledged } : {}) };
    const response = JSON.stringify(stored);
    if (idempotency) await tx.idempotency.saveKeyAnswer(s.sourceId, idempotency.key, idempotency.fingerprint, response, s.receivedAt);
    if (webhookId) await tx.idempotency.saveWebhookIdAnswer(s.sourceId, webhookId.id, webhookId.keepUntil, response);
    return { ...stored, ...(ignored.length ? { ignored } : {}), replayed: false };
  }

  /** The sender as the actor of its changes (a resolve, a reopen, an acknowledge): its source's name. */
  private async senderOf(tx: Store, sourceId: number | null): Promise<Actor> {
    return { kind: 'system', name: (sourceId === null ? undefined : (await tx.sources.settings(sourceId))?.name) ?? 'sender' };
  }

  /**
   * Stores a new alert and queues its deliveries (held ones: available when the route's hours open,
   * or kept as 'digest' rows that are never sent). `resolvedBy`: a sender's resolved with nothing to
   * resolve, stored resolved, with 0 occurrences and no delivery.
   */
  private async storeNew(tx: Store, a: PlannedAlert, posts: QueuedPosts, resolvedBy: Actor | null, joined?: Joined): Promise<number> {
    const id = await tx.alerts.insert({
      sourceId: a.sourceId,
      input: a.input,
      status: resolvedBy ? 'resolved' : a.input.status,
      unrouted: a.unrouted,
      receivedAt: a.receivedAt,
      mutedBy: a.mutedBy,
      occurrences: resolvedBy ? 0 : 1,
      resolvedAt: resolvedBy ? a.receivedAt : null,
      resolvedBy: resolvedBy?.name ?? null,
      incidentId: joined?.id ?? null,
    });
    if (resolvedBy) return id;
    if (a.unrouted) this.metrics.unrouted.inc();
    await this.enqueueDeliveries(tx, id, a, posts, joined);
    return id;
  }

  /**
   * A new firing alert of a group (an incident stage's `incident`, not muted): the open incident of its
   * source with that key, or a new one. Ungrouped alerts (no `incident`) cost nothing here: no statement.
   */
  private joinIncident(tx: Store, a: PlannedAlert): Promise<Joined> | undefined {
    if (a.incident === undefined || a.mutedBy !== null || a.input.status !== 'firing' || a.channels.length === 0) return undefined;
    return tx.incidents.join(a.sourceId, a.incident.key, a.incident.title, a.receivedAt);
  }

  /**
   * A member's repeat at a higher severity (only asked for a member of an incident): it pages when it rises to
   * P0/P1 above the incident's worst, since an edit of the card notifies nobody (the single-alert path posts a
   * raised alert again; an incident keeps that promise with a page, docs/incidents.md).
   */
  private async raisesIncident(tx: Store, incidentId: number, a: PlannedAlert): Promise<boolean> {
    const rank = severityRank(a.input.severity);
    if (rank > 1 || a.mutedBy !== null) return false;
    const worst = (await tx.incidents.summary(incidentId)).severity;
    return worst === null || rank < severityRank(worst);
  }

  /** The page of a member risen to P0/P1 (`RAISED_PAGE`), in each channel it is posted to now (not one held for hours). */
  private async enqueuePage(tx: Store, alertId: number, a: PlannedAlert, posts: QueuedPosts): Promise<void> {
    const priority = severityRank(a.input.severity);
    for (const channelId of a.channels) {
      if (a.held?.get(channelId) !== undefined) continue;
      await tx.deliveries.enqueue(alertId, channelId, priority, a.receivedAt, { mention: RAISED_PAGE });
      posts.add(channelId, priority, false);
    }
  }

  /**
   * One delivery per channel the stages chose (held ones: see `storeNew`). A member of an incident waits
   * until the incident's group_wait is over (its `available_at`, durable: a restart keeps the wait), so a
   * burst lands as one card; a member joining later goes at once and the lane folds it into the card.
   */
  private async enqueueDeliveries(tx: Store, alertId: number, a: PlannedAlert, posts: QueuedPosts, joined?: Joined): Promise<void> {
    const i = a.input;
    for (const channelId of a.channels) {
      const held = a.held?.get(channelId);
      let availableAt = held === undefined || held === 'digest' ? undefined : held;
      if (joined && held !== 'digest') {
        const waitUntil = joined.createdAt + (a.incident!.waitMs.get(channelId) ?? DEFAULT_GROUP_WAIT_MS);
        if (waitUntil > (availableAt ?? a.receivedAt)) availableAt = waitUntil;
      }
      const priority = severityRank(i.severity);
      await tx.deliveries.enqueue(alertId, channelId, priority, a.receivedAt, held === 'digest' ? { state: 'digest' } : availableAt === undefined ? undefined : { availableAt });
      // A held delivery adds nothing to send now, but the lane must learn when it becomes ready. A later member
      // of an incident is no post of its own (it joins the card, an edit), so it does not count as backlog.
      posts.add(channelId, priority, !(held === undefined && (!joined || joined.created)));
    }
  }
}
