import { and, desc, eq, lt } from 'drizzle-orm';
import type { EventFilter, EventStore, EventView } from '../events.js';
import type { PgExecutor } from './open.js';
import { events } from './schema.js';

/** `../events.ts` on PostgreSQL: the same query (`id` and `at` are bigint columns read as numbers). */
export class PgEventStore implements Pick<EventStore, keyof EventStore> {
  constructor(private readonly db: PgExecutor) {}

  /** Happenings that need a person (a webhook quarantined, a channel with no healthy webhook), newest first. */
  async list(f: EventFilter): Promise<EventView[]> {
    return this.db
      .select({ id: events.id, kind: events.kind, channel_id: events.channelId, webhook_id: events.webhookId, message: events.message, at: events.at })
      .from(events)
      .where(
        and(
          f.kind === undefined ? undefined : eq(events.kind, f.kind),
          f.channelId === undefined ? undefined : eq(events.channelId, f.channelId),
          f.beforeId === undefined ? undefined : lt(events.id, f.beforeId),
        ),
      )
      .orderBy(desc(events.id))
      .limit(f.limit);
  }
}
