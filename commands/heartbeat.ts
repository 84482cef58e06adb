import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { choiceName } from '../src/bot/autocomplete.js';
import { badInput, parseId } from '../src/bot/input.js';
import type { CommandModule } from '../src/bot/types.js';
import { SEVERITIES } from '../src/domain/alert.js';
import { formatDuration } from '../src/domain/duration.js';
import { listSources } from '../src/services/sources.js';
import type { HeartbeatView } from '../src/services/views.js';

/** One heartbeat in one line: "nightly-backup (backups) every 1 d + 1 h grace, P1: ok, due <t:…:R>". */
export function describeHeartbeat(h: HeartbeatView): string {
  const grace = h.grace_ms ? ` + ${formatDuration(h.grace_ms)} grace` : '';
  const state = h.state === 'missed' ? `**missed** (alert #${h.alert_id ?? '?'})` : h.last_beat_at === null ? 'no beat yet' : 'ok';
  return `#${h.id} **${h.name}** (${h.source_name}) every ${formatDuration(h.interval_ms)}${grace}, ${h.severity}: ${state}, due <t:${Math.floor(h.due_at / 1000)}:R>`;
}

export const heartbeat: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('heartbeat')
    .setDescription("Heartbeats (dead man's switches): an alert when a job stops checking in")
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('add')
        .setDescription('Expect a beat (POST /v1/heartbeats/<name>) at least this often; raise an alert when none comes')
        .addStringOption((o) => o.setName('name').setDescription("Unique per source; a job scheduler's job name to count its on_success").setRequired(true).setMaxLength(200))
        .addStringOption((o) => o.setName('every').setDescription('How often a beat comes, e.g. 5m, 1h, 1d (at least 10s)').setRequired(true).setMaxLength(20))
        .addStringOption((o) => o.setName('grace').setDescription('How late a beat may be before the alert, e.g. 1m (default 0)').setMaxLength(20))
        .addStringOption((o) =>
          o
            .setName('severity')
            .setDescription('Severity of the missed-heartbeat alert (default P1)')
            .addChoices(...SEVERITIES.map((s) => ({ name: s, value: s }))),
        )
        .addStringOption((o) => o.setName('service').setDescription("The alert's service, for routing (default: the name)").setMaxLength(200))
        .addStringOption((o) => o.setName('source').setDescription('The source that beats with its token (needed when there are several)').setAutocomplete(true).setMaxLength(100)),
    )
    .addSubcommand((s) => s.setName('list').setDescription('Every heartbeat with its state and when it is due'))
    .addSubcommand((s) =>
      s
        .setName('remove')
        .setDescription('Forget a heartbeat (an alert it raised stays)')
        .addStringOption((o) => o.setName('heartbeat').setDescription('The heartbeat').setRequired(true).setAutocomplete(true).setMaxLength(100)),
    ),
  async execute(i, { herald }) {
    const sub = i.options.getSubcommand(true);
    if (sub === 'list') {
      const all = await herald.heartbeats.list();
      if (all.length === 0) return { content: 'No heartbeats yet: declare one with /heartbeat add.', ephemeral: true };
      return { content: all.map((h) => `• ${describeHeartbeat(h)}`).join('\n').slice(0, 2000), ephemeral: true };
    }
    if (sub === 'remove') {
      const id = parseId(i.options.getString('heartbeat', true), 'heartbeat');
      const known = (await herald.heartbeats.list()).find((h) => h.id === id);
      await herald.heartbeats.remove(id);
      return { content: `Heartbeat **${known?.name ?? `#${id}`}** removed.` };
    }
    const sourceRef = i.options.getString('source')?.trim();
    const sources = await listSources(herald);
    const source = sourceRef
      ? sources.find((s) => s.name === sourceRef || String(s.id) === sourceRef.replace(/^#/, ''))
      : sources.length === 1
        ? sources[0]
        : undefined;
    if (!source) {
      throw badInput('source', sourceRef ? `no source "${sourceRef}"; pick one from the list` : sources.length ? 'give the source that beats (there are several)' : 'create a source first (POST /v1/admin/sources)');
    }
    const grace = i.options.getString('grace');
    const service = i.options.getString('service')?.trim();
    const view = await herald.heartbeats.declare({
      source_id: source.id,
      name: i.options.getString('name', true).trim(),
      interval: i.options.getString('every', true),
      ...(grace ? { grace } : {}),
      severity: (i.options.getString('severity') as (typeof SEVERITIES)[number] | null) ?? 'P1',
      ...(service ? { service } : {}),
    });
    return { content: `Heartbeat added: ${describeHeartbeat(view)}.\nBeat with \`POST /v1/heartbeats/${encodeURIComponent(view.name)}\` and the token of source **${source.name}**.` };
  },
  async autocomplete(i, { herald }) {
    const focused = i.options.getFocused(true);
    const typed = String(focused.value ?? '').toLowerCase();
    if (focused.name === 'source') {
      return (await listSources(herald))
        .filter((s) => s.name.toLowerCase().includes(typed))
        .slice(0, 25)
        .map((s) => ({ name: choiceName(s.name), value: s.name.slice(0, 100) }));
    }
    return (await herald.heartbeats.list())
      .filter((h) => h.name.toLowerCase().includes(typed) || String(h.id) === typed.replace(/^#/, ''))
      .slice(0, 25)
      .map((h) => ({ name: choiceName(`#${h.id} ${h.name} (${h.source_name})`), value: String(h.id) }));
  },
};
