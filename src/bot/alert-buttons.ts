import { acknowledgeAlertOnce, alertCard, resolveAlertOnce } from '../services/lifecycle.js';
import { muteAlertOnce } from '../services/mutes.js';
import { getAlert } from '../services/alerts.js';
import { alreadyDone, alreadyMuted } from './already.js';
import { cardUpdate } from './card-update.js';
import { requireAdminFor } from './mute-guard.js';
import type { ButtonHandler } from './router.js';

/**
 * The buttons on alerts (custom_id `herald:<action>:<alertId>`). Each records the action through the
 * lifecycle services, which queue edits of the alert's other messages; the pressed one is updated by
 * the answer itself (skipMessageId). A press that finds its action already done (a stale card, a
 * double click) changes nothing: the pressed card is brought up to date, keeping what its message said,
 * and only the person is told (an ephemeral follow-up naming who did it and when).
 */
export const alertButtons: Record<string, ButtonHandler> = {
  ack: async (i, alertId, ctx) => {
    const o = await acknowledgeAlertOnce(ctx.herald, alertId, ctx.actor(i), { skipMessageId: i.message.id });
    if (o.changed) return { update: cardUpdate(await alertCard(ctx.herald, alertId)) };
    return { update: cardUpdate(await alertCard(ctx.herald, alertId), i.message.content), notice: alreadyDone(o, 'acknowledged') };
  },
  resolve: async (i, alertId, ctx) => {
    const o = await resolveAlertOnce(ctx.herald, alertId, ctx.actor(i), { skipMessageId: i.message.id });
    if (o.changed) return { update: cardUpdate(await alertCard(ctx.herald, alertId)) };
    return { update: cardUpdate(await alertCard(ctx.herald, alertId), i.message.content), notice: alreadyDone(o, 'resolved') };
  },
  mute: async (i, alertId, ctx) => {
    requireAdminFor(i, ctx, { kind: 'alert', severity: (await getAlert(ctx.herald, alertId)).severity });
    const { mute: m, created } = await muteAlertOnce(ctx.herald, alertId, 60, ctx.actor(i), { skipMessageId: i.message.id });
    if (!created) return { update: cardUpdate(await alertCard(ctx.herald, alertId), i.message.content), notice: alreadyMuted(alertId, m) };
    return { update: cardUpdate(await alertCard(ctx.herald, alertId), `🔕 Muted for 1 hour by <@${i.user.id}> (until <t:${Math.floor(m.expires_at / 1000)}:t>; /unmute ${m.id} ends it)`) };
  },
};
