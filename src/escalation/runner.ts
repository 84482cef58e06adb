import type { Logger } from 'pino';
import { severityRank } from '../domain/alert.js';
import type { Outbox } from '../store/deliveries.js';
import type { EscalationRow, EscalationStore } from '../store/escalations.js';
import type { Store } from '../store/index.js';
import type { RouteStore } from '../store/routes.js';
import type { Guard } from '../guard.js';
import { mentionOf } from '../discord/mention.js';
import type { DeliverySignals } from '../delivery/signals.js';
import { PassTimer } from '../delivery/wake-timer.js';

export interface EscalationDeps {
  /** One transaction per move (store.transaction). */
  transactions: Pick<Store, 'transaction'>;
  /** Outside transactions (a pass's reads, a failed move's retry time); moves go through their transaction's `tx`. */
  escalations: EscalationStore;
  /** Which route arms which chain (cached by the route store, refreshed by the escalations store's writes). */
  routes: Pick<RouteStore, 'chainOf' | 'anyChain'>;
  /** Unused by the runner since its moves write through their transaction (`tx.deliveries`); kept for its callers. */
  outbox: Pick<Outbox, 'enqueue'>;
  /** Tells delivery that a step's deliveries were committed (the commit signals' delivery part). */
  signals: Pick<DeliverySignals, 'deliveriesQueued'>;
  /** The longest the runner sleeps: it notices acknowledgements and resolves at least this often. */
  pollMs: number;
  log: Logger;
  /** The timer's pass is guarded: a database error is logged and the pass retried with backoff. */
  guard: Guard;
}

/** What one pass did, for tests and logs. */
export interface TickResult {
  stepsRun: number;
  stopped: number;
  rearmed: number;
}

/**
 * Escalation chains as durable timers (the `escalations` table). `arm` is called inside the ingest
 * transaction for a new alert whose routes name a chain. The runner keeps one timer, to the next due
 * step (at most `pollMs` away, so acknowledgements and resolves are noticed without a hook in the
 * lifecycle services), and checks everything due at start.
 *
 * A due step is claimed, recorded as run (escalation_runs, unique per step, round and cycle) and its
 * deliveries queued in one transaction: a crash before the commit runs it after restart, a crash after
 * it never runs it again. Its messages go through the outbox like any card, so Discord's budgets and
 * the P0/P1 headroom (by the alert's severity) apply.
 */
export class EscalationRunner {
  private readonly timer: PassTimer;
  /** Earliest due time armed in transactions not yet followed by `afterCommit`. */
  private armedDueAt = Infinity;
  private running = false;
  /** A pass was asked for while one ran: another follows at once. */
  private again = false;

  constructor(private readonly deps: EscalationDeps) {
    const pass = deps.guard.wrap('escalation pass', () => this.run(), { retry: (ms) => this.schedule(Date.now() + ms) });
    this.timer = new PassTimer(pass);
  }

  /**
   * Inside the ingest transaction, for a new alert (not a grouped repeat): arms each chain its routes
   * name, its first step due after that step's delay. `incidentId`: the alert opened that incident, and the
   * chain runs for the incident (one per incident and chain, stopped by the incident's acknowledgement or
   * resolve: `EscalationStore.withAlert`): a chain the incident already has is not armed again for a later member. `channelIds`: where the alert was routed (mention
   * steps without a channel of their own post there). `tx`: the ingest transaction's store. Answers at once
   * (undefined, no promise) when no route names a chain.
   */
  arm(tx: Pick<Store, 'escalations'>, alertId: number, routeIds: readonly number[], channelIds: readonly number[], now: number, incidentId?: number): Promise<void> | undefined {
    if (!this.deps.routes.anyChain || routeIds.length === 0) return undefined;
    const chainIds = new Set<number>();
    for (const r of routeIds) {
      const c = this.deps.routes.chainOf(r);
      if (c !== undefined) chainIds.add(c);
    }
    if (chainIds.size === 0) return undefined;
    return this.armChains(tx.escalations, alertId, chainIds, channelIds, now, incidentId);
  }

  private async armChains(escalations: EscalationStore, alertId: number, chainIds: Set<number>, channelIds: readonly number[], now: number, incidentId: number | undefined): Promise<void> {
    for (const chainId of chainIds) {
      const first = (await escalations.steps(chainId))[0];
      if (!first) continue;
      if (incidentId !== undefined && (await escalations.armedForIncident(incidentId, chainId))) continue;
      const dueAt = now + first.delayMs;
      await escalations.arm({ alertId, chainId, channelIds: [...channelIds], dueAt, now, incidentId: incidentId ?? null });
      this.armedDueAt = Math.min(this.armedDueAt, dueAt);
    }
  }

  /** After the ingest commit: the timer moves earlier if a step armed now is due sooner. */
  afterCommit(): void {
    if (this.armedDueAt === Infinity) return;
    const at = this.armedDueAt;
    this.armedDueAt = Infinity;
    this.schedule(at);
  }

  /** Starts the timer, with a check of everything due (a restart resumes each chain where it was). */
  start(): void {
    this.timer.start();
  }

  stop(): void {
    this.timer.stop();
  }

  /** Wake now (tests, and after a chain changed). */
  poke(): void {
    this.schedule(Date.now());
  }

  private schedule(at: number): void {
    this.timer.schedule(at);
  }

  /** One guarded pass (see the constructor): a failure is retried with backoff by the guard. */
  private async run(): Promise<void> {
    if (this.timer.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      this.again = false;
      await this.tick(Date.now());
    } finally {
      this.running = false;
    }
    if (this.timer.stopped) return;
    if (this.again) this.schedule(Date.now());
    else this.schedule(Math.min((await this.nextDueAt()) ?? Infinity, Date.now() + this.deps.pollMs));
  }
  /** Earliest due time of an escalation still going. */
  nextDueAt(): Promise<number | null> {
    return this.deps.escalations.nextDueAt();
  }

  /**
   * One pass: every escalation that is due, or whose alert was acknowledged, resolved or retracted
   * meanwhile, moves on (each in its own transaction). Returns what it did.
   */
  async tick(now: number): Promise<TickResult> {
    const result: TickResult = { stepsRun: 0, stopped: 0, rearmed: 0 };
    const candidates = await this.deps.escalations.candidates(now);
    for (const id of candidates) {
      try {
        // A few moves at once at most (e.g. an acknowledgement seen, then its re-arm already due).
        for (let i = 0; i < 4; i++) {
          const moved = await this.advance(id, now, result);
          if (!moved) break;
        }
      } catch (err) {
        // Nothing of the failed move was committed; try this one again in a second, the others now.
        this.deps.log.error({ err, escalationId: id }, 'escalation step failed; retrying in 1 s');
        await this.deps.escalations.retryAt(id, now + 1000);
      }
    }
    return result;
  }

  /** Moves one escalation on by one transition, in one transaction; false when nothing is due. */
  private async advance(id: number, now: number, result: TickResult): Promise<boolean> {
    const woken = new Map<number, number>();
    const moved = await this.deps.transactions.transaction(async (tx) => {
      const store = tx.escalations;
      const row = await store.withAlert(id);
      if (!row || row.e.state === 'done') return false;
      const { e, a } = row;
      const set = (values: Partial<EscalationRow>) => store.move(e, values, now);
      const finish = async (reason: string) => {
        await set({ state: 'done', reason });
        result.stopped++;
        return true;
      };

      if (a.retractedAt !== null) return finish('retracted');
      if (a.resolvedAt !== null || a.status === 'resolved') return finish('resolved');
      const chain = await store.chain(e.chainId);
      if (!chain) return finish('chain deleted');
      const steps = await store.steps(e.chainId);
      if (steps.length === 0) return finish('chain has no steps');

      if (e.state === 'active' && a.acknowledgedAt !== null && a.acknowledgedAt > (e.ackSeenAt ?? -1)) {
        if (chain.rearmAfterMs === null) return finish('acknowledged');
        // Wait for a resolve; without one in time, the chain starts again.
        await set({ state: 'acked', ackSeenAt: a.acknowledgedAt, dueAt: a.acknowledgedAt + chain.rearmAfterMs });
        return true;
      }
      if (e.dueAt > now) return false;

      if (e.state === 'acked') {
        await set({ state: 'active', cycle: e.cycle + 1, round: 0, stepIndex: 0, dueAt: now + steps[0]!.delayMs });
        result.rearmed++;
        this.deps.log.info({ escalationId: e.id, alertId: e.alertId }, 'acknowledged but not resolved in time: escalation re-armed');
        return true;
      }

      // Active and due: run the step (or, past the last step, repeat the chain or end it).
      const step = steps[e.stepIndex];
      if (!step) {
        if (e.round < chain.repeats) {
          await set({ round: e.round + 1, stepIndex: 0, dueAt: now + steps[0]!.delayMs });
          return true;
        }
        return finish('chain exhausted');
      }
      const wanted = step.channelId !== null ? [step.channelId] : e.channelIds;
      // A channel deleted since the alert was routed is skipped (the run records how many got the step).
      const targets = await store.existingChannels(wanted);
      const mention = step.kind === 'channel' || step.target === null ? null : mentionOf(step.kind, step.target);
      const priority = severityRank(a.severity);
      for (const channelId of targets) {
        await tx.deliveries.enqueue(e.alertId, channelId, priority, now, { mention });
        woken.set(channelId, (woken.get(channelId) ?? 0) + 1);
      }
      // The unique index (escalation, cycle, round, step) refuses a second run of the same step.
      await store.recordRun({ escalationId: e.id, cycle: e.cycle, round: e.round, stepIndex: e.stepIndex, stepId: step.id, kind: step.kind, target: step.target, deliveries: targets.length, at: now });
      const next = steps[e.stepIndex + 1];
      const lastRound = e.round >= chain.repeats;
      if (next) await set({ stepIndex: e.stepIndex + 1, dueAt: now + next.delayMs });
      else if (!lastRound) await set({ round: e.round + 1, stepIndex: 0, dueAt: now + steps[0]!.delayMs });
      else await set({ state: 'done', reason: 'chain exhausted', stepIndex: e.stepIndex + 1 });
      result.stepsRun++;
      return true;
    });
    for (const [channelId, n] of woken) this.deps.signals.deliveriesQueued(channelId, n);
    return moved;
  }
}
