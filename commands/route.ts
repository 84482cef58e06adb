import { ChannelType, InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { describeRoute, routeChoices, serviceChoices } from '../src/bot/autocomplete.js';
import { channelFor } from '../src/bot/channels.js';
import { parseLabels, parseSeverities } from '../src/bot/input.js';
import type { CommandModule } from '../src/bot/types.js';
import { createRoute, deleteRoute, listRoutes } from '../src/services/routes.js';

export const route: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('route')
    .setDescription('Routing rules: which alerts go to which channel')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('add')
        .setDescription('Send alerts matching every given criterion to a channel')
        .addChannelOption((o) => o.setName('channel').setDescription('Where they go').setRequired(true).addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement))
        .addStringOption((o) => o.setName('service').setDescription('Service name or glob, e.g. payments-*').setAutocomplete(true).setMaxLength(200))
        .addStringOption((o) => o.setName('severities').setDescription('e.g. P0,P1').setMaxLength(20))
        .addStringOption((o) => o.setName('environment').setDescription('Exactly this environment, e.g. production').setMaxLength(100))
        .addStringOption((o) => o.setName('labels').setDescription('Every one of these labels, e.g. team=payments,region=eu').setMaxLength(1000)),
    )
    .addSubcommand((s) => s.setName('list').setDescription('Every route, in the order they are evaluated'))
    .addSubcommand((s) =>
      s
        .setName('remove')
        .setDescription('Delete a route')
        .addIntegerOption((o) => o.setName('route').setDescription('The route').setRequired(true).setAutocomplete(true).setMinValue(1)),
    ),
  execute(i, { herald }) {
    const sub = i.options.getSubcommand(true);
    if (sub === 'list') {
      const routes = listRoutes(herald);
      if (routes.length === 0) return { content: 'No routes yet: alerts go to the default channel only. Add one with /route add or /subscribe.', ephemeral: true };
      return { content: routes.map((r) => `• ${describeRoute(r)}`).join('\n').slice(0, 2000), ephemeral: true };
    }
    if (sub === 'remove') {
      const id = i.options.getInteger('route', true);
      deleteRoute(herald, id);
      return { content: `Route #${id} removed.` };
    }
    const target = i.options.getChannel('channel', true);
    const channel = channelFor(herald, target.id);
    const severities = parseSeverities(i.options.getString('severities'));
    const labels = parseLabels(i.options.getString('labels'));
    const service = i.options.getString('service')?.trim() || undefined;
    const environment = i.options.getString('environment')?.trim() || undefined;
    const { id } = createRoute(herald, {
      channel_id: channel.id,
      ...(service ? { service } : {}),
      ...(severities ? { severities } : {}),
      ...(environment ? { environment } : {}),
      ...(labels ? { labels } : {}),
    });
    const view = listRoutes(herald).find((r) => r.id === id)!;
    return { content: `Route added: ${describeRoute(view)}.` };
  },
  autocomplete(i, { herald }) {
    const focused = i.options.getFocused(true);
    return focused.name === 'route' ? routeChoices(herald, String(focused.value)) : serviceChoices(herald, String(focused.value));
  },
};
