import { and, desc, eq, lt } from 'drizzle-orm';
import { events } from '../db/schema.js';
import type { Herald } from '../herald.js';
import type { EventView } from './views.js';

export interface EventFilter {
  limit: number;
  kind?: string;
  channelId?: number;
  beforeId?: number;
}

/** Happenings that need a person (a webhook quarantined, a channel with no healthy webhook), newest first. */
export function listEvents(h: Pick<Herald, 'db'>, f: EventFilter): EventView[] {
  return h.db
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
