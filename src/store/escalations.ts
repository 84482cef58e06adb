import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { conflict, invalid, notFound } from '../domain/errors.js';
import { incidentState } from '../domain/incidents.js';
import type { RouteStore } from './routes.js';
import type { Db } from './sqlite/open.js';
import { isUniqueViolation } from './sqlite/health.js';
import { alerts, channels, escalationChains, escalationRuns, escalations, escalationSteps } from './sqlite/schema.js';

export type EscalationChainRow = typeof escalationChains.$inferSelect;
export type EscalationStepRow = typeof escalationSteps.$inferSelect;
export type EscalationRow = typeof escalations.$inferSelect;
export type EscalationRunRow = typeof escalationRuns.$inferSelect;

export interface NewStep {
  kind: 'channel' | 'role' | 'user';
  delayMs: number;
  target: string | null;
  channelId: number | null;
}

export interface NewChain {
  name: string;
  repeats: number;
  rearmAfterMs: number | null;
  steps: readonly NewStep[];
  managedBy?: 'file';
}

const MAX_STEPS = 20;

/**
 * Escalation chains, their steps, the escalations armed on alerts and the steps they ran
 * (escalation_chains, escalation_steps, escalations, escalation_runs): the only writer of these tables.
 * Which route arms which chain is a column of routes, written through the route store inside this
 * module's transactions, whose cache (`routes.chainOf`) is refreshed here after each such write.
 */
export class EscalationStore {
  private readonly insertEscalation;

  constructor(
    private readonly db: Db,
    private readonly routes: RouteStore,
  ) {
    // The ingest hot path (arming a chain on a new alert): one prepared statement.
    this.insertEscalation = db
      .insert(escalations)
      .values({
        alertId: sql.placeholder('alertId'),
        chainId: sql.placeholder('chainId'),
        channelIds: sql.placeholder('channelIds'),
        dueAt: sql.placeholder('dueAt'),
        incidentId: sql.placeholder('incidentId'),
        createdAt: sql.placeholder('now'),
        updatedAt: sql.placeholder('now'),
      })
      .onConflictDoNothing()
      .prepare();
  }

  // ------------------------------------------------------------------------------------------
  // Chains (admin API, bot)

  /** Creates a chain with its first steps; 409 when the name is taken. Returns its id. */
  async createChain(c: NewChain): Promise<number> {
    return this.db.transaction((tx) => {
      let chainId: number;
      try {
        chainId = tx
          .insert(escalationChains)
          .values({ name: c.name, repeats: c.repeats, rearmAfterMs: c.rearmAfterMs, managedBy: c.managedBy ?? null })
          .returning({ id: escalationChains.id })
          .get().id;
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`an escalation chain named "${c.name}" already exists`);
        throw err;
      }
      for (const s of c.steps) this.insertStep(chainId, s);
      return chainId;
    });
  }

  /**
   * Sets a chain as the configuration file says: its settings and all its steps (replaced in order; running
   * escalations go on at their step index), marked file-managed.
   */
  async setFromFile(id: number, c: Omit<NewChain, 'name'>): Promise<void> {
    this.db.transaction(() => {
      this.db.update(escalationChains).set({ repeats: c.repeats, rearmAfterMs: c.rearmAfterMs, managedBy: 'file' }).where(eq(escalationChains.id, id)).run();
      this.db.delete(escalationSteps).where(eq(escalationSteps.chainId, id)).run();
      for (const s of c.steps) this.insertStep(id, s);
    });
  }

  /** Who manages the chain (null: the admin API); undefined when there is no such chain. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    return this.db.select({ m: escalationChains.managedBy }).from(escalationChains).where(eq(escalationChains.id, id)).get()?.m;
  }

  /** Appends a step; 404 for an unknown chain, 400 for an unknown channel or a 21st step. */
  async addStep(chainId: number, s: NewStep): Promise<void> {
    this.db.transaction(() => this.insertStep(chainId, s));
  }

  private insertStep(chainId: number, s: NewStep): void {
    if (!this.db.select({ id: escalationChains.id }).from(escalationChains).where(eq(escalationChains.id, chainId)).get()) throw notFound('escalation chain', chainId);
    if (s.channelId !== null && !this.db.select({ id: channels.id }).from(channels).where(and(eq(channels.id, s.channelId), isNull(channels.removedAt))).get()) {
      throw invalid('channel_id', `no channel with id ${s.channelId}`);
    }
    const last = this.db
      .select({ n: sql<number | null>`max(${escalationSteps.position})` })
      .from(escalationSteps)
      .where(eq(escalationSteps.chainId, chainId))
      .get();
    if ((last?.n ?? -1) >= MAX_STEPS - 1) throw invalid('steps', `a chain has at most ${MAX_STEPS} steps`);
    this.db
      .insert(escalationSteps)
      .values({ chainId, position: (last?.n ?? -1) + 1, delayMs: s.delayMs, kind: s.kind, target: s.target, channelId: s.channelId })
      .run();
  }

  /** Every chain (id order), every step (by chain, then position) and the routes that arm a chain (id order). */
  async chains(): Promise<{ chains: EscalationChainRow[]; steps: EscalationStepRow[]; routes: { id: number; chainId: number }[] }> {
    const chains = this.db.select().from(escalationChains).orderBy(asc(escalationChains.id)).all();
    if (chains.length === 0) return { chains, steps: [], routes: [] };
    const steps = this.db.select().from(escalationSteps).orderBy(asc(escalationSteps.chainId), asc(escalationSteps.position)).all();
    return { chains, steps, routes: this.routes.chainRoutes() };
  }

  /** A chain's id by id or by name; undefined when there is none. */
  async chainId(ref: { id: number } | { name: string }): Promise<number | undefined> {
    return this.chainIdSync(ref);
  }

  /** `chainId` run synchronously, for this module's and its sibling modules' synchronous transactions. */
  chainIdSync(ref: { id: number } | { name: string }): number | undefined {
    const where = 'id' in ref ? eq(escalationChains.id, ref.id) : eq(escalationChains.name, ref.name);
    return this.db.select({ id: escalationChains.id }).from(escalationChains).where(where).get()?.id;
  }

  /** Deletes a chain (its routes are detached, its escalations go with it); 404 when there is none. */
  async deleteChain(id: number): Promise<void> {
    const n = this.db.transaction(() => {
      // Explicit: the migration drizzle-kit generates adds routes.escalation_chain_id with its reference
      // but without ON DELETE SET NULL, so the routes are detached here.
      this.routes.detachChain(id);
      return this.db.delete(escalationChains).where(eq(escalationChains.id, id)).run().changes;
    });
    if (!n) throw notFound('escalation chain', id);
    this.routes.load();
  }

  /** Names (or with null clears) the chain a route arms; 404 for an unknown chain or route. */
  async setRouteChain(routeId: number, chainId: number | null): Promise<void> {
    this.db.transaction(() => {
      if (chainId !== null && this.chainIdSync({ id: chainId }) === undefined) throw notFound('escalation chain', chainId);
      this.routes.setChain(routeId, chainId);
    });
    this.routes.load();
  }

  /** Escalations (newest first), of one alert or all, optionally only those still going; with the runs of each (id order). */
  async escalations(f: { alertId?: number; active?: boolean; limit?: number } = {}): Promise<{ escalations: EscalationRow[]; runs: EscalationRunRow[] }> {
    const rows = this.db
      .select()
      .from(escalations)
      .where(
        and(
          f.alertId === undefined ? undefined : eq(escalations.alertId, f.alertId),
          f.active ? inArray(escalations.state, ['active', 'acked']) : undefined,
        ),
      )
      .orderBy(desc(escalations.id))
      .limit(f.limit ?? 100)
      .all();
    if (rows.length === 0) return { escalations: rows, runs: [] };
    const runs = this.db
      .select()
      .from(escalationRuns)
      .where(inArray(escalationRuns.escalationId, rows.map((r) => r.id)))
      .orderBy(asc(escalationRuns.id))
      .all();
    return { escalations: rows, runs };
  }

  // ------------------------------------------------------------------------------------------
  // The runner's reads and writes (src/escalation/runner.ts)

  /** A chain's steps, in order. */
  async steps(chainId: number): Promise<EscalationStepRow[]> {
    return this.db.select().from(escalationSteps).where(eq(escalationSteps.chainId, chainId)).orderBy(asc(escalationSteps.position)).all();
  }

  async chain(id: number): Promise<EscalationChainRow | undefined> {
    return this.db.select().from(escalationChains).where(eq(escalationChains.id, id)).get();
  }

  /** Inside the ingest transaction: arms a chain on an alert (once per alert and chain). */
  async arm(v: { alertId: number; chainId: number; channelIds: number[]; dueAt: number; now: number; incidentId?: number | null }): Promise<void> {
    this.insertEscalation.run({ ...v, incidentId: v.incidentId ?? null });
  }

  /** Whether the incident already has this chain armed (running or done): one chain per incident, whatever its members. */
  async armedForIncident(incidentId: number, chainId: number): Promise<boolean> {
    return (
      this.db
        .select({ id: escalations.id })
        .from(escalations)
        .where(and(eq(escalations.incidentId, incidentId), eq(escalations.chainId, chainId)))
        .limit(1)
        .get() !== undefined
    );
  }

  /** Earliest due time of an escalation still going. */
  async nextDueAt(): Promise<number | null> {
    return (
      this.db
        .select({ at: sql<number | null>`min(${escalations.dueAt})` })
        .from(escalations)
        .where(inArray(escalations.state, ['active', 'acked']))
        .get()?.at ?? null
    );
  }

  /** Escalations still going that are due, or whose alert was acknowledged (unseen), resolved or retracted; earliest due first. */
  async candidates(now: number): Promise<number[]> {
    return this.db
      .select({ id: escalations.id })
      .from(escalations)
      .innerJoin(alerts, eq(alerts.id, escalations.alertId))
      .where(
        and(
          inArray(escalations.state, ['active', 'acked']),
          or(
            lte(escalations.dueAt, now),
            // An incident's state is its members' (no column to compare here): the runner reads it on each pass.
            isNotNull(escalations.incidentId),
            sql`${alerts.resolvedAt} is not null`,
            eq(alerts.status, 'resolved'),
            sql`${alerts.retractedAt} is not null`,
            and(eq(escalations.state, 'active'), sql`${alerts.acknowledgedAt} > coalesce(${escalations.ackSeenAt}, -1)`),
          ),
        ),
      )
      .orderBy(asc(escalations.dueAt))
      .all()
      .map((r) => r.id);
  }

  /**
   * An escalation with what the runner reads of its alert; for one armed on an incident, the incident's
   * state instead (domain/incidents.ts): resolved once its last firing member resolved, acknowledged once
   * every firing member is, retracted once all its members are, as severe as its worst firing member.
   */
  async withAlert(id: number) {
    const row = this.db
      .select({ e: escalations, a: { status: alerts.status, severity: alerts.severity, acknowledgedAt: alerts.acknowledgedAt, resolvedAt: alerts.resolvedAt, retractedAt: alerts.retractedAt } })
      .from(escalations)
      .innerJoin(alerts, eq(alerts.id, escalations.alertId))
      .where(eq(escalations.id, id))
      .get();
    if (!row || row.e.incidentId === null) return row;
    const members = this.db
      .select({ severity: alerts.severity, status: alerts.status, acknowledgedAt: alerts.acknowledgedAt, resolvedAt: alerts.resolvedAt, retractedAt: alerts.retractedAt })
      .from(alerts)
      .where(eq(alerts.incidentId, row.e.incidentId))
      .all();
    const s = incidentState(members);
    const allRetracted = members.length > 0 && s.retracted === members.length;
    return {
      e: row.e,
      a: {
        status: s.firing > 0 ? ('firing' as const) : ('resolved' as const),
        severity: s.worst ?? row.a.severity,
        acknowledgedAt: s.acknowledgedAt,
        resolvedAt: s.firing > 0 ? null : (s.resolvedAt ?? row.a.resolvedAt),
        retractedAt: allRetracted ? Math.max(...members.map((m) => m.retractedAt ?? 0)) : null,
      },
    };
  }

  /**
   * Moves an escalation on, conditional on the state it was read in (`e`): a concurrent pass (there is
   * none today) could not move it twice. Throws when the row changed meanwhile.
   */
  async move(e: EscalationRow, values: Partial<EscalationRow>, now: number): Promise<void> {
    const n = this.db
      .update(escalations)
      .set({ ...values, updatedAt: now })
      .where(and(eq(escalations.id, e.id), eq(escalations.state, e.state), eq(escalations.stepIndex, e.stepIndex), eq(escalations.round, e.round), eq(escalations.cycle, e.cycle)))
      .run().changes;
    if (n !== 1) throw new Error(`escalation ${e.id} changed under a pass`);
  }

  /** Records a step as run; the unique index (escalation, cycle, round, step) refuses a second run of the same step. */
  async recordRun(r: Omit<EscalationRunRow, 'id'>): Promise<void> {
    this.db.insert(escalationRuns).values(r).run();
  }

  /** After a failed move: try this escalation again at `at`. */
  async retryAt(id: number, at: number): Promise<void> {
    this.db.update(escalations).set({ dueAt: at }).where(eq(escalations.id, id)).run();
  }

  /** Of these channel ids, those that still exist. */
  async existingChannels(ids: readonly number[]): Promise<number[]> {
    return ids.length ? this.db.select({ id: channels.id }).from(channels).where(and(inArray(channels.id, [...ids]), isNull(channels.removedAt))).all().map((c) => c.id) : [];
  }
}

/** What the runner reads of an escalation and its alert to decide the next move. */
export type EscalationWithAlert = NonNullable<ReturnType<EscalationStore['withAlert']>>;
