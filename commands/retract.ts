import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { ACTABLE, alertChoices } from '../src/bot/autocomplete.js';
import type { CommandModule } from '../src/bot/types.js';
import { findAlert, retractAlert } from '../src/services/lifecycle.js';

export const retract: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('retract')
    .setDescription('Take an alert back: every message of it, in every channel, is deleted or struck through')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('alert').setDescription('Alert id (#12) or dedup key').setRequired(true).setAutocomplete(true).setMaxLength(255))
    .addStringOption((o) =>
      o.setName('mode').setDescription('Default: strike through').addChoices({ name: 'strike through', value: 'strike' }, { name: 'delete', value: 'delete' }),
    )
    .addStringOption((o) => o.setName('reason').setDescription('Shown on struck-through messages and recorded').setMaxLength(500)),
  async execute(i, ctx) {
    const id = await findAlert(ctx.herald, i.options.getString('alert', true));
    const mode = (i.options.getString('mode') ?? 'strike') as 'strike' | 'delete';
    const reason = i.options.getString('reason')?.trim() || undefined;
    const r = await retractAlert(ctx.herald, id, { mode, by: ctx.actor(i), ...(reason ? { reason } : {}) });
    const what = mode === 'delete' ? 'deleted' : 'struck through';
    return {
      content: `Alert #${r.alert_id} retracted by <@${i.user.id}>: ${r.messages} message${r.messages === 1 ? '' : 's'} will be ${what}${r.cancelled ? `, ${r.cancelled} queued deliveries cancelled` : ''}${reason ? ` (reason: ${reason})` : ''}.`,
    };
  },
  autocomplete: (i, { herald }) => alertChoices(herald, i, ACTABLE.retract),
};
