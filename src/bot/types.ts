import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  InteractionReplyOptions,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { BotRest } from '../discord/bot-rest.js';
import type { OutboundTargets } from '../outbound/targets.js';
import type { Acceptor } from '../pipeline/accept.js';
import type { Heartbeats } from '../services/heartbeats.js';
import type { Store } from '../store/index.js';

/** Who may run a command: configuration (admins), ack/resolve (on-call), or any member. */
export type Access = 'admin' | 'oncall' | 'member';

/** What a handler answers; the router sends it (reply, or edit of the deferred reply). */
export interface Answer {
  content?: string;
  embeds?: InteractionReplyOptions['embeds'];
  /** Only the person who ran the command sees it. Ignored for deferred commands (they are always ephemeral). */
  ephemeral?: boolean;
}

/**
 * What the bot's commands and buttons use of the app: the store (they read and change most of it through
 * the services), the configuration, the commit signals, the bot REST client (webhooks it creates), outbound
 * follow-ups, the acceptor (/alert) and the lanes' state (/status).
 */
export type BotServices = {
  store: Store;
  config: Config;
  signals: CommitSignals;
  bot: Pick<BotRest, 'createWebhook' | 'deleteWebhook'> | undefined;
  outboundTargets: Pick<OutboundTargets, 'enqueueFollowUp'>;
  acceptor: Pick<Acceptor, 'submit'>;
  scheduler: Pick<Scheduler, 'laneStates'>;
  heartbeats: Pick<Heartbeats, 'declare' | 'list' | 'remove'>;
};

export interface BotContext {
  herald: BotServices;
  log: Logger;
  /** Who may do what, and for which server: handlers with finer rules (broad mutes) read it too. */
  access: AccessConfig;
  /** The person, as lifecycle services record them. */
  actor(i: { user: { id: string; username: string } }): { kind: 'discord'; userId: string; name: string };
}

/**
 * One slash command: its definition (what registration sends, built with SlashCommandBuilder) and its
 * handlers. Handlers are thin: parse the options, call a service, return the answer.
 */
export interface CommandModule {
  data: { name: string; toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody };
  access: Access;
  /** Set for handlers that call Discord (or may take long): the router defers (ephemeral) before running them. */
  defer?: boolean;
  execute(i: ChatInputCommandInteraction, ctx: BotContext): Promise<Answer> | Answer;
  autocomplete?(i: AutocompleteInteraction, ctx: BotContext): Promise<Choice[]> | Choice[];
}

export interface Choice {
  name: string;
  value: string | number;
}

export interface AccessConfig {
  /** The one server the bot acts for (DISCORD_GUILD_ID): anything from elsewhere changes nothing. */
  guildId: string;
  adminRoleIds: string[];
  oncallRoleIds: string[];
}
