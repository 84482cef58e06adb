import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { alertChoices } from '../src/bot/autocomplete.js';
import type { CommandModule } from '../src/bot/types.js';
import { findAlert, resolveAlert } from '../src/services/lifecycle.js';

export const resolve: CommandModule = {
  access: 'oncall',
  data: new SlashCommandBuilder()
    .setName('resolve')
    .setDescription('Mark an alert resolved (updates its messages everywhere)')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('alert').setDescription('Alert id (#12) or dedup key').setRequired(true).setAutocomplete(true).setMaxLength(255)),
  execute(i, ctx) {
    const id = findAlert(ctx.herald, i.options.getString('alert', true));
    const a = resolveAlert(ctx.herald, id, ctx.actor(i));
    return { content: `Alert #${a.id} "${a.title}" resolved by <@${i.user.id}>.` };
  },
  autocomplete: (i, { herald }) => alertChoices(herald, i),
};
