import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { ACTABLE, alertChoices } from '../src/bot/autocomplete.js';
import { alreadyDone } from '../src/bot/already.js';
import type { CommandModule } from '../src/bot/types.js';
import { findAlert, resolveAlertOnce } from '../src/services/lifecycle.js';

export const resolve: CommandModule = {
  access: 'oncall',
  data: new SlashCommandBuilder()
    .setName('resolve')
    .setDescription('Mark an alert resolved (updates its messages everywhere)')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('alert').setDescription('Alert id (#12) or dedup key').setRequired(true).setAutocomplete(true).setMaxLength(255)),
  async execute(i, ctx) {
    const id = await findAlert(ctx.herald, i.options.getString('alert', true));
    const o = await resolveAlertOnce(ctx.herald, id, ctx.actor(i));
    // Done before (by someone else, or a second try): said to this person only, never announced again.
    if (!o.changed) return { content: alreadyDone(o, 'resolved'), ephemeral: true };
    return { content: `Alert #${o.alert.id} "${o.alert.title}" resolved by <@${i.user.id}>.` };
  },
  autocomplete: (i, { herald }) => alertChoices(herald, i, ACTABLE.resolve),
};
