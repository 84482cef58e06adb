import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { conflict, invalid, notFound } from '../../domain/errors.js';
import { incidentState } from '../../domain/incidents.js';
import type { EscalationChainRow, EscalationRow, EscalationRunRow, EscalationStepRow, EscalationStore, NewChain, NewStep } from '../escalations.js';
import { isPgUniqueViolation } from './errors.js';
import type { PgExecutor } from './open.js';
import type { PgRouteStore } from './routes.js';
import { alerts, channels, escalationChains, escalationRuns, escalations, escalationSteps } from './schema.js';

const MAX_STEPS = 20;

/**
 * `../escalations.ts` on PostgreSQL: every public method but `chainIdSync` (SQLite's twin for its synchronous
 * transactions), the same order, limits, row shapes and 400/404/409s.
 *
 * Route → chain (`routes.escalation_chain_id`): as on SQLite, written through the routes module's `setChain` /
 * `detachChain` inside this module's transaction (the PostgreSQL routes module over that transaction's handle,
 * `routesOver(tx)`, awaited), and the routes cache (route → chain, for arming) re-read after it (`refresh()`, where
 * SQLite's calls `routes.load()`). With several instances the other instances' caches need the change signal too.
 *
 * Where transactions run side by side (SQLite's gate runs them one after the other):
 * - The runner's claim: `withAlert`, read inside the runner's transaction for one escalation, locks the escalation's
 *   row `for update skip locked`: while one runner moves an escalation, another runner's `withAlert` of it finds
 *   nothing (its pass moves on), so no escalation is handed to two runners at once; once the first commits, a later
 *   read sees the moved row. `move` stays conditional on the state read, as on SQLite.
 * - A step is added under a lock of its chain's row (`for no key update`), so two additions at once do not both
 *   take the next position (the unique index would refuse the second with an error instead of a step).
 * - A chain named by a route, or a channel named by a step, is locked `for key share` (as the foreign key's own
 *   check does): its delete not yet committed is waited for, and then it is not found (404 / 400).
 */
export class PgEscalationStore implements Pick<EscalationStore, Exclude<keyof EscalationStore, 'chainIdSync'>> {
  constructor(
    private readonly db: PgExecutor,
    /** The routes module over an executor: this module's own (for `refresh`) or one of its transactions. */
    private readonly routesOver: (db: PgExecutor) => Pick<PgRouteStore, 'setChain' | 'detachChain' | 'chainRoutes' | 'refresh'>,
  ) {}

  // --- chains (admin API, bot) ---

  async createChain(c: NewChain): Promise<number> {
    return this.db.transaction(async (tx) => {
      let chainId: number;
      try {
        const [row] = await tx
          .insert(escalationChains)
          .values({ name: c.name, repeats: c.repeats, rearmAfterMs: c.rearmAfterMs, managedBy: c.managedBy ?? null })
          .returning({ id: escalationChains.id });
        chainId = row!.id;
      } catch (err) {
        // Rethrown as a 409: the transaction rolls back, so no savepoint is needed around the insert.
        if (isPgUniqueViolation(err)) throw conflict(`an escalation chain named "${c.name}" already exists`);
        throw err;
      }
      for (const s of c.steps) await insertStep(tx, chainId, s);
      return chainId;
    });
  }

  async setFromFile(id: number, c: Omit<NewChain, 'name'>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.update(escalationChains).set({ repeats: c.repeats, rearmAfterMs: c.rearmAfterMs, managedBy: 'file' }).where(eq(escalationChains.id, id));
      await tx.delete(escalationSteps).where(eq(escalationSteps.chainId, id));
      for (const s of c.steps) await insertStep(tx, id, s);
    });
  }

  async managedBy(id: number): Promise<'file' | null | undefined> {
    const [r] = await this.db.select({ m: escalationChains.managedBy }).from(escalationChains).where(eq(escalationChains.id, id)).limit(1);
    return r?.m;
  }

  async addStep(chainId: number, s: NewStep): Promise<void> {
    await this.db.transaction((tx) => insertStep(tx, chainId, s));
  }

  async chains(): Promise<{ chains: EscalationChainRow[]; steps: EscalationStepRow[]; routes: { id: number; chainId: number }[] }> {
    const chains = await this.db.select().from(escalationChains).orderBy(asc(escalationChains.id));
    if (chains.length === 0) return { chains, steps: [], routes: [] };
    const steps = await this.db.select().from(escalationSteps).orderBy(asc(escalationSteps.chainId), asc(escalationSteps.position));
    return { chains, steps, routes: await this.routesOver(this.db).chainRoutes() };
  }

  async chainId(ref: { id: number } | { name: string }): Promise<number | undefined> {
    const where = 'id' in ref ? eq(escalationChains.id, ref.id) : eq(escalationChains.name, ref.name);
    const [r] = await this.db.select({ id: escalationChains.id }).from(escalationChains).where(where).limit(1);
    return r?.id;
  }

  async deleteChain(id: number): Promise<void> {
    const gone = await this.db.transaction(async (tx) => {
      // Explicit, as on SQLite (whose migration has no ON DELETE SET NULL; PostgreSQL's foreign key would set null).
      await this.routesOver(tx).detachChain(id);
      return tx.delete(escalationChains).where(eq(escalationChains.id, id)).returning({ id: escalationChains.id });
    });
    if (gone.length === 0) throw notFound('escalation chain', id);
    await this.routesOver(this.db).refresh();
  }

  async setRouteChain(routeId: number, chainId: number | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (chainId !== null) {
        const [chain] = await tx.select({ id: escalationChains.id }).from(escalationChains).where(eq(escalationChains.id, chainId)).for('key share');
        if (!chain) throw notFound('escalation chain', chainId);
      }
      await this.routesOver(tx).setChain(routeId, chainId);
    });
    await this.routesOver(this.db).refresh();
  }

  async escalations(f: { alertId?: number; active?: boolean; limit?: number } = {}): Promise<{ escalations: EscalationRow[]; runs: EscalationRunRow[] }> {
    const rows = await this.db
      .select()
      .from(escalations)
      .where(and(f.alertId === undefined ? undefined : eq(escalations.alertId, f.alertId), f.active ? inArray(escalations.state, ['active', 'acked']) : undefined))
      .orderBy(desc(escalations.id))
      .limit(f.limit ?? 100);
    if (rows.length === 0) return { escalations: rows, runs: [] };
    const runs = await this.db
      .select()
      .from(escalationRuns)
      .where(inArray(escalationRuns.escalationId, rows.map((r) => r.id)))
      .orderBy(asc(escalationRuns.id));
    return { escalations: rows, runs };
  }

  // --- the runner's reads and writes (src/escalation/runner.ts) ---

  async steps(chainId: number): Promise<EscalationStepRow[]> {
    return this.db.select().from(escalationSteps).where(eq(escalationSteps.chainId, chainId)).orderBy(asc(escalationSteps.position));
  }

  async chain(id: number): Promise<EscalationChainRow | undefined> {
    const [r] = await this.db.select().from(escalationChains).where(eq(escalationChains.id, id)).limit(1);
    return r;
  }

  async arm(v: { alertId: number; chainId: number; channelIds: number[]; dueAt: number; now: number; incidentId?: number | null }): Promise<void> {
    await this.db
      .insert(escalations)
      .values({ alertId: v.alertId, chainId: v.chainId, channelIds: v.channelIds, dueAt: v.dueAt, incidentId: v.incidentId ?? null, createdAt: v.now, updatedAt: v.now })
      .onConflictDoNothing();
  }

  /**
   * As SQLite's. Two ingest transactions arming one incident's chain at once are kept apart by the lock `join` takes
   * on the incident's group (`pg/incidents.ts`), which the ingest path takes first in the same transaction.
   */
  async armedForIncident(incidentId: number, chainId: number): Promise<boolean> {
    const rows = await this.db
      .select({ id: escalations.id })
      .from(escalations)
      .where(and(eq(escalations.incidentId, incidentId), eq(escalations.chainId, chainId)))
      .limit(1);
    return rows.length > 0;
  }

  async nextDueAt(): Promise<number | null> {
    const [r] = await this.db
      .select({ at: sql<number | null>`min(${escalations.dueAt})`.mapWith(Number) })
      .from(escalations)
      .where(inArray(escalations.state, ['active', 'acked']));
    return r?.at ?? null;
  }

  /**
   * As SQLite's. Read outside any transaction (the runner's pass), so it locks nothing: the claim is `withAlert`'s,
   * in the transaction of each move.
   */
  async candidates(now: number): Promise<number[]> {
    const rows = await this.db
      .select({ id: escalations.id })
      .from(escalations)
      .innerJoin(alerts, eq(alerts.id, escalations.alertId))
      .where(
        and(
          inArray(escalations.state, ['active', 'acked']),
          or(
            lte(escalations.dueAt, now),
            isNotNull(escalations.incidentId),
            isNotNull(alerts.resolvedAt),
            eq(alerts.status, 'resolved'),
            isNotNull(alerts.retractedAt),
            and(eq(escalations.state, 'active'), sql`${alerts.acknowledgedAt} > coalesce(${escalations.ackSeenAt}, -1)`),
          ),
        ),
      )
      // Ties (one due time) in id order: SQLite leaves them to its plan, which gives them in id order here too.
      .orderBy(asc(escalations.dueAt), asc(escalations.id));
    return rows.map((r) => r.id);
  }

  /**
   * As SQLite's, and the runner's claim: the escalation's row is locked `for update skip locked` until the
   * transaction it is read in ends. A row another transaction holds (another runner moving it) is skipped:
   * undefined, as for no such escalation, so the runner's pass moves on to the next. Outside a transaction the lock
   * ends with the statement.
   */
  async withAlert(id: number) {
    const [row] = await this.db
      .select({ e: escalations, a: { status: alerts.status, severity: alerts.severity, acknowledgedAt: alerts.acknowledgedAt, resolvedAt: alerts.resolvedAt, retractedAt: alerts.retractedAt } })
      .from(escalations)
      .innerJoin(alerts, eq(alerts.id, escalations.alertId))
      .where(eq(escalations.id, id))
      .for('update', { of: escalations, skipLocked: true });
    if (!row || row.e.incidentId === null) return row;
    const members = await this.db
      .select({ severity: alerts.severity, status: alerts.status, acknowledgedAt: alerts.acknowledgedAt, resolvedAt: alerts.resolvedAt, retractedAt: alerts.retractedAt })
      .from(alerts)
      .where(eq(alerts.incidentId, row.e.incidentId));
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

  async move(e: EscalationRow, values: Partial<EscalationRow>, now: number): Promise<void> {
    const moved = await this.db
      .update(escalations)
      .set({ ...values, updatedAt: now })
      .where(and(eq(escalations.id, e.id), eq(escalations.state, e.state), eq(escalations.stepIndex, e.stepIndex), eq(escalations.round, e.round), eq(escalations.cycle, e.cycle)))
      .returning({ id: escalations.id });
    if (moved.length !== 1) throw new Error(`escalation ${e.id} changed under a pass`);
  }

  async recordRun(r: Omit<EscalationRunRow, 'id'>): Promise<void> {
    await this.db.insert(escalationRuns).values(r);
  }

  async retryAt(id: number, at: number): Promise<void> {
    await this.db.update(escalations).set({ dueAt: at }).where(eq(escalations.id, id));
  }

  async existingChannels(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.select({ id: channels.id }).from(channels).where(and(inArray(channels.id, [...ids]), isNull(channels.removedAt)));
    return rows.map((c) => c.id);
  }
}

/**
 * SQLite's `insertStep`: 404 for an unknown chain, 400 for an unknown channel or a 21st step. The chain's row is
 * locked (`for no key update`, which leaves the steps' foreign-key checks alone) until the transaction ends, so two
 * additions at once take positions one after the other.
 */
async function insertStep(tx: PgExecutor, chainId: number, s: NewStep): Promise<void> {
  const [chain] = await tx.select({ id: escalationChains.id }).from(escalationChains).where(eq(escalationChains.id, chainId)).for('no key update');
  if (!chain) throw notFound('escalation chain', chainId);
  if (s.channelId !== null) {
    const [channel] = await tx.select({ id: channels.id }).from(channels).where(and(eq(channels.id, s.channelId), isNull(channels.removedAt))).for('key share');
    if (!channel) throw invalid('channel_id', `no channel with id ${s.channelId}`);
  }
  const [last] = await tx
    .select({ n: sql<number | null>`max(${escalationSteps.position})`.mapWith(Number) })
    .from(escalationSteps)
    .where(eq(escalationSteps.chainId, chainId));
  if ((last?.n ?? -1) >= MAX_STEPS - 1) throw invalid('steps', `a chain has at most ${MAX_STEPS} steps`);
  await tx.insert(escalationSteps).values({ chainId, position: (last?.n ?? -1) + 1, delayMs: s.delayMs, kind: s.kind, target: s.target, channelId: s.channelId });
}
