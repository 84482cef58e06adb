import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AlertStore } from '../store/alerts.js';
import type { Store } from '../store/index.js';
import type { ClaimedOutbound, OutboundStore } from '../store/outbound.js';
import { OutcomeRecorder } from '../delivery/outcome-recorder.js';
import { decideRetry } from '../domain/retry-policy.js';
import type { Guard } from '../guard.js';
import { signedHeaders } from '../domain/signatures.js';
import type { OutboundAddressGuard, TargetDecision } from './address-policy.js';
import { postPinned } from './http-post.js';
import { sanitizeReason } from './reason.js';
import { slackBody, webhookBody } from './render.js';

/** Sends in flight at once, over all targets. */
const MAX_IN_FLIGHT = 16;
const POLL_MS = 500;
/** Answers that will not get better by retrying: the target is wrong or refuses this message. */
const PERMANENT = new Set([400, 401, 403, 404, 405, 410, 413, 422]);

type Claimed = ClaimedOutbound;

export type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string; permanent: boolean; retryAfterMs?: number };

/**
 * Sends outbound deliveries (Slack-compatible and generic webhooks) from their outbox table: claims due
 * rows with a lease (a crash mid-send is retried after the lease), sends, and records the outcome. Retries
 * follow the retry policy Discord deliveries use (`decideRetry`: HERALD_RETRY_BASE_MS, HERALD_MAX_ATTEMPTS,
 * HERALD_MAX_AGE_MS); a row given up on is `dead`, with its last status and error, until replayed.
 * The outcome of a request made (sent, retry later, dead) goes through an OutcomeRecorder of its own:
 * when the database cannot write (another process holds the lock), it is kept in memory and retried until
 * recorded, and its row is not claimed again meanwhile, so a receiver never gets the message twice.
 * It shares nothing with Discord's lanes: a slow Slack cannot hold up a Discord channel.
 */
export class OutboundWorker {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = true;
  private closed = false;
  /** The claim pass under way (one at a time: two would both count the same free slots); `again`: woken meanwhile. */
  private pass: Promise<void> | undefined;
  private again = false;
  /** Its `deliveryIds` are outbound_deliveries ids (this recorder is the worker's own, apart from Discord's). */
  private readonly recorder: OutcomeRecorder;
  /**
   * Claims due rows and sends them. Guarded: it runs from an interval, from `start` and after each send,
   * and a database error there (another process holding the write lock) is logged, never thrown; the
   * interval is the retry. A wake while a claim is under way makes that pass claim again when it is done.
   */
  readonly wake: () => void;

  constructor(
    private readonly store: { outbound: OutboundStore; alerts: Pick<AlertStore, 'find'> } & Pick<Store, 'transaction'>,
    private readonly config: Config['delivery'],
    private readonly log: Logger,
    /** Judges the target's address again before each send (it may resolve elsewhere since creation). */
    private readonly guard: OutboundAddressGuard,
    /** Herald's timer guard (src/guard.ts); named apart from outbound's address guard. */
    timers: Guard,
  ) {
    this.wake = timers.wrap('outbound worker', () => this.claimAndSend());
    this.recorder = new OutcomeRecorder(store, log, timers);
  }

  /** Starts polling (idempotent; nothing after `stop`). */
  start(): void {
    if (this.closed) return;
    if (!this.stopped) return this.wake();
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  /**
   * Claims as many due rows as there are free slots and sends them; each finished send frees its slot
   * and claims again. No pass waits for a whole batch, so one slow target does not hold up the others.
   * One pass at a time (the claim is awaited, and the free slots are counted before it): a wake during a
   * pass is remembered and the pass claims again once its rows are in flight.
   */
  private claimAndSend(): Promise<void> | undefined {
    if (this.pass) {
      this.again = true;
      return undefined;
    }
    const pass = this.claimPasses().finally(() => {
      this.pass = undefined;
    });
    this.pass = pass;
    return pass;
  }

  private async claimPasses(): Promise<void> {
    do {
      this.again = false;
      if (this.stopped) return;
      const free = MAX_IN_FLIGHT - this.inFlight.size;
      if (free <= 0) return;
      const now = Date.now();
      const rows = await this.store.outbound.claim(now, now + this.config.requestTimeoutMs * 2 + 1000, free, [...this.recorder.holds().deliveries]);
      for (const r of rows) {
        const p: Promise<void> = this.deliver(r)
          .catch((err) => this.log.error({ err, outboundDelivery: r.id }, 'outbound send failed'))
          .finally(() => {
            this.inFlight.delete(p);
            this.wake();
          });
        this.inFlight.add(p);
      }
    } while (this.again);
  }

  /** Stops claiming; waits for sends in flight (each is bounded by the request timeout). */
  async stop(): Promise<void> {
    this.closed = true;
    this.stopped = true;
    clearInterval(this.timer);
    // A claim under way puts its rows in flight first (its failure is the guard's to log).
    if (this.pass) await this.pass.catch(() => undefined);
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
    const unrecorded = await this.recorder.flush();
    if (unrecorded > 0) this.log.error({ outcomes: unrecorded }, 'outcomes of outbound sends could not be recorded before shutdown; those are sent again at restart');
  }

  /** Records what became of a claimed row, now or (the database cannot write) as soon as it can; `write` goes through the recorder's transaction (`tx`). */
  private settle(id: number, write: (tx: Pick<Store, 'outbound'>) => Promise<void>): void {
    this.recorder.record({ what: `recording the outcome of outbound delivery ${id}`, deliveryIds: [id], write });
  }

  private async deliver(r: Claimed): Promise<void> {
    const target = await this.store.outbound.target(r.targetId);
    const alert = await this.store.alerts.find(r.alertId);
    const now = Date.now();
    if (!target || !alert) {
      this.settle(r.id, (tx) => tx.outbound.markDead(r.id, now, null, 'target or alert no longer exists'));
      return;
    }
    const body = JSON.stringify(target.kind === 'slack' ? slackBody(alert, r.event) : webhookBody(alert, r.event, now));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Herald' };
    // The message id stays the same on every retry, so a receiver can drop duplicates.
    if (target.kind === 'webhook' && target.secret) Object.assign(headers, signedHeaders([target.secret], `msg_herald_${r.id}`, body, Math.floor(now / 1000)));
    const outcome = await sendToTarget(this.guard, target, headers, body, this.config.requestTimeoutMs);
    const done = Date.now();
    if (outcome.ok) {
      this.settle(r.id, (tx) => tx.outbound.markSent(r.id, done, outcome.status));
      return;
    }
    // `attempts` was counted at claim: it includes this failed try.
    const next = outcome.permanent ? undefined : decideRetry(this.config, { failures: r.attempts, createdAt: r.createdAt, now: done, ...(outcome.retryAfterMs ? { waitAtLeastMs: outcome.retryAfterMs } : {}) });
    if (!next?.retry) {
      const why = outcome.permanent ? outcome.error : `${outcome.error} (gave up after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`;
      this.settle(r.id, (tx) => tx.outbound.markDead(r.id, done, outcome.status, why));
      this.log.warn({ outboundDelivery: r.id, target: r.targetId, status: outcome.status }, 'outbound delivery dead-lettered');
      return;
    }
    this.settle(r.id, (tx) => tx.outbound.retryAt(r.id, next.at, outcome.status, outcome.error));
  }
}

/**
 * One POST, to the address the policy approved just now (a name that resolves somewhere forbidden since
 * the target was created is refused, not connected to). The URL is a credential: errors name the status,
 * the network error's code or the host, never the URL; an answer's body is kept only as a short sanitized reason.
 */
export async function sendToTarget(
  guard: OutboundAddressGuard,
  target: { url: string; secret: string | null },
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Outcome> {
  // Resolution counts against the same timeout as the request: a stalled resolver must not outlive the lease.
  const decision = await Promise.race([
    guard.decide(target.url),
    new Promise<TargetDecision>((r) => setTimeout(r, timeoutMs, { ok: false, reason: `the url's host did not resolve within ${timeoutMs} ms`, transient: true }).unref()),
  ]);
  // A forbidden address will not become allowed by retrying; a name that did not resolve may.
  if (!decision.ok) return { ok: false, status: null, error: `refused: ${decision.reason}`, permanent: !decision.transient };
  const res = await postPinned(decision, headers, body, timeoutMs);
  if (res.kind === 'timeout') return { ok: false, status: null, error: `no answer within ${timeoutMs} ms`, permanent: false };
  if (res.kind === 'failed') return { ok: false, status: null, error: `request failed: ${res.code}`, permanent: false };
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const reason = sanitizeReason(res.head, { url: decision.url, secret: target.secret });
  const retryAfter = Number(res.retryAfter);
  return {
    ok: false,
    status: res.status,
    error: `HTTP ${res.status}${reason ? `: ${reason}` : ''}`,
    permanent: PERMANENT.has(res.status),
    ...(res.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter * 1000, 5 * 60_000) } : {}),
  };
}
