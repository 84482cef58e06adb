import { ChannelType, InteractionContextType, SlashCommandBuilder, type SlashCommandSubcommandBuilder } from 'discord.js';
import { channelFor, targetChannelId } from '../src/bot/channels.js';
import { badInput } from '../src/bot/input.js';
import type { CommandModule } from '../src/bot/types.js';
import { formatDuration } from '../src/cards/digest.js';
import { digestInput, getDigest, postDigest, previewDigest, setDigest } from '../src/services/digest.js';

const channelOption = (s: SlashCommandSubcommandBuilder) =>
  s.addChannelOption((o) => o.setName('channel').setDescription('The channel (default: this one)').addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement));

export const digest: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('digest')
    .setDescription("A channel's daily digest: counts, MTTA/MTTR, noisiest alerts, mutes, dead letters")
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      channelOption(
        s
          .setName('set')
          .setDescription('Post the daily digest in a channel at a time of day')
          .addStringOption((o) => o.setName('time').setDescription('HH:MM, 24 h (default: HERALD_DIGEST_TIME)').setMaxLength(5))
          .addStringOption((o) => o.setName('timezone').setDescription('IANA time zone, e.g. Europe/Paris (default: HERALD_DIGEST_TIMEZONE)').setMaxLength(64)),
      ),
    )
    .addSubcommand((s) => channelOption(s.setName('off').setDescription("Stop a channel's daily digest")))
    .addSubcommand((s) => channelOption(s.setName('show').setDescription("A channel's digest settings and the last 24 hours' numbers")))
    .addSubcommand((s) => channelOption(s.setName('send').setDescription("Post a channel's digest of the last 24 hours now"))),
  async execute(i, { herald }) {
    const sub = i.options.getSubcommand(true);
    const discordChannelId = targetChannelId(i);
    const ch = await channelFor(herald, discordChannelId);
    if (sub === 'set') {
      const parsed = digestInput.safeParse({
        enabled: true,
        ...(i.options.getString('time') ? { time: i.options.getString('time')!.trim() } : {}),
        ...(i.options.getString('timezone') ? { timezone: i.options.getString('timezone')!.trim() } : {}),
      });
      if (!parsed.success) {
        // What it should be, then the option as typed: `time: a time as HH:MM (24 h), e.g. 09:00, not "9am"`.
        const issue = parsed.error.issues[0];
        const option = String(issue?.path[0] ?? 'digest');
        const typed = option === 'time' || option === 'timezone' ? i.options.getString(option) : null;
        throw badInput(option, `${issue?.message ?? 'invalid'}${typed !== null ? `, not "${typed}"` : ''}`);
      }
      const s = await setDigest(herald, ch.id, parsed.data);
      return { content: `The daily digest of <#${discordChannelId}> is posted there at ${s.time} (${s.timezone}).` };
    }
    if (sub === 'off') {
      const s = await getDigest(herald, ch.id);
      if (!s.enabled) return { content: `<#${discordChannelId}> has no daily digest.`, ephemeral: true };
      await setDigest(herald, ch.id, { enabled: false });
      return { content: `Daily digest of <#${discordChannelId}> stopped.` };
    }
    if (sub === 'send') {
      const r = await postDigest(herald, ch.id, Date.now());
      return { content: `Digest queued for <#${discordChannelId}>: ${r.totals.fired} fired in the last 24 hours.`, ephemeral: true };
    }
    const s = await getDigest(herald, ch.id);
    const now = Date.now();
    const r = await previewDigest(herald, ch.id, { from: now - 86_400_000, to: now });
    const when = s.enabled ? `posted daily at ${s.time} (${s.timezone})` : 'off (turn it on with /digest set)';
    return {
      content:
        `Daily digest of <#${discordChannelId}>: ${when}.\n` +
        `Last 24 hours: ${r.totals.fired} fired, ${r.totals.acknowledged} acknowledged, ${r.totals.resolved} resolved; ` +
        `MTTA ${formatDuration(r.mtta_ms)}, MTTR ${formatDuration(r.mttr_ms)}; ${r.muted} muted (all channels); ${r.dead_letters} dead letters.`,
      ephemeral: true,
    };
  },
};
