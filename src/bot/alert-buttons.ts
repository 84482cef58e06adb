// @ts-nocheck: pending the lifecycle services (branch lifecycle); wired into buttons.ts when they land on main.
import type { InteractionUpdateOptions } from 'discord.js';
import { renderAlertCard } from '../delivery/render.js';
import { getAlert } from '../services/alerts.js';
import { acknowledgeAlert, resolveAlert } from '../services/lifecycle.js';
import { muteAlert } from '../services/mutes.js';
import type { ButtonHandler } from './router.js';
import type { BotContext } from './types.js';

/** The alert's card as it is now, for an in-place update (interaction type 7). */
function card(ctx: BotContext, alert: Parameters<typeof renderAlertCard>[0], note?: string): InteractionUpdateOptions {
  const m = renderAlertCard(alert, { username: ctx.herald.config.delivery.username, buttons: true });
  const content = [m.content, note].filter(Boolean).join('\n');
  return { content, embeds: m.embeds ?? [], components: m.components ?? [], allowedMentions: { parse: [] } };
}

/**
 * The buttons on alerts. Each records the action through the lifecycle services, which edit the alert's
 * other messages through the outbox; this message (the one pressed) is updated by the answer itself.
 */
export const alertButtons: Record<string, ButtonHandler> = {
  ack: (i, alertId, ctx) => card(ctx, acknowledgeAlert(ctx.herald, alertId, ctx.actor(i), { skipMessageId: i.message.id })),
  resolve: (i, alertId, ctx) => card(ctx, resolveAlert(ctx.herald, alertId, ctx.actor(i), { skipMessageId: i.message.id })),
  mute: (i, alertId, ctx) => {
    const m = muteAlert(ctx.herald, alertId, 60, ctx.actor(i));
    return card(ctx, getAlert(ctx.herald, alertId), `🔕 Muted for 1 hour by <@${i.user.id}> (until <t:${Math.floor(m.expires_at / 1000)}:t>; /unmute ${m.id} ends it).`);
  },
};
