import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import type { CommandModule } from '../src/bot/types.js';
import { getStatus } from '../src/services/status.js';

const ts = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;

export const status: CommandModule = {
  access: 'member',
  data: new SlashCommandBuilder().setName('status').setDescription("Herald's delivery at a glance").setContexts(InteractionContextType.Guild),
  async execute(_i, { herald }) {
    const s = await getStatus(herald);
    const q = s.queue_depth_by_priority;
    const last = await herald.store.deliveries.lastSentAt();
    const breakers = Object.entries(s.breakers).map(([k, v]) => `${k} ${v}`).join(', ') || 'no webhooks';
    const lines = [
      `**Queue** P0 ${q.P0} · P1 ${q.P1} · P2 ${q.P2} · P3 ${q.P3}`,
      `**Breakers** ${breakers}`,
      `**Dead letters** ${s.dead_letters_pending} pending${s.dead_letters_pending ? ' (see /deadletters list)' : ''}`,
      `**Last delivery** ${last ? ts(last) : 'none yet'}`,
      ...s.lanes.filter((l) => l.backlog > 0).slice(0, 10).map((l) => `• channel ${l.channel_id}: ${l.backlog} queued, ${l.webhooks} webhooks, ${l.budget.in_window}/${l.budget.effective_cap} in window`),
    ];
    return { content: lines.join('\n'), ephemeral: true };
  },
};
