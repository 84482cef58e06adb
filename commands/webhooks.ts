import {
  ChannelType,
  InteractionContextType,
  SlashCommandBuilder,
  escapeMarkdown,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type SlashCommandChannelOption,
} from 'discord.js';
import { channelFor, channelMention, ensureChannel, findChannel, targetChannelId } from '../src/bot/channels.js';
import type { BotContext, CommandModule } from '../src/bot/types.js';
import { listChannels } from '../src/services/channels.js';
import { addWebhook, createAppWebhook, getWebhook, listWebhooks, removeWebhook, rotateWebhook, type WebhookView } from '../src/services/webhooks.js';

/** Webhook names as Discord shows them (Herald stores none): Discord webhook id → name. */
type Names = Map<string, string>;

/**
 * A webhook in one line: Herald's id (what /webhooks rotate|remove take), its kind, its name as Discord
 * shows it (when known), state, breaker and the masked URL.
 */
const describe = (w: WebhookView, names: Names = new Map()) => {
  const name = names.get(w.discord_webhook_id);
  return (
    `#${w.id} ${w.owner === 'app' ? 'app-owned (buttons)' : 'pasted'}${name ? ` named **${escapeMarkdown(name)}**` : ''} · ${w.state}` +
    `${w.breaker_state !== 'closed' ? ` · breaker ${w.breaker_state}` : ''} · ${w.url_masked}${w.last_error ? ` · last error: ${w.last_error.slice(0, 80)}` : ''}`
  );
};

/**
 * The names of a channel's webhooks, asked of Discord through the bot (GET /channels/{id}/webhooks,
 * which Manage Webhooks allows). Answers are still given without them if Discord cannot say.
 */
async function webhookNames(i: ChatInputCommandInteraction, discordChannelId: string): Promise<Names> {
  try {
    const channel = await i.client.channels.fetch(discordChannelId);
    if (channel && 'fetchWebhooks' in channel) {
      const hooks = await channel.fetchWebhooks();
      return new Map(hooks.map((w) => [w.id, w.name]));
    }
  } catch {
    // No permission, or Discord unreachable: the ids and kinds are shown, as before.
  }
  return new Map();
}

const channelOption = (o: SlashCommandChannelOption) =>
  o.setName('channel').setDescription('Default: this channel').addChannelTypes(ChannelType.GuildText, ChannelType.GuildAnnouncement);

export const webhooks: CommandModule = {
  access: 'admin',
  // create and rotate call Discord; the others are quick, but one deferred path keeps the answers alike.
  defer: true,
  data: new SlashCommandBuilder()
    .setName('webhooks')
    .setDescription("A channel's webhook pool (Herald delivers alerts through it)")
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) => s.setName('list').setDescription("The channel's webhooks").addChannelOption(channelOption))
    .addSubcommand((s) =>
      s
        .setName('create')
        .setDescription('Create an application-owned webhook (its alerts carry buttons)')
        .addChannelOption(channelOption)
        .addStringOption((o) => o.setName('name').setDescription('Default: Herald').setMaxLength(80)),
    )
    .addSubcommand((s) =>
      s
        .setName('add-url')
        .setDescription('Add a webhook URL copied from Discord (its alerts carry no buttons)')
        .addStringOption((o) => o.setName('url').setDescription('https://discord.com/api/webhooks/...').setRequired(true).setMaxLength(512))
        .addChannelOption(channelOption),
    )
    .addSubcommand((s) =>
      s
        .setName('rotate')
        .setDescription('Bring a new webhook in and retire this one: nothing lost, nothing twice')
        .addIntegerOption((o) => o.setName('webhook').setDescription('The webhook to retire').setRequired(true).setAutocomplete(true).setMinValue(1))
        .addStringOption((o) => o.setName('url').setDescription('A pasted URL for the new one (default: the bot creates it)').setMaxLength(512)),
    )
    .addSubcommand((s) =>
      s
        .setName('remove')
        .setDescription('Take a webhook out of its pool')
        .addIntegerOption((o) => o.setName('webhook').setDescription('The webhook').setRequired(true).setAutocomplete(true).setMinValue(1)),
    ),
  async execute(i, ctx) {
    const h = ctx.herald;
    const sub = i.options.getSubcommand(true);
    if (sub === 'list') {
      const discordId = targetChannelId(i);
      const hooks = await listWebhooks(h, (await channelFor(h, discordId)).id);
      if (hooks.length === 0) return { content: `<#${discordId}> has no webhooks: /webhooks create adds one.` };
      const names = await webhookNames(i, discordId);
      return { content: [`Webhooks of <#${discordId}>:`, ...hooks.map((w) => `• ${describe(w, names)}`)].join('\n').slice(0, 2000) };
    }
    if (sub === 'create') {
      const discordId = targetChannelId(i);
      const channel = await ensureChannel(h, i, discordId);
      const name = i.options.getString('name')?.trim() || undefined;
      const w = await createAppWebhook(h, channel.id, name ? { name } : {});
      return { content: `Created webhook ${describe(w, await webhookNames(i, discordId))} in <#${discordId}>; alerts through it carry Acknowledge, Resolve and Mute 1h.` };
    }
    if (sub === 'add-url') {
      const discordId = targetChannelId(i);
      const channel = await ensureChannel(h, i, discordId);
      const w = await addWebhook(h, channel.id, { url: i.options.getString('url', true) });
      return { content: `Added webhook ${describe(w, await webhookNames(i, discordId))} to <#${discordId}>.` };
    }
    if (sub === 'rotate') {
      const id = i.options.getInteger('webhook', true);
      const url = i.options.getString('url')?.trim() || undefined;
      const r = await rotateWebhook(h, id, url ? { url } : {});
      const channel = (await listChannels(h)).find((c) => c.id === r.added.channel_id);
      const names = channel ? await webhookNames(i, channel.discord_channel_id) : new Map<string, string>();
      const retiredName = names.get(r.retired.discord_webhook_id);
      return {
        content:
          `Rotated: new webhook ${describe(r.added, names)} takes new alerts; #${r.retired.id} is retired ` +
          `(${retiredName ? `**${escapeMarkdown(retiredName)}**, ` : ''}no new posts; its messages stay editable and retractable) in ${await channelMention(h, r.added.channel_id)}.`,
      };
    }
    const id = i.options.getInteger('webhook', true);
    const before = await getWebhook(h, id);
    const channel = (await listChannels(h)).find((c) => c.id === before.channel_id);
    const name = channel ? (await webhookNames(i, channel.discord_channel_id)).get(before.discord_webhook_id) : undefined;
    await removeWebhook(h, id);
    return { content: `Webhook #${id} removed from the pool of ${await channelMention(h, before.channel_id)}${name ? ` (it was **${escapeMarkdown(name)}**)` : ''}.` };
  },
  async autocomplete(i: AutocompleteInteraction, ctx: BotContext) {
    const typed = String(i.options.getFocused()).toLowerCase();
    const here = await findChannel(ctx.herald, i.channelId);
    const all = await listChannels(ctx.herald);
    const channels = here ? [here, ...all.filter((c) => c.id !== here.id)] : all;
    // Only webhooks the subcommand can act on: a retired one cannot be rotated again (remove still takes it).
    const actable = i.options.getSubcommand(false) === 'rotate' ? (w: WebhookView) => w.state !== 'retired' : () => true;
    const choices: { name: string; value: number }[] = [];
    for (const c of channels) for (const w of (await listWebhooks(ctx.herald, c.id)).filter(actable)) choices.push({ name: `${c.name}: ${describe(w)}`, value: w.id });
    return choices
      .filter((c) => c.name.toLowerCase().includes(typed))
      .slice(0, 25);
  },
};
