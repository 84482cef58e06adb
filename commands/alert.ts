import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import type { CommandModule } from '../src/bot/types.js';
import { alertChoices, serviceChoices } from '../src/bot/autocomplete.js';
import { badInput } from '../src/bot/input.js';
import { SEVERITIES, alertInput, describeIssues } from '../src/domain/alert.js';
import { showAlert } from '../src/services/alerts.js';
import { findAlert } from '../src/services/lifecycle.js';

export const alert: CommandModule = {
  access: 'admin',
  data: new SlashCommandBuilder()
    .setName('alert')
    .setDescription('Alerts')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('test')
        .setDescription('Send a test alert through the whole pipeline (routes, mutes, delivery)')
        .addStringOption((o) => o.setName('severity').setDescription('Default P3').addChoices(...SEVERITIES.map((v) => ({ name: v, value: v }))))
        .addStringOption((o) => o.setName('service').setDescription('Default herald-test (routes decide where it goes)').setAutocomplete(true).setMaxLength(200))
        .addStringOption((o) => o.setName('title').setDescription('Default "Test alert from <you>"').setMaxLength(200)),
    )
    .addSubcommand((s) =>
      s
        .setName('show')
        .setDescription('Show an alert as its full card, with the messages it is in (a storm shows it as one line)')
        .addStringOption((o) => o.setName('alert').setDescription('Alert id (#12) or dedup key').setRequired(true).setAutocomplete(true).setMaxLength(255)),
    ),
  async execute(i, { herald }) {
    if (i.options.getSubcommand(false) === 'show') {
      const id = await findAlert(herald, i.options.getString('alert', true));
      const { card, posts, incident } = await showAlert(herald, id, herald.config.delivery.username);
      const where = posts.map((p) =>
        p.messageId && i.guildId ? `<#${p.discordChannelId}>: ${p.state}, https://discord.com/channels/${i.guildId}/${p.discordChannelId}/${p.messageId}` : `<#${p.discordChannelId}>: ${p.state}`,
      );
      const part = incident
        ? `Part of incident #${incident.id} "${incident.title.slice(0, 200)}" (${incident.status}: ${incident.firing} firing, ${incident.resolved} resolved of ${incident.members} alerts; GET /v1/admin/incidents/${incident.id} lists them all).\n`
        : '';
      const body = where.length ? `Alert #${id} is in:\n${where.join('\n')}` : `Alert #${id} was posted nowhere.`;
      return { content: (part + body).slice(0, 2000), embeds: card.embeds, ephemeral: true };
    }
    const parsed = alertInput.safeParse({
      service: i.options.getString('service') ?? 'herald-test',
      severity: i.options.getString('severity') ?? 'P3',
      title: i.options.getString('title') ?? `Test alert from ${i.user.username}`,
      description: `Sent with /alert test by <@${i.user.id}>.`,
      labels: { herald_test: 'true' },
    });
    if (!parsed.success) {
      const p = describeIssues(parsed.error)[0]!;
      throw badInput(p.path, p.message);
    }
    const { ids } = await herald.acceptor.submit(null, [parsed.data], undefined);
    return {
      content: `Test alert #${ids[0]} (${parsed.data.severity}, service **${parsed.data.service}**, title "${parsed.data.title}") accepted; it goes wherever the routes send it.`,
      ephemeral: true,
    };
  },
  autocomplete: (i, { herald }) => (i.options.getFocused(true).name === 'alert' ? alertChoices(herald, i, () => true) : serviceChoices(herald, i.options.getFocused())),
};
