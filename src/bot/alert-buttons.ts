// @ts-nocheck: pending the lifecycle services (branch lifecycle); wired into buttons.ts when they land on main.
import type { InteractionUpdateOptions } from 'discord.js';
import { renderAlertCard, renderMessage } from '../delivery/render.js';
import { acknowledgeAlert, resolveAlert } from '../services/lifecycle.js';
import { muteAlert } from '../services/mutes.js';
import type { ButtonHandler } from './router.js';
import type { BotContext } from './types.js';

/**
 * The pressed message as it is now (after the action), for an in-place update (interaction type 7).
 * Rendered by the same code that posts and edits alert cards, so it looks like every other edit.
 */
function current(ctx: BotContext, messageId: string, note?: string): InteractionUpdateOptions {
  const username = ctx.herald.config.delivery.username;
  const shown = ctx.herald.ops.alertsOf(messageId);
  const m = shown.length === 1 ? renderAlertCard(shown[0]!, { username, buttons: true }) : renderMessage(shown.slice(0, 10), { username });
  const content = [m.content, note].filter(Boolean).join('\n');
  return { content, embeds: m.embeds as InteractionUpdateOptions['embeds'], components: (m.components ?? []) as InteractionUpdateOptions['components'], allowedMentions: { parse: [] } };
}

/**
 * The buttons on alerts (custom_id `herald:<action>:<alertId>`). Each records the action through the
 * lifecycle services, which queue edits of the alert's other messages; the pressed one is updated by
 * the answer itself (skipMessageId).
 */
export const alertButtons: Record<string, ButtonHandler> = {
  ack: (i, alertId, ctx) => {
    acknowledgeAlert(ctx.herald, alertId, ctx.actor(i), { skipMessageId: i.message.id });
    return current(ctx, i.message.id);
  },
  resolve: (i, alertId, ctx) => {
    resolveAlert(ctx.herald, alertId, ctx.actor(i), { skipMessageId: i.message.id });
    return current(ctx, i.message.id);
  },
  mute: (i, alertId, ctx) => {
    const m = muteAlert(ctx.herald, alertId, 60, ctx.actor(i));
    return current(ctx, i.message.id, `🔕 Muted for 1 hour by <@${i.user.id}> (until <t:${Math.floor(m.expires_at / 1000)}:t>; /unmute ${m.id} ends it)`);
  },
};
