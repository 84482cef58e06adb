import { ChannelType, InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { routeChoices } from '../src/bot/autocomplete.js';
import { channelFor } from '../src/bot/channels.js';
import { badInput } from '../src/bot/input.js';
import type { CommandModule } from '../src/bot/types.js';
import { parseDurationMs } from '../src/domain/duration.js';
import { listChannels } from '../src/services/channels.js';
import { addStep, createChain, deleteChain, describeChain, findChain, getChain, listChains, setRouteChain, stepInput } from '../src/services/escalation.js';

/** "0", "30s", "5m", "2h", "1d" ("15" is minutes) → milliseconds, 0 to 7 days. */
export function parseDelay(raw: string, option: string): number {
  const ms = parseDurationMs(raw, 'm');
  if (ms === undefined) throw badInput(option, `"${raw}" is not a delay; write e.g. "0", "30s", "5m" or "2h"`);
  if (ms > 7 * 86_400_000) throw badInput(option, `"${raw}" is too long; at most 7 days`);
  return ms;
}

const chainOption = (o: import('discord.js').SlashCommandStringOption) =>
  o.setName('chain').setDescription('The chain (name or id)').setRequired(true).setAutocomplete(true).setMaxLength(100);

export const escalation: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('escalation')
    .setDescription('Escalation chains: who is notified, and when, until an alert is acknowledged or resolved')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('create')
        .setDescription('Create a chain (then add steps with /escalation add-step)')
        .addStringOption((o) => o.setName('name').setDescription('A unique name').setRequired(true).setMaxLength(100))
        .addIntegerOption((o) => o.setName('repeats').setDescription('Run the whole chain again this many times (0 to 10, default 0)').setMinValue(0).setMaxValue(10))
        .addStringOption((o) => o.setName('rearm_after').setDescription('Re-arm when acknowledged but not resolved within this, e.g. 30m').setMaxLength(10))
        .addIntegerOption((o) => o.setName('route').setDescription('A route whose alerts arm this chain').setAutocomplete(true).setMinValue(1)),
    )
    .addSubcommand((s) =>
      s
        .setName('add-step')
        .setDescription('Append a step: after a delay, mention a role or a user, or post the alert in a channel')
        .addStringOption(chainOption)
        .addStringOption((o) => o.setName('delay').setDescription('After the previous step (the first: after the alert), e.g. 0, 30s, 5m').setRequired(true).setMaxLength(10))
        .addRoleOption((o) => o.setName('role').setDescription('Mention this role'))
        .addUserOption((o) => o.setName('user').setDescription('Mention this user'))
        .addChannelOption((o) =>
          o
            .setName('channel')
            .setDescription("Where to post (alone: post the alert there; with a mention: default is the alert's channels)")
            .addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement),
        ),
    )
    .addSubcommand((s) => s.setName('show').setDescription('A chain and its steps (all chains when none is given)').addStringOption((o) => chainOption(o).setRequired(false)))
    .addSubcommand((s) => s.setName('delete').setDescription('Delete a chain: running escalations of it stop').addStringOption(chainOption)),
  async execute(i, { herald }) {
    const sub = i.options.getSubcommand(true);
    // Read once: describeChain names each step's channel synchronously.
    const known = await listChannels(herald);
    const channelName = (id: number) => {
      const c = known.find((x) => x.id === id);
      return c ? `<#${c.discord_channel_id}>` : `channel #${id}`;
    };
    if (sub === 'create') {
      const rearm = i.options.getString('rearm_after');
      const created = await createChain(herald, {
        name: i.options.getString('name', true).trim(),
        repeats: i.options.getInteger('repeats') ?? 0,
        rearm_after_ms: rearm ? parseDelay(rearm, 'rearm_after') || null : null,
      });
      const routeId = i.options.getInteger('route');
      if (routeId !== null) await setRouteChain(herald, routeId, created.id);
      return { content: `Escalation chain created.\n${describeChain(await getChain(herald, created.id), channelName)}` };
    }
    if (sub === 'show') {
      const ref = i.options.getString('chain');
      if (ref === null) {
        const all = await listChains(herald);
        if (all.length === 0) return { content: 'No escalation chains yet: create one with /escalation create.', ephemeral: true };
        return { content: all.map((c) => describeChain(c, channelName)).join('\n\n').slice(0, 2000), ephemeral: true };
      }
      return { content: describeChain(await getChain(herald, await findChain(herald, ref)), channelName).slice(0, 2000), ephemeral: true };
    }
    const chainId = await findChain(herald, i.options.getString('chain', true));
    if (sub === 'delete') {
      const name = (await getChain(herald, chainId)).name;
      await deleteChain(herald, chainId);
      return { content: `Escalation chain **${name}** deleted.` };
    }
    const delay = parseDelay(i.options.getString('delay', true), 'delay');
    const role = i.options.getRole('role');
    const user = i.options.getUser('user');
    const channel = i.options.getChannel('channel');
    if (role && user) throw badInput('role/user', 'give a role or a user, not both (add two steps)');
    if (!role && !user && !channel) throw badInput('role/user/channel', 'give a role or a user to mention, or a channel to post the alert in');
    const parsed = stepInput.safeParse({
      kind: role ? 'role' : user ? 'user' : 'channel',
      delay_ms: delay,
      ...(role ? { target: role.id } : user ? { target: user.id } : {}),
      ...(channel ? { channel_id: (await channelFor(herald, channel.id)).id } : {}),
    });
    if (!parsed.success) throw badInput(String(parsed.error.issues[0]?.path[0] ?? 'step'), parsed.error.issues[0]?.message ?? 'invalid');
    const view = await addStep(herald, chainId, parsed.data);
    return { content: `Step added.\n${describeChain(view, channelName)}`.slice(0, 2000) };
  },
  async autocomplete(i, { herald }) {
    const focused = i.options.getFocused(true);
    const typed = String(focused.value ?? '').toLowerCase();
    if (focused.name === 'route') return routeChoices(herald, typed);
    return (await listChains(herald))
      .filter((c) => c.name.toLowerCase().includes(typed) || String(c.id) === typed.replace(/^#/, ''))
      .slice(0, 25)
      .map((c) => ({ name: `#${c.id} ${c.name} (${c.steps.length} step${c.steps.length === 1 ? '' : 's'})`, value: String(c.id) }));
  },
};
