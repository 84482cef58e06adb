import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { ACTABLE, alertChoices } from '../src/bot/autocomplete.js';
import { alreadyDone } from '../src/bot/already.js';
import type { CommandModule } from '../src/bot/types.js';
import { acknowledgeAlertOnce, findAlert } from '../src/services/lifecycle.js';

export const ack: CommandModule = {
  access: 'oncall',
  data: new SlashCommandBuilder()
    .setName('ack')
    .setDescription("Acknowledge an alert: you are on it (updates its messages everywhere)")
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('alert').setDescription('Alert id (#12) or dedup key').setRequired(true).setAutocomplete(true).setMaxLength(255)),
  async execute(i, ctx) {
    const id = await findAlert(ctx.herald, i.options.getString('alert', true));
    const o = await acknowledgeAlertOnce(ctx.herald, id, ctx.actor(i));
    // Done before (by someone else, or a second try): said to this person only, never announced again.
    if (!o.changed) return { content: alreadyDone(o, 'acknowledged'), ephemeral: true };
    return { content: `Alert #${o.alert.id} "${o.alert.title}" acknowledged by <@${i.user.id}>.` };
  },
  autocomplete: (i, { herald }) => alertChoices(herald, i, ACTABLE.ack),
};
