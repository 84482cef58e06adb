import { randomBytes } from 'node:crypto';
import {
  MessageFlags,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type InteractionUpdateOptions,
} from 'discord.js';
import { BUTTON_LABEL, INCIDENT_BUTTON_LABEL, parseButtonId, parseIncidentButtonId } from '../cards/buttons.js';
import { isMessageOfIncident } from '../services/incidents.js';
import { scrubSecrets } from '../log.js';
import { isMessageOfAlert } from '../services/alerts.js';
import { ServiceError } from '../services/errors.js';
import { CHOICE_VALUE_MAX, choiceName } from './autocomplete.js';
import { refusal } from './permissions.js';
import type { Answer, BotContext, CommandModule } from './types.js';

/**
 * A button on an alert: `herald:<action>:<alertId>`; it answers by updating the message in place (type 7),
 * and `notice`, when set, is then shown to the person alone (an ephemeral follow-up: "already resolved …").
 */
export interface ButtonAnswer {
  update: InteractionUpdateOptions;
  notice?: string;
}
/** `id`: the alert's (alert buttons) or the incident's (incident buttons, `herald:incident-<action>:<id>`). */
export type ButtonHandler = (i: ButtonInteraction, id: number, ctx: BotContext) => Promise<ButtonAnswer> | ButtonAnswer;

/** A pressed button of Herald's: what it acts on, parsed back from its custom_id. */
function pressedOf(customId: string): { action: string; id: number; label: string; kind: 'alert' | 'incident' } | undefined {
  const a = parseButtonId(customId);
  if (a) return { action: a.action, id: a.alertId, label: BUTTON_LABEL[a.action], kind: 'alert' };
  const inc = parseIncidentButtonId(customId);
  if (inc) return { action: inc.action, id: inc.incidentId, label: INCIDENT_BUTTON_LABEL[inc.action], kind: 'incident' };
  return undefined;
}

/** Discord gives 3 s for the first answer; past this, the router defers and edits the reply later. */
const DEFER_AFTER_MS = 1500;

export interface RouterOptions {
  commands: Map<string, CommandModule>;
  buttons: Record<string, ButtonHandler>;
  /** ctx.access decides who may do what, and for which server. */
  ctx: BotContext;
}

/** What a person sees when something fails: a ServiceError's message (written for people), else a reference to the log. */
function explain(err: unknown, ctx: BotContext, what: string): string {
  if (err instanceof ServiceError) return err.message;
  const ref = randomBytes(4).toString('hex');
  const e = err instanceof Error ? err : new Error(String(err));
  // Messages from fetch or SQLite may echo a URL with a token: scrubbed before logging.
  ctx.log.error({ err: { type: e.name, message: scrubSecrets(e.message), stack: scrubSecrets(e.stack ?? '') }, ref, what }, 'interaction failed');
  return `Herald could not do that: an internal error (logged with reference ${ref}).`;
}

const ephemeral = (content: string) => ({ content, flags: MessageFlags.Ephemeral as const, allowedMentions: { parse: [] } });

/** Turns interactions into calls of command modules and button handlers; every interaction gets an answer. */
export function createRouter(o: RouterOptions): (i: Interaction) => Promise<void> {
  const { ctx } = o;
  return async (i) => {
    try {
      if (i.isChatInputCommand()) await command(i);
      else if (i.isAutocomplete()) await autocomplete(i);
      else if (i.isButton()) await button(i);
    } catch (err) {
      // Answering itself failed (interaction expired, Discord unreachable): nothing more to tell the person.
      ctx.log.warn({ err: { message: scrubSecrets((err as Error).message) }, kind: i.type }, 'could not answer an interaction');
    }
  };

  async function command(i: ChatInputCommandInteraction) {
    const mod = o.commands.get(i.commandName);
    const what = `/${[i.commandName, i.options.getSubcommandGroup(false), i.options.getSubcommand(false)].filter(Boolean).join(' ')}`;
    if (!mod) {
      await i.reply(ephemeral(`Herald does not know ${what}; the registered commands may be out of date (run npm run register).`));
      return;
    }
    const refused = refusal(i, mod.access, ctx.access, what);
    if (refused) {
      ctx.log.info({ user: i.user.id, command: what }, 'command refused: missing permission');
      await i.reply(ephemeral(refused));
      return;
    }
    ctx.log.debug({ user: i.user.id, command: what }, 'command');
    if (mod.defer) await i.deferReply({ flags: MessageFlags.Ephemeral });
    let timer: NodeJS.Timeout | undefined;
    let deferring: Promise<unknown> | undefined;
    const run = (async () => mod.execute(i, ctx))();
    if (!mod.defer) {
      timer = setTimeout(() => {
        deferring = i.deferReply({ flags: MessageFlags.Ephemeral }).catch(() => undefined);
      }, DEFER_AFTER_MS);
    }
    let answer: Answer;
    let failed = false;
    try {
      answer = await run;
    } catch (err) {
      failed = true;
      answer = { content: explain(err, ctx, what), ephemeral: true };
    } finally {
      clearTimeout(timer);
    }
    if (deferring) await deferring;
    const payload = { content: answer.content ?? '', embeds: answer.embeds ?? [], allowedMentions: { parse: [] as [] } };
    if (i.deferred) {
      await i.editReply(payload);
    } else {
      await i.reply({ ...payload, ...(answer.ephemeral || failed ? { flags: MessageFlags.Ephemeral as const } : {}) });
    }
  }

  async function autocomplete(i: AutocompleteInteraction) {
    const mod = o.commands.get(i.commandName);
    let choices: { name: string; value: string | number }[] = [];
    // Suggestions show alert titles, routes and services: only to those who may run the command here.
    if (!mod || refusal(i, mod.access, ctx.access, `/${i.commandName}`)) {
      await i.respond([]);
      return;
    }
    try {
      choices = (await mod.autocomplete?.(i, ctx)) ?? [];
    } catch (err) {
      ctx.log.warn({ err: { message: (err as Error).message }, command: i.commandName }, 'autocomplete failed');
    }
    // Every command's choices within Discord's limits: one choice out of bounds fails the whole answer.
    const fit = choices.filter((c) => typeof c.value !== 'string' || (c.value.length >= 1 && c.value.length <= CHOICE_VALUE_MAX));
    await i.respond(fit.slice(0, 25).map((c) => ({ name: choiceName(c.name) || choiceName(String(c.value)), value: c.value })));
  }

  async function button(i: ButtonInteraction) {
    const pressed = pressedOf(i.customId);
    const handler = pressed ? o.buttons[pressed.action] : undefined;
    if (!pressed || !handler) {
      await i.reply(ephemeral('This button is not one of Herald\'s (or is from an older version); use /ack or /resolve instead.'));
      return;
    }
    const what = `the ${pressed.label} button`;
    const refused = refusal(i, 'oncall', ctx.access, what);
    if (refused) {
      ctx.log.info({ user: i.user.id, button: pressed.action }, 'button refused: missing permission');
      await i.reply(ephemeral(refused));
      return;
    }
    // The custom_id only names an alert (or incident); the message it was pressed on must be one of that
    // alert's (that incident's cards): a leaked app-owned webhook can post a look-alike card with buttons naming any.
    const ours = pressed.kind === 'alert' ? await isMessageOfAlert(ctx.herald, pressed.id, i.message.id) : await isMessageOfIncident(ctx.herald, pressed.id, i.message.id);
    if (!ours) {
      ctx.log.warn({ user: i.user.id, button: pressed.action, [pressed.kind === 'alert' ? 'alertId' : 'incidentId']: pressed.id, messageId: i.message.id }, `button refused: not on a message of that ${pressed.kind}`);
      await i.reply(ephemeral(`This button is not on a message Herald sent for ${pressed.kind} #${pressed.id}; nothing was changed.`));
      return;
    }
    let answer: ButtonAnswer;
    try {
      answer = await handler(i, pressed.id, ctx);
    } catch (err) {
      await i.reply(ephemeral(explain(err, ctx, what)));
      return;
    }
    await i.update(answer.update);
    if (answer.notice) await i.followUp(ephemeral(answer.notice));
  }
}
