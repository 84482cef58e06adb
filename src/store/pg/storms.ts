import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { StormTally } from '../../domain/storm.js';
import type { StormRow, StormStore } from '../storms.js';
import type { PgExecutor } from './open.js';
import { alerts, deliveries, storms } from './schema.js';

/**
 * `../storms.ts` on PostgreSQL: the same statements. What PostgreSQL needs said: the tally's `count`s and its
 * `min`/`max` of a bigint column come back from node-postgres as strings, so they are mapped to numbers.
 */
export class PgStormStore implements Pick<StormStore, keyof StormStore> {
  constructor(private readonly db: PgExecutor) {}

  /** The channel's storm still going on (one at most), e.g. after a restart mid-storm. */
  async current(channelId: number): Promise<StormRow | null> {
    const [row] = await this.db
      .select()
      .from(storms)
      .where(and(eq(storms.channelId, channelId), isNull(storms.endedAt)))
      .orderBy(desc(storms.id))
      .limit(1);
    return row ?? null;
  }

  async get(id: number): Promise<StormRow | null> {
    const [row] = await this.db.select().from(storms).where(eq(storms.id, id));
    return row ?? null;
  }

  async open(channelId: number, now: number): Promise<StormRow> {
    const [row] = await this.db.insert(storms).values({ channelId, startedAt: now }).returning();
    return row!;
  }

  /** The summary card was posted: remember its message and the webhook that alone may edit it. */
  async setSummary(id: number, webhookId: number, messageId: string): Promise<void> {
    await this.db.update(storms).set({ webhookId, summaryMessageId: messageId }).where(eq(storms.id, id));
  }

  async end(id: number, now: number): Promise<void> {
    await this.db.update(storms).set({ endedAt: now }).where(eq(storms.id, id));
  }

  /** The storm's compact alerts counted by severity and service, with the first and last arrival. */
  async tally(id: number): Promise<StormTally> {
    const rows = await this.db
      .select({
        severity: alerts.severity,
        service: alerts.service,
        n: sql<number>`count(*)`.mapWith(Number),
        first: sql<number>`min(${alerts.receivedAt})`.mapWith(Number),
        last: sql<number>`max(${alerts.receivedAt})`.mapWith(Number),
      })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(eq(deliveries.stormId, id))
      .groupBy(alerts.severity, alerts.service);
    const bySeverity: Record<string, number> = {};
    const services = new Map<string, number>();
    let first: number | null = null;
    let last: number | null = null;
    for (const r of rows) {
      bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + r.n;
      services.set(r.service, (services.get(r.service) ?? 0) + r.n);
      first = first === null ? r.first : Math.min(first, r.first);
      last = last === null ? r.last : Math.max(last, r.last);
    }
    const [counted] = await this.db
      .select({ n: sql<number>`count(distinct ${deliveries.discordMessageId})`.mapWith(Number) })
      .from(deliveries)
      .where(eq(deliveries.stormId, id));
    const messages = counted?.n ?? 0;
    const byService = [...services].map(([service, count]) => ({ service, count })).sort((a, b) => b.count - a.count || a.service.localeCompare(b.service));
    return { total: rows.reduce((s, r) => s + r.n, 0), bySeverity, byService, firstArrivalAt: first, lastArrivalAt: last, messages };
  }
}
