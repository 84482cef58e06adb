import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import type { CommandModule } from '../src/bot/types.js';
import { serviceChoices } from '../src/bot/autocomplete.js';
import { badInput } from '../src/bot/input.js';
import { SEVERITIES, alertInput, describeIssues } from '../src/domain/alert.js';

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
    ),
  async execute(i, { herald }) {
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
  autocomplete: (i, { herald }) => serviceChoices(herald, i.options.getFocused()),
};
