import { z } from 'zod';
import { refuseIfManaged } from '../domain/managed.js';
import { discordIdSchema } from '../discord/ids.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { Store } from '../store/index.js';
import { notFound } from './errors.js';
import type { ChannelView } from './views.js';
export type { ChannelView } from './views.js';

export const channelInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('A unique name, e.g. "payments-alerts"'),
  discord_channel_id: discordIdSchema.describe('The Discord channel id (right click → Copy Channel ID)'),
  default: z.boolean().optional().describe('Alerts that no route matches go to the default channel; only one channel is default (409 if another one is, unless move_default)'),
  move_default: z.boolean().optional().describe('With default: true, take the default over from the channel that has it (without it, that is refused with 409)'),
  kind: z.enum(['text', 'forum']).optional().describe('text (the default) or forum: in a forum channel every card is a post (thread) of its own, its follow-ups inside it'),
});
export type ChannelInput = z.output<typeof channelInput>;

export const channelUpdate = z
  .strictObject({
    default: z.boolean().optional().describe('Make this channel the default, or stop it being the default; while another channel is the default, true is refused (409) unless move_default'),
    move_default: z.boolean().optional().describe('With default: true, take the default over from the channel that has it'),
    kind: z.enum(['text', 'forum']).optional().describe('text or forum (as the channel is on Discord): in a forum every card opens a post of its own'),
  })
  .refine((u) => u.default !== undefined || u.kind !== undefined, 'give default, kind or both');
export type ChannelUpdate = z.output<typeof channelUpdate>;

/** The channels store refreshes routing (the default channel) itself; delivery is told of a deleted channel's pool here. */
type Deps = { store: Pick<Store, 'channels'>; signals: Pick<CommitSignals, 'poolChanged'> };
type ReadDeps = { store: Pick<Store, 'channels'> };

export async function createChannel(h: Deps, input: ChannelInput): Promise<{ id: number }> {
  return { id: await h.store.channels.create({ name: input.name, discordChannelId: input.discord_channel_id, isDefault: input.default ?? false, moveDefault: input.move_default, kind: input.kind }) };
}

export async function updateChannel(h: Deps, id: number, input: ChannelUpdate): Promise<ChannelView> {
  refuseIfManaged(await h.store.channels.managedBy(id), `channel ${id}`);
  if (input.default !== undefined) await h.store.channels.setDefault(id, input.default, input.move_default);
  if (input.kind !== undefined) await h.store.channels.setKind(id, input.kind);
  return getChannel(h, id);
}

export async function getChannel(h: ReadDeps, id: number): Promise<ChannelView> {
  const view = (await h.store.channels.views([id]))[0];
  if (!view) throw notFound('channel', id);
  return view;
}

export function listChannels(h: ReadDeps): Promise<ChannelView[]> {
  return h.store.channels.views();
}

/** Deletes a channel with its webhooks, routes and queued deliveries. */
export async function deleteChannel(h: Deps, id: number): Promise<void> {
  refuseIfManaged(await h.store.channels.managedBy(id), `channel ${id}`);
  await h.store.channels.delete(id);
  h.signals.poolChanged(id);
}
