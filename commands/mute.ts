import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { standardChoices } from '../src/bot/autocomplete.js';
import { badInput, parseDuration } from '../src/bot/input.js';
import { requireAdminFor } from '../src/bot/mute-guard.js';
import type { CommandModule } from '../src/bot/types.js';
import { getAlert } from '../src/services/alerts.js';
import { findAlert } from '../src/services/lifecycle.js';
import { listRoutes } from '../src/services/routes.js';
import { alreadyMuted } from '../src/bot/already.js';
import { createMute, muteAlertOnce, muteInput, type MuteView } from '../src/services/mutes.js';

export function describeMute(m: MuteView): string {
  const what =
    m.service !== null
      ? `service ${m.service}`
      : m.route_id !== null
        ? `route #${m.route_id}`
        : `dedup key ${m.dedup_key}${m.source_id !== null ? ` from source #${m.source_id}` : ''}`;
  return `#${m.id} ${what} until <t:${Math.floor(m.expires_at / 1000)}:f>${m.reason ? ` (${m.reason})` : ''}, by ${m.created_by}`;
}

export const mute: CommandModule = {
  access: 'oncall',
  data: new SlashCommandBuilder()
    .setName('mute')
    .setDescription('Stop delivering matching alerts for a while (they are still recorded)')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('duration').setDescription('e.g. 30m, 2h, 1d (at most 30 days)').setRequired(true).setMaxLength(10))
    .addStringOption((o) => o.setName('service').setDescription('A service name or glob').setAutocomplete(true).setMaxLength(200))
    .addIntegerOption((o) => o.setName('route').setDescription('A route').setAutocomplete(true).setMinValue(1))
    .addStringOption((o) => o.setName('alert').setDescription("An alert: its dedup key (from its source) is muted").setAutocomplete(true).setMaxLength(255))
    .addStringOption((o) => o.setName('reason').setDescription('Why (shown in /mutes)').setMaxLength(500)),
  async execute(i, ctx) {
    const minutes = parseDuration(i.options.getString('duration', true));
    const service = i.options.getString('service')?.trim() || undefined;
    const routeId = i.options.getInteger('route') ?? undefined;
    const alertRef = i.options.getString('alert')?.trim() || undefined;
    const reason = i.options.getString('reason')?.trim() || undefined;
    const given = [service, routeId, alertRef].filter((v) => v !== undefined).length;
    if (given !== 1) throw badInput('service/route/alert', 'give exactly one of service, route or alert');
    let m: MuteView;
    if (alertRef !== undefined) {
      const alertId = await findAlert(ctx.herald, alertRef);
      const target = await getAlert(ctx.herald, alertId);
      requireAdminFor(i, ctx, { kind: 'alert', severity: target.severity });
      // Like the card's "Mute 1h": the alert's dedup key from its own source, or its service and title.
      const made = await muteAlertOnce(ctx.herald, alertId, minutes, ctx.actor(i), reason ? { reason } : {});
      if (!made.created) return { content: alreadyMuted(alertId, made.mute), ephemeral: true };
      m = made.mute;
    } else {
      if (service !== undefined) requireAdminFor(i, ctx, { kind: 'service', glob: service });
      else {
        // An unknown route is left to createMute, which names it.
        const route = (await listRoutes(ctx.herald)).find((r) => r.id === routeId);
        if (route) requireAdminFor(i, ctx, { kind: 'route', service: route.service });
      }
      const parsed = muteInput.safeParse({
        ...(service !== undefined ? { service } : { route_id: routeId }),
        duration_minutes: minutes,
        ...(reason ? { reason } : {}),
      });
      if (!parsed.success) throw badInput(String(parsed.error.issues[0]?.path[0] ?? 'mute'), parsed.error.issues[0]?.message ?? 'invalid');
      m = await createMute(ctx.herald, parsed.data, ctx.actor(i));
    }
    return { content: `Muted: ${describeMute(m)}.` };
  },
  autocomplete: (i, { herald }) => standardChoices(i, herald),
};
