import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { channelMention } from '../src/bot/channels.js';
import type { CommandModule } from '../src/bot/types.js';
import { listDeadLetters, replayDeadLetter } from '../src/services/dead-letters.js';

export const deadletters: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('deadletters')
    .setDescription('Deliveries Herald gave up on')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('list')
        .setDescription('The newest dead letters')
        .addBooleanOption((o) => o.setName('all').setDescription('Include replayed ones (default: pending only)')),
    )
    .addSubcommand((s) =>
      s
        .setName('replay')
        .setDescription('Queue a dead delivery again')
        .addIntegerOption((o) => o.setName('id').setDescription('The dead letter').setRequired(true).setAutocomplete(true).setMinValue(1)),
    ),
  async execute(i, { herald }) {
    if (i.options.getSubcommand(true) === 'replay') {
      const id = i.options.getInteger('id', true);
      const r = await replayDeadLetter(herald, id);
      return { content: `Dead letter #${id} queued again (delivery #${r.delivery_id}).` };
    }
    const rows = await listDeadLetters(herald, { limit: 15, pending: !i.options.getBoolean('all') });
    if (rows.length === 0) return { content: 'No dead letters pending.', ephemeral: true };
    const lines: string[] = [];
    for (const d of rows)
      lines.push(`• #${d.id} ${d.alert_id === null ? 'digest' : `alert #${d.alert_id} ${d.severity} "${(d.alert_title ?? '').slice(0, 60)}"`} → ${await channelMention(herald, d.channel_id)}: ${d.reason.slice(0, 120)}${d.replayed_at ? ' (replayed)' : ''}`);
    return { content: lines.join('\n').slice(0, 2000), ephemeral: true };
  },
  async autocomplete(i, { herald }) {
    const typed = String(i.options.getFocused());
    return (await listDeadLetters(herald, { limit: 25, pending: true }))
      .map((d) => ({ name: d.alert_id === null ? `#${d.id} digest` : `#${d.id} alert #${d.alert_id}: ${d.alert_title}`, value: d.id }))
      .filter((c) => c.name.toLowerCase().includes(typed.toLowerCase()));
  },
};
