import { acknowledgeIncident, incidentCard, resolveIncident } from '../services/incidents.js';
import { muteIncidentOnce } from '../services/mutes.js';
import { cardUpdate } from './card-update.js';
import { requireAdminFor } from './mute-guard.js';
import type { ButtonHandler } from './router.js';

const unix = (ms: number) => Math.floor(ms / 1000);

/**
 * The buttons on an incident's card (custom_id `herald:incident-<action>:<incidentId>`; src/cards/buttons.ts).
 * Acknowledge and Resolve act on every firing member (each recorded on the member, every card of each
 * edited, the pressed one by the answer itself); Mute 1h mutes the group's later members (the incident's key,
 * its source only). The router has already checked the server, the person's role and that the press came
 * from one of this incident's cards. A press with nothing left to do changes nothing and says so to the
 * person alone.
 */
export const incidentButtons: Record<string, ButtonHandler> = {
  'incident-ack': async (i, incidentId, ctx) => {
    const { changed } = await acknowledgeIncident(ctx.herald, incidentId, ctx.actor(i), { skipMessageId: i.message.id });
    const card = cardUpdate(await incidentCard(ctx.herald, incidentId, i.message.id));
    if (changed.length) return { update: card };
    return { update: card, notice: `Incident #${incidentId} has no firing alert left to acknowledge; nothing was changed.` };
  },
  'incident-resolve': async (i, incidentId, ctx) => {
    const { changed } = await resolveIncident(ctx.herald, incidentId, ctx.actor(i), { skipMessageId: i.message.id });
    const card = cardUpdate(await incidentCard(ctx.herald, incidentId, i.message.id));
    if (changed.length) return { update: card };
    return { update: card, notice: `Incident #${incidentId} has no firing alert left to resolve; nothing was changed.` };
  },
  'incident-mute': async (i, incidentId, ctx) => {
    // Muting a group with a P0 in it takes an admin, as muting a P0 alert does.
    const worst = (await ctx.herald.store.incidents.summary(incidentId)).severity;
    if (worst !== null) requireAdminFor(i, ctx, { kind: 'alert', severity: worst });
    const { mute: m, created } = await muteIncidentOnce(ctx.herald, incidentId, 60, ctx.actor(i), { skipMessageId: i.message.id });
    const card = await incidentCard(ctx.herald, incidentId, i.message.id);
    if (!created) {
      return {
        update: cardUpdate(card, i.message.content),
        notice: `Incident #${incidentId} is already muted by mute #${m.id} until <t:${unix(m.expires_at)}:f> (by ${m.created_by}); nothing was changed. /unmute ${m.id} ends it.`,
      };
    }
    return { update: cardUpdate(card, `🔕 Later alerts of this incident muted for 1 hour by <@${i.user.id}> (until <t:${unix(m.expires_at)}:t>; /unmute ${m.id} ends it)`) };
  },
};
