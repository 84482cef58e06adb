import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { alerts, deliveries, storms } from './sqlite/schema.js';
import type { StormTally } from '../domain/storm.js';

/** A channel's storm as the lane keeps it: where its summary card is (null until posted). */
export interface StormRow {
  id: number;
  channelId: number;
  startedAt: number;
  endedAt: number | null;
  webhookId: number | null;
  summaryMessageId: string | null;
}

/** Storms (storms table): opened and ended by a channel's lane, with the summary card's message. */
export class StormStore {
  constructor(private readonly db: Db) {}

  /** The channel's storm still going on (one at most), e.g. after a restart mid-storm. */
  async current(channelId: number): Promise<StormRow | null> {
    return (
      this.db
        .select()
        .from(storms)
        .where(and(eq(storms.channelId, channelId), isNull(storms.endedAt)))
        .orderBy(desc(storms.id))
        .limit(1)
        .get() ?? null
    );
  }

  async get(id: number): Promise<StormRow | null> {
    return this.db.select().from(storms).where(eq(storms.id, id)).get() ?? null;
  }

  async open(channelId: number, now: number): Promise<StormRow> {
    return this.db.insert(storms).values({ channelId, startedAt: now }).returning().get();
  }

  /** The summary card was posted: remember its message and the webhook that alone may edit it. */
  async setSummary(id: number, webhookId: number, messageId: string): Promise<void> {
    this.db.update(storms).set({ webhookId, summaryMessageId: messageId }).where(eq(storms.id, id)).run();
  }

  async end(id: number, now: number): Promise<void> {
    this.db.update(storms).set({ endedAt: now }).where(eq(storms.id, id)).run();
  }

  /** The storm's compact alerts counted by severity and service, with the first and last arrival. */
  async tally(id: number): Promise<StormTally> {
    const rows = this.db
      .select({
        severity: alerts.severity,
        service: alerts.service,
        n: sql<number>`count(*)`,
        first: sql<number>`min(${alerts.receivedAt})`,
        last: sql<number>`max(${alerts.receivedAt})`,
      })
      .from(deliveries)
      .innerJoin(alerts, eq(alerts.id, deliveries.alertId))
      .where(eq(deliveries.stormId, id))
      .groupBy(alerts.severity, alerts.service)
      .all();
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
    const messages =
      this.db
        .select({ n: sql<number>`count(distinct ${deliveries.discordMessageId})` })
        .from(deliveries)
        .where(eq(deliveries.stormId, id))
        .get()?.n ?? 0;
    const byService = [...services].map(([service, count]) => ({ service, count })).sort((a, b) => b.count - a.count || a.service.localeCompare(b.service));
    return { total: rows.reduce((s, r) => s + r.n, 0), bySeverity, byService, firstArrivalAt: first, lastArrivalAt: last, messages };
  }
}
