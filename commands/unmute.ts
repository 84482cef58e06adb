import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import type { CommandModule } from '../src/bot/types.js';
import { deleteMute, listMutes } from '../src/services/mutes.js';

export const unmute: CommandModule = {
  access: 'oncall',
  data: new SlashCommandBuilder()
    .setName('unmute')
    .setDescription('End a mute now')
    .setContexts(InteractionContextType.Guild)
    .addIntegerOption((o) => o.setName('mute').setDescription('The mute (see /mutes)').setRequired(true).setAutocomplete(true).setMinValue(1)),
  async execute(i, { herald, actor }) {
    const id = i.options.getInteger('mute', true);
    await deleteMute(herald, id, actor(i));
    return { content: `Mute #${id} ended by <@${i.user.id}>; matching alerts are delivered again.` };
  },
  async autocomplete(i, { herald }) {
    const typed = String(i.options.getFocused()).toLowerCase();
    return (await listMutes(herald, { active: true }))
      .map((m) => ({ name: `#${m.id} ${m.service ?? (m.route_id !== null ? `route #${m.route_id}` : m.dedup_key)}${m.reason ? ` (${m.reason})` : ''}`, value: m.id }))
      .filter((c) => c.name.toLowerCase().includes(typed));
  },
};
