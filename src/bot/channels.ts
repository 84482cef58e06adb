import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { Store } from '../store/index.js';
import { createChannel, listChannels, type ChannelView } from '../services/channels.js';
import { ServiceError } from '../services/errors.js';

type ReadDeps = { store: Pick<Store, 'channels'> };
type Deps = ReadDeps & { signals: Pick<CommitSignals, 'poolChanged'> };

/**
 * A Herald channel as Discord shows it in an answer: its mention (`<#id>`, which Discord renders as
 * "#ops" and never pings), not Herald's internal id; `channel #N` only if the channel is gone.
 */
export async function channelMention(h: ReadDeps, channelId: number): Promise<string> {
  const c = (await listChannels(h)).find((x) => x.id === channelId);
  return c ? `<#${c.discord_channel_id}>` : `channel #${channelId}`;
}

/** The Herald channel for a Discord channel id, if any. */
export async function findChannel(h: ReadDeps, discordChannelId: string): Promise<ChannelView | undefined> {
  return (await listChannels(h)).find((c) => c.discord_channel_id === discordChannelId);
}

/** The Herald channel for the Discord channel the command ran in (or the one given); 404 with what to do otherwise. */
export async function channelFor(h: ReadDeps, discordChannelId: string): Promise<ChannelView> {
  const c = await findChannel(h, discordChannelId);
  if (!c) {
    throw new ServiceError(
      404,
      'not_found',
      `<#${discordChannelId}> is not set up in Herald yet: run /webhooks create there (or /webhooks add-url) to give it a webhook first.`,
    );
  }
  return c;
}

/** The Herald channel for this Discord channel, created (named after it) when there is none. */
export async function ensureChannel(h: Deps, i: ChatInputCommandInteraction, discordChannelId: string): Promise<ChannelView> {
  const existing = await findChannel(h, discordChannelId);
  if (existing) return existing;
  const discordName = i.channelId === discordChannelId && i.channel && 'name' in i.channel && i.channel.name ? i.channel.name : `discord-${discordChannelId}`;
  const taken = new Set((await listChannels(h)).map((c) => c.name));
  const name = taken.has(discordName) ? `${discordName}-${discordChannelId.slice(-6)}` : discordName;
  await createChannel(h, { name: name.slice(0, 100), discord_channel_id: discordChannelId });
  return await channelFor(h, discordChannelId);
}

/** The channel option when given, else the channel the command ran in. */
export function targetChannelId(i: ChatInputCommandInteraction, option = 'channel'): string {
  return i.options.getChannel(option, false)?.id ?? i.channelId;
}
