import { ChannelType, InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { describeRoute, routeChoices, serviceChoices } from '../src/bot/autocomplete.js';
import { channelFor, channelMention } from '../src/bot/channels.js';
import { badInput, parseLabels, parseSeverities } from '../src/bot/input.js';
import { type BusinessHours, businessHoursInput, isTimeZone, parseHoursSpec } from '../src/domain/hours.js';
import type { CommandModule } from '../src/bot/types.js';
import { createRoute, deleteRoute, listRoutes } from '../src/services/routes.js';

export const route: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('route')
    .setDescription('Routing rules: which alerts go to which channel')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('add')
        .setDescription('Send alerts matching every given criterion to a channel')
        .addChannelOption((o) => o.setName('channel').setDescription('Where they go').setRequired(true).addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement))
        .addStringOption((o) => o.setName('service').setDescription('Service name or glob, e.g. payments-*').setAutocomplete(true).setMaxLength(200))
        .addStringOption((o) => o.setName('severities').setDescription('e.g. P0,P1').setMaxLength(20))
        .addStringOption((o) => o.setName('environment').setDescription('Exactly this environment, e.g. production').setMaxLength(100))
        .addStringOption((o) => o.setName('labels').setDescription('Every one of these labels, e.g. team=payments,region=eu').setMaxLength(1000))
        .addStringOption((o) => o.setName('hours').setDescription('Business hours, e.g. mon-fri 09:00-18:00 (outside them P2/P3 wait)').setMaxLength(100))
        .addStringOption((o) => o.setName('timezone').setDescription('Time zone of the hours, e.g. Europe/Berlin (default UTC)').setMaxLength(64))
        .addStringOption((o) =>
          o
            .setName('outside_hours')
            .setDescription('Outside business hours, P2/P3… (default: wait)')
            .addChoices({ name: 'wait until the hours open', value: 'wait' }, { name: 'go only to the daily digest', value: 'digest' }),
        )
        .addStringOption((o) => o.setName('auto_resolve_after').setDescription('Resolve its firing alerts as stale after no repeat for this long, e.g. 4h').setMaxLength(20))
        .addBooleanOption((o) => o.setName('threads').setDescription('Give each card a thread for its repeats, acknowledgement, resolve and escalation pings'))
        .addStringOption((o) => o.setName('group_by').setDescription('Group into incidents (one card each) by these labels, e.g. cluster,alertname (... = all)').setMaxLength(500))
        .addStringOption((o) => o.setName('group_wait').setDescription("How long an incident's first card waits for more, e.g. 30s (default 5s, 0: at once)").setMaxLength(20)),
    )
    .addSubcommand((s) => s.setName('list').setDescription('Every route, in the order they are evaluated'))
    .addSubcommand((s) =>
      s
        .setName('remove')
        .setDescription('Delete a route')
        .addIntegerOption((o) => o.setName('route').setDescription('The route').setRequired(true).setAutocomplete(true).setMinValue(1)),
    ),
  async execute(i, { herald }) {
    const sub = i.options.getSubcommand(true);
    if (sub === 'list') {
      const routes = await listRoutes(herald);
      if (routes.length === 0) return { content: 'No routes yet: alerts go to the default channel only. Add one with /route add or /subscribe.', ephemeral: true };
      const lines: string[] = [];
      for (const r of routes) lines.push(`• ${describeRoute(r, await channelMention(herald, r.channel_id))}`);
      return { content: lines.join('\n').slice(0, 2000), ephemeral: true };
    }
    if (sub === 'remove') {
      const id = i.options.getInteger('route', true);
      await deleteRoute(herald, id);
      return { content: `Route #${id} removed.` };
    }
    const target = i.options.getChannel('channel', true);
    const channel = await channelFor(herald, target.id);
    const severities = parseSeverities(i.options.getString('severities'));
    const labels = parseLabels(i.options.getString('labels'));
    const service = i.options.getString('service')?.trim() || undefined;
    const environment = i.options.getString('environment')?.trim() || undefined;
    const auto_resolve_after = i.options.getString('auto_resolve_after')?.trim() || undefined;
    const threads = i.options.getBoolean('threads') ?? undefined;
    const group_by = i.options.getString('group_by')?.split(',').map((l) => l.trim()).filter(Boolean);
    const group_wait = i.options.getString('group_wait')?.trim() || undefined;
    const business_hours = parseHoursOptions(i.options.getString('hours'), i.options.getString('timezone'), i.options.getString('outside_hours'));
    const { id } = await createRoute(herald, {
      channel_id: channel.id,
      ...(service ? { service } : {}),
      ...(severities ? { severities } : {}),
      ...(environment ? { environment } : {}),
      ...(labels ? { labels } : {}),
      ...(business_hours ? { business_hours } : {}),
      ...(auto_resolve_after ? { auto_resolve_after } : {}),
      ...(threads ? { threads } : {}),
      ...(group_by?.length ? { group_by } : {}),
      ...(group_wait ? { group_wait } : {}),
    });
    const view = (await listRoutes(herald)).find((r) => r.id === id)!;
    return { content: `Route added: ${describeRoute(view, await channelMention(herald, view.channel_id))}.` };
  },
  async autocomplete(i, { herald }) {
    const focused = i.options.getFocused(true);
    return focused.name === 'route' ? routeChoices(herald, String(focused.value)) : await serviceChoices(herald, String(focused.value));
  },
};

/** The hours, timezone and outside_hours options → a route's business hours (undefined: none given). */
export function parseHoursOptions(hours: string | null, timezone: string | null, outside: string | null): BusinessHours | undefined {
  if (!hours?.trim()) {
    if (timezone?.trim() || outside) throw badInput('hours', 'give the hours too, e.g. "mon-fri 09:00-18:00"');
    return undefined;
  }
  const spec = parseHoursSpec(hours);
  if ('error' in spec) throw badInput('hours', spec.error);
  const tz = timezone?.trim() || 'UTC';
  if (!isTimeZone(tz)) throw badInput('timezone', `"${tz}" is not a known IANA time zone, e.g. Europe/Berlin or America/New_York`);
  const parsed = businessHoursInput.safeParse({ ...spec, timezone: tz, outside: outside === 'digest' ? 'digest' : 'wait' });
  if (!parsed.success) throw badInput('hours', parsed.error.issues[0]!.message);
  return parsed.data;
}
