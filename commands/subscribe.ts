import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { serviceChoices } from '../src/bot/autocomplete.js';
import { channelFor } from '../src/bot/channels.js';
import { parseSeverities } from '../src/bot/input.js';
import type { CommandModule } from '../src/bot/types.js';
import { createRoute } from '../src/services/routes.js';

export const subscribe: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('subscribe')
    .setDescription("Send a service's alerts to this channel")
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('service').setDescription('Service name or glob, e.g. payments-*').setRequired(true).setAutocomplete(true).setMaxLength(200))
    .addStringOption((o) => o.setName('severities').setDescription('Only these, e.g. P0,P1 (default: all)').setMaxLength(20)),
  async execute(i, { herald }) {
    const channel = await channelFor(herald, i.channelId);
    const service = i.options.getString('service', true).trim();
    const severities = parseSeverities(i.options.getString('severities'));
    const { id } = await createRoute(herald, { channel_id: channel.id, service, ...(severities ? { severities } : {}) });
    return { content: `Alerts from **${service}**${severities ? ` (${severities.join(', ')})` : ''} now come to <#${i.channelId}> (route #${id}).` };
  },
  autocomplete: async (i, { herald }) => await serviceChoices(herald, i.options.getFocused()),
};
