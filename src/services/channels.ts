import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { channels, webhooks } from '../db/schema.js';
import { discordIdSchema } from '../discord/ids.js';
import type { Herald } from '../herald.js';
import { conflict, isUniqueViolation, notFound } from './errors.js';
import type { ChannelView } from './views.js';
export type { ChannelView } from './views.js';

export const channelInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('A unique name, e.g. "payments-alerts"'),
  discord_channel_id: discordIdSchema.describe('The Discord channel id (right click → Copy Channel ID)'),
  default: z.boolean().optional().describe('Alerts that no route matches go to the default channel; only one channel is default (409 if another one is, unless move_default)'),
  move_default: z.boolean().optional().describe('With default: true, take the default over from the channel that has it (without it, that is refused with 409)'),
});
export type ChannelInput = z.output<typeof channelInput>;

export const channelUpdate = z.strictObject({
  default: z.boolean().describe('Make this channel the default, or stop it being the default; while another channel is the default, true is refused (409) unless move_default'),
  move_default: z.boolean().optional().describe('With default: true, take the default over from the channel that has it'),
});
export type ChannelUpdate = z.output<typeof channelUpdate>;

type Deps = Pick<Herald, 'db' | 'outbox' | 'routes' | 'scheduler'>;

/**
 * Only one channel is the default. Taking the default from another channel silently reroutes every
 * unrouted alert, so it is done only when the request says so (`move_default`); otherwise a 409 names
 * the current default. Call inside the transaction that sets the new default.
 */
function takeDefault(tx: Pick<Herald['db'], 'select' | 'update'>, newDefaultId: number | null, move: boolean | undefined): void {
  const current = tx
    .select({ id: channels.id, name: channels.name })
    .from(channels)
    .where(newDefaultId === null ? eq(channels.isDefault, true) : and(eq(channels.isDefault, true), ne(channels.id, newDefaultId)))
    .get();
  if (!current) return;
  if (!move) {
    throw conflict(`channel "${current.name}" (id ${current.id}) is already the default; send "move_default": true to make this channel the default instead`);
  }
  tx.update(channels).set({ isDefault: false }).where(eq(channels.id, current.id)).run();
}

export function createChannel(h: Deps, input: ChannelInput): { id: number } {
  const taken = () => conflict(`a channel named "${input.name}" already exists`);
  if (h.db.select({ id: channels.id }).from(channels).where(eq(channels.name, input.name)).get()) throw taken();
  let id: number;
  try {
    id = h.db.transaction((tx) => {
      if (input.default) takeDefault(tx, null, input.move_default);
      return tx
        .insert(channels)
        .values({ name: input.name, discordChannelId: input.discord_channel_id, isDefault: input.default ?? false })
        .returning({ id: channels.id })
        .get().id;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw taken();
    throw err;
  }
  h.routes.reload();
  return { id };
}

export function updateChannel(h: Deps, id: number, input: ChannelUpdate): ChannelView {
  h.db.transaction((tx) => {
    if (!tx.select({ id: channels.id }).from(channels).where(eq(channels.id, id)).get()) throw notFound('channel', id);
    if (input.default) takeDefault(tx, id, input.move_default);
    tx.update(channels).set({ isDefault: input.default }).where(eq(channels.id, id)).run();
  });
  h.routes.reload();
  return getChannel(h, id);
}

export function getChannel(h: Pick<Herald, 'db' | 'outbox'>, id: number): ChannelView {
  const view = channelViews(h, [id])[0];
  if (!view) throw notFound('channel', id);
  return view;
}

export function listChannels(h: Pick<Herald, 'db' | 'outbox'>): ChannelView[] {
  return channelViews(h);
}

/** Deletes a channel with its webhooks, routes and queued deliveries. */
export function deleteChannel(h: Deps, id: number): void {
  const n = h.db.delete(channels).where(eq(channels.id, id)).run().changes;
  if (!n) throw notFound('channel', id);
  h.routes.reload();
  h.scheduler.reloadPool(id);
}

function channelViews(h: Pick<Herald, 'db' | 'outbox'>, ids?: number[]): ChannelView[] {
  const rows = h.db
    .select()
    .from(channels)
    .where(ids ? inArray(channels.id, ids) : undefined)
    .orderBy(asc(channels.id))
    .all();
  if (rows.length === 0) return [];
  const hooks = new Map<string, number>();
  for (const r of h.db
    .select({ channelId: webhooks.channelId, state: webhooks.state, n: sql<number>`count(*)` })
    .from(webhooks)
    .groupBy(webhooks.channelId, webhooks.state)
    .all()) {
    hooks.set(`${r.channelId}:${r.state}`, r.n);
  }
  const backlog = h.outbox.pendingByChannel();
  return rows.map((c) => ({
    id: c.id,
    name: c.name,
    discord_channel_id: c.discordChannelId,
    default: c.isDefault,
    created_at: c.createdAt,
    webhooks: { active: hooks.get(`${c.id}:active`) ?? 0, quarantined: hooks.get(`${c.id}:quarantined`) ?? 0 },
    backlog: backlog.get(c.id) ?? 0,
  }));
}
