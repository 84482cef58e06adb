import { and, desc, eq, lt } from 'drizzle-orm';
import type { Db } from './sqlite/open.js';
import { events } from './sqlite/schema.js';

export interface EventView {
  id: number;
  kind: string;
  channel_id: number | null;
  webhook_id: number | null;
  message: string;
  at: number;
}

export interface EventFilter {
  limit: number;
  kind?: string;
  channelId?: number;
  beforeId?: number;
}

/** Admin-visible events (events): what needs a person. */
export class EventStore {
  constructor(private readonly db: Db) {}

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
      .limit(f.limit)
      .all();
  }
}
