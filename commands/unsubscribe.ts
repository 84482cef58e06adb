import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { channelFor, findChannel } from '../src/bot/channels.js';
import type { CommandModule } from '../src/bot/types.js';
import { refuseIfManaged } from '../src/domain/managed.js';
import { ServiceError } from '../src/services/errors.js';
import { deleteRoute, listRoutes } from '../src/services/routes.js';

export const unsubscribe: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('unsubscribe')
    .setDescription("Stop sending a service's alerts to this channel (all of them when no service is given)")
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('service').setDescription('The service (or glob) given to /subscribe').setAutocomplete(true).setMaxLength(200)),
  async execute(i, { herald }) {
    const channel = await channelFor(herald, i.channelId);
    const service = i.options.getString('service')?.trim();
    const mine = (await listRoutes(herald)).filter((r) => r.channel_id === channel.id && (service === undefined || r.service === service));
    if (mine.length === 0) {
      throw new ServiceError(404, 'not_found', `No route sends ${service ? `**${service}**` : 'anything'} to this channel; /route list shows every route.`);
    }
    // All or none: a route of the configuration file among them refuses the whole command before anything is removed.
    for (const r of mine) refuseIfManaged(r.managed_by, `route ${r.id}`);
    for (const r of mine) await deleteRoute(herald, r.id);
    return { content: `Removed ${mine.length} route${mine.length === 1 ? '' : 's'} to <#${i.channelId}>: ${mine.map((r) => `#${r.id} (${r.service ?? '*'})`).join(', ')}.` };
  },
  async autocomplete(i, { herald }) {
    const here = (await findChannel(herald, i.channelId))?.id;
    const typed = i.options.getFocused().toLowerCase();
    const services = (await listRoutes(herald))
      .filter((r) => r.channel_id === here && r.service !== null && r.service.toLowerCase().includes(typed))
      .map((r) => r.service!);
    return [...new Set(services)].slice(0, 25).map((s) => ({ name: s, value: s }));
  },
};
