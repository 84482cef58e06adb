import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import type { CommandModule } from '../src/bot/types.js';
import { listMutes } from '../src/services/mutes.js';
import { describeMute } from './mute.js';

export const mutes: CommandModule = {
  access: 'member',
  data: new SlashCommandBuilder().setName('mutes').setDescription('Mutes in force').setContexts(InteractionContextType.Guild),
  async execute(_i, { herald }) {
    const active = await listMutes(herald, { active: true });
    if (active.length === 0) return { content: 'No mutes in force.', ephemeral: true };
    return { content: active.map((m) => `• ${describeMute(m)}`).join('\n').slice(0, 2000), ephemeral: true };
  },
};
