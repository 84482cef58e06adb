import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { alertChoices } from '../src/bot/autocomplete.js';
import type { CommandModule } from '../src/bot/types.js';
import { acknowledgeAlert, findAlert } from '../src/services/lifecycle.js';

export const ack: CommandModule = {
  access: 'oncall',
  data: new SlashCommandBuilder()
    .setName('ack')
    .setDescription("Acknowledge an alert: you are on it (updates its messages everywhere)")
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('alert').setDescription('Alert id (#12) or dedup key').setRequired(true).setAutocomplete(true).setMaxLength(255)),
  execute(i, ctx) {
    const id = findAlert(ctx.herald, i.options.getString('alert', true));
    const a = acknowledgeAlert(ctx.herald, id, ctx.actor(i));
    return { content: `Alert #${a.id} "${a.title}" acknowledged by <@${i.user.id}>.` };
  },
  autocomplete: (i, { herald }) => alertChoices(herald, i),
};
