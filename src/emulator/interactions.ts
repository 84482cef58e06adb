import { randomBytes } from 'node:crypto';
import { snowflake } from '../discord/snowflake.js';
import { checkInvocation, parseOptions, type CommandRegistry } from './commands.js';
import type { Gateway } from './gateway.js';
import type { GuildDirectory, Guilds } from './guild.js';
import { channelObject, messageObject, threadObject } from './objects.js';
import { ALL_PERMISSIONS } from './permissions.js';
import { EmulatorError, type EmulatorState } from './state.js';
import type { CommandOption, EmulatedMessage, InteractionResult } from './types.js';
import { EMPTY_MESSAGE, applyMessageEdit, checkMessage, invalidFormBody, isEmptyMessage, parseJson, type DiscordFailure } from './validate.js';

/**
 * Acting as a person, and the bot's answers to it (interactions/receiving-and-responding.mdx).
 * A person's action becomes an INTERACTION_CREATE on the gateway; the bot answers through the callback
 * route and then the interaction's webhook (@original, follow-ups). Discord's rules are kept: one callback,
 * within the deadline (3 s), answer types that fit the interaction, follow-ups only after a callback, the
 * token good for 15 minutes. The waiting side (runCommand...) learns the outcome from the same records.
 */

const EPHEMERAL = 1 << 6;
const LOADING = 1 << 7;
const TOKEN_LIFE_MS = 15 * 60_000;
const INTERACTION_TYPE = { command: 2, component: 3, autocomplete: 4 } as const;
const CALLBACK = { reply: 4, deferredReply: 5, deferredUpdate: 6, update: 7, autocomplete: 8 } as const;
const ALLOWED: Record<Kind, number[]> = { command: [4, 5], component: [4, 5, 6, 7], autocomplete: [8] };

type Kind = keyof typeof INTERACTION_TYPE;
export type Choice = { name: string; value: string | number };

/** An answer for a route to send as is. */
export interface Outcome {
  status: number;
  body?: unknown;
}

const UNKNOWN_INTERACTION: Outcome = { status: 404, body: { message: 'Unknown interaction', code: 10062 } };
const ALREADY_ACKNOWLEDGED: Outcome = { status: 400, body: { message: 'Interaction has already been acknowledged.', code: 40060 } };
const UNKNOWN_WEBHOOK: Outcome = { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
const UNKNOWN_MESSAGE: Outcome = { status: 404, body: { message: 'Unknown Message', code: 10008 } };

interface Pending {
  id: string;
  token: string;
  kind: Kind;
  what: string;
  channelId: string;
  dispatchedAt: number;
  callbackType: number | undefined;
  /** The deadline passed without a callback: Discord has forgotten the interaction. */
  expired: boolean;
  /** @original: the reply (4/5) or the message the component is on (6/7). */
  original: EmulatedMessage | undefined;
  componentMessage: EmulatedMessage | undefined;
  /** A deferred answer has shown something (an edit of @original, or a follow-up). */
  shown: boolean;
  followups: EmulatedMessage[];
  result: InteractionResult;
  choices: Choice[] | undefined;
  waiter: { resolve: () => void; reject: (err: Error) => void; timers: NodeJS.Timeout[] } | undefined;
}

export interface InteractionsOptions {
  state: EmulatorState;
  /** Each interaction comes from the guild of its channel: the home one, or another the bot was added to. */
  guilds: Guilds;
  commands: CommandRegistry;
  gateway: Gateway;
  deadlineMs: number;
  editWaitMs: number;
}

export class Interactions {
  private readonly byId = new Map<string, Pending>();
  private readonly byToken = new Map<string, Pending>();

  constructor(private readonly o: InteractionsOptions) {}

  // ---- the person's side ----

  async runCommand(opts: { userId: string; channelId: string; name: string; options?: unknown[] | undefined }): Promise<InteractionResult> {
    this.needBot(`/${opts.name}`);
    const guild = this.guildOf(opts.channelId);
    const command = this.command(opts.name, opts.userId, guild);
    const options = parseOptions(opts.options);
    checkInvocation(command, options, { autocomplete: false });
    const data = this.commandData(command, options, guild);
    return this.start('command', `/${opts.name}`, opts.userId, opts.channelId, data).then((p) => p.result);
  }

  async autocomplete(opts: { userId: string; channelId: string; name: string; options: unknown[] }): Promise<Choice[]> {
    this.needBot(`autocomplete of /${opts.name}`);
    const guild = this.guildOf(opts.channelId);
    const command = this.command(opts.name, opts.userId, guild);
    const options = parseOptions(opts.options);
    if (countFocused(options) !== 1) throw new EmulatorError(400, `autocomplete needs exactly one option marked focused: true`);
    checkInvocation(command, options, { autocomplete: true });
    const p = await this.start('autocomplete', `autocomplete of /${opts.name}`, opts.userId, opts.channelId, this.commandData(command, options, guild));
    return p.choices ?? [];
  }

  async pressButton(opts: { userId: string; channelId: string; messageId: string; customId: string }): Promise<InteractionResult> {
    this.needBot(`button "${opts.customId}"`);
    const m = this.o.state.message(opts.messageId);
    // A message in a thread is pressed there: its channel is the thread.
    if (!m || m.deleted || (m.threadId ?? m.channelId) !== opts.channelId) throw new EmulatorError(404, `no message ${opts.messageId} in channel ${opts.channelId}`, 10008);
    const appOwned = m.kind !== 'webhook' || (m.webhookId !== undefined && this.o.state.webhook(m.webhookId)?.applicationOwned === true);
    if (!appOwned) throw new EmulatorError(400, `message ${m.id} was posted by a webhook the application does not own: its buttons were dropped and reach no bot`);
    const buttons = findButtons(m.components);
    const button = buttons.find((b) => b.custom_id === opts.customId);
    if (!button) throw new EmulatorError(404, `message ${m.id} has no button "${opts.customId}" (it has: ${buttons.map((b) => b.custom_id).join(', ') || 'none'})`);
    if (button.disabled === true) throw new EmulatorError(409, `button "${opts.customId}" on message ${m.id} is disabled`);
    const start = this.start('component', `button "${opts.customId}"`, opts.userId, opts.channelId, { custom_id: opts.customId, component_type: 2 }, m);
    return start.then((p) => p.result);
  }

  /** The live result of an interaction (the control API's GET), undefined once forgotten. */
  result(id: string): InteractionResult | undefined {
    return this.byId.get(id)?.result;
  }

  /** The guild a channel (or thread) is in: interactions carry its id, its member and its permissions. */
  private guildOf(channelId: string): GuildDirectory {
    const place = this.o.state.place(channelId);
    if (!place) throw new EmulatorError(404, `unknown channel ${channelId}`, 10003);
    return this.o.guilds.of(place.channel.guildId);
  }

  private command(name: string, userId: string, guild: GuildDirectory) {
    const command = this.o.commands.find(name, guild.guildId);
    if (!command) {
      const known = [...this.o.commands.list(guild.guildId), ...this.o.commands.list()].map((c) => `/${c.name}`);
      throw new EmulatorError(404, `no command /${name} is registered for guild ${guild.guildId} (registered: ${known.join(', ') || 'none'})`, 10063);
    }
    const member = guild.member(userId);
    if (!member) throw new EmulatorError(404, `unknown member ${userId} of guild ${guild.guildId} (create one with createMember)`, 10013);
    const has = guild.permissionsOf(userId);
    // A server admin's overrides (Server Settings → Integrations) come first; Administrator may use anything.
    const overridden = this.o.commands.overrideFor(command.id, guild.guildId, { userId, roles: member.roles });
    if (has === ALL_PERMISSIONS) return command;
    if (overridden === false) throw new EmulatorError(403, `member ${userId} may not use /${name}: the server's command permissions deny it`, 50013);
    if (overridden === undefined && command.defaultMemberPermissions !== null) {
      const needed = BigInt(command.defaultMemberPermissions);
      // "0" means admins only; otherwise every bit is needed. Discord does not even show the command to others.
      const ok = needed !== 0n && (has & needed) === needed;
      if (!ok) throw new EmulatorError(403, `member ${userId} may not use /${name}: it needs permissions ${needed.toString()} and Discord does not show it to them`, 50013);
    }
    return command;
  }

  private commandData(command: { id: string; name: string; type: number; guildId?: string }, options: CommandOption[], guild: GuildDirectory): Record<string, unknown> {
    const resolved = this.resolve(options, guild);
    return {
      id: command.id,
      name: command.name,
      type: command.type,
      ...(command.guildId ? { guild_id: command.guildId } : {}),
      ...(options.length ? { options } : {}),
      ...(resolved ? { resolved } : {}),
    };
  }

  /** Discord sends the users, members, roles and channels that options name in `resolved`. */
  private resolve(options: CommandOption[], guild: GuildDirectory): Record<string, Record<string, unknown>> | undefined {
    const out: Record<string, Record<string, unknown>> = {};
    const add = (bucket: string, id: string, value: Record<string, unknown>) => ((out[bucket] ??= {})[id] = value);
    const visit = (list: CommandOption[]) => {
      for (const o of list) {
        if (o.type === 1 || o.type === 2) visit((o.options ?? []) as CommandOption[]);
        if (o.focused || typeof o.value !== 'string') continue;
        const id = o.value;
        const isUser = (o.type === 6 || o.type === 9) && guild.member(id);
        const isRole = (o.type === 8 || o.type === 9) && guild.role(id);
        if (isUser) {
          const { user, ...member } = guild.memberObject(id, true);
          add('users', id, user as Record<string, unknown>);
          add('members', id, member);
        } else if (isRole) add('roles', id, guild.roleObject(id));
        else if (o.type === 7) {
          const c = this.o.state.channel(id);
          if (!c) throw new EmulatorError(404, `option "${o.name}": unknown channel ${id}`, 10003);
          add('channels', id, { id: c.id, name: c.name, type: 0, permissions: ALL_PERMISSIONS.toString() });
        } else if (o.type === 6 || o.type === 8 || o.type === 9) throw new EmulatorError(404, `option "${o.name}": unknown user or role ${id}`);
      }
    };
    visit(options);
    return Object.keys(out).length ? out : undefined;
  }

  /** Dispatches the interaction and waits, within Discord's deadlines, for the bot's answer. */
  private start(kind: Kind, what: string, userId: string, channelId: string, data: Record<string, unknown>, componentMessage?: EmulatedMessage): Promise<Pending> {
    // A thread's id works too: the interaction then comes from the thread (its channel object is the thread's).
    const place = this.o.state.place(channelId);
    if (!place) throw new EmulatorError(404, `unknown channel ${channelId}`, 10003);
    const guild = this.o.guilds.of(place.channel.guildId);
    if (!guild.member(userId)) throw new EmulatorError(404, `unknown member ${userId} of guild ${guild.guildId} (create one with createMember)`, 10013);
    this.needBot(what);
    this.forgetOld();

    const now = Date.now();
    const p: Pending = {
      id: snowflake(now),
      // Discord's interaction tokens are long opaque strings; this one fits the router's path limit.
      token: `emu-interaction.${randomBytes(72).toString('base64url')}`,
      kind,
      what,
      channelId,
      dispatchedAt: now,
      callbackType: undefined,
      expired: false,
      original: undefined,
      componentMessage,
      shown: false,
      followups: [],
      result: { interactionId: '', type: 0, content: '', embeds: [], components: [], ephemeral: false, followups: [] },
      choices: undefined,
      waiter: undefined,
    };
    p.result.interactionId = p.id;
    this.byId.set(p.id, p);
    this.byToken.set(p.token, p);

    const { state } = this.o;
    const memberPerms = guild.permissionsOf(userId).toString();
    const payload = {
      id: p.id,
      application_id: state.applicationId,
      type: INTERACTION_TYPE[kind],
      data,
      guild_id: guild.guildId,
      channel: { ...(place.thread ? threadObject(place.thread, state) : channelObject(place.channel)), permissions: memberPerms },
      channel_id: channelId,
      member: guild.memberObject(userId, true),
      token: p.token,
      version: 1,
      app_permissions: guild.permissionsOf(guild.botUserId).toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guild.guildId },
      context: 0,
      attachment_size_limit: 10 * 1024 * 1024,
      ...(componentMessage ? { message: messageObject(componentMessage, state, guild) } : {}),
    };

    const done = new Promise<Pending>((resolve, reject) => {
      const timers = [
        setTimeout(() => {
          if (p.callbackType !== undefined) return;
          p.expired = true;
          this.settle(p, new EmulatorError(504, `the bot did not answer ${what} within ${this.o.deadlineMs} ms (Discord shows "The application did not respond")`, 10062));
        }, this.o.deadlineMs),
        setTimeout(() => {
          this.settle(p, new EmulatorError(504, `the bot deferred ${what} (type ${String(p.callbackType)}) but showed nothing within ${this.o.editWaitMs} ms (no edit of @original, no follow-up)`));
        }, Math.max(this.o.editWaitMs, this.o.deadlineMs)),
      ];
      p.waiter = { resolve: () => resolve(p), reject, timers };
    });
    this.o.gateway.dispatch('INTERACTION_CREATE', payload);
    return done;
  }

  /** Checked first: without a bot nothing else about the action matters. */
  private needBot(what: string): void {
    if (!this.o.gateway.hasSession()) throw new EmulatorError(409, `no bot is connected to the gateway: nobody would receive ${what}`);
  }

  private settle(p: Pending, err?: Error): void {
    const w = p.waiter;
    if (!w) return;
    p.waiter = undefined;
    for (const t of w.timers) clearTimeout(t);
    if (err) w.reject(err);
    else w.resolve();
  }

  /** Resolves the waiter once the person sees an answer: at once for 4/7/8, after the first edit or follow-up for 5/6. */
  private progress(p: Pending): void {
    this.sync(p);
    const t = p.callbackType;
    if (t === CALLBACK.reply || t === CALLBACK.update || t === CALLBACK.autocomplete || p.shown) this.settle(p);
  }

  /** Copies what the person sees into the (live) result object. */
  private sync(p: Pending): void {
    const r = p.result;
    r.type = p.callbackType ?? 0;
    const m = p.original;
    if (m) {
      r.content = m.deleted ? '' : m.content;
      r.embeds = m.deleted ? [] : structuredClone(m.embeds);
      r.components = m.deleted ? [] : structuredClone(m.components);
      r.ephemeral = (m.flags & EPHEMERAL) !== 0;
      r.messageId = m.id;
    }
    r.followups = p.followups.map((f) => ({ id: f.id, content: f.content, embeds: structuredClone(f.embeds), ephemeral: (f.flags & EPHEMERAL) !== 0 }));
  }

  private forgetOld(): void {
    const cutoff = Date.now() - TOKEN_LIFE_MS;
    for (const p of this.byId.values()) {
      if (p.dispatchedAt >= cutoff) break; // insertion order is dispatch order
      this.byId.delete(p.id);
      this.byToken.delete(p.token);
    }
  }

  // ---- the bot's side ----

  /** POST /interactions/{id}/{token}/callback */
  callback(id: string, token: string, rawBody: unknown, withResponse: boolean): Outcome {
    const p = this.byId.get(id);
    if (!p || p.token !== token || p.expired) return UNKNOWN_INTERACTION;
    if (Date.now() - p.dispatchedAt > this.o.deadlineMs && p.callbackType === undefined) {
      p.expired = true;
      this.settle(p, new EmulatorError(504, `the bot answered ${p.what} after the ${this.o.deadlineMs} ms deadline: Discord refused it (10062)`, 10062));
      return UNKNOWN_INTERACTION;
    }
    if (p.callbackType !== undefined) return ALREADY_ACKNOWLEDGED;
    const parsed = parseJson(rawBody);
    if (!parsed.ok) return parsed;
    const body = parsed.value as { type?: unknown; data?: unknown };
    const type = body?.type;
    if (typeof type !== 'number' || !ALLOWED[p.kind].includes(type)) {
      return invalidFormBody({ type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: `Interaction response type ${String(type)} is not valid for this interaction` }] } });
    }
    const data = body.data ?? {};
    const now = Date.now();

    if (type === CALLBACK.autocomplete) {
      const choices = checkChoices(data);
      if ('status' in choices) return choices;
      p.choices = choices;
    } else if (type === CALLBACK.reply) {
      const checked = checkMessage(data, { mode: 'create', applicationOwned: true, withComponents: false, extraFlags: EPHEMERAL });
      if (!checked.ok) return checked;
      if (isEmptyMessage(checked.value)) return EMPTY_MESSAGE;
      p.original = this.store(p, checked.value, checked.value.flags ?? 0, now);
    } else if (type === CALLBACK.deferredReply) {
      const flags = typeof (data as { flags?: unknown }).flags === 'number' ? ((data as { flags: number }).flags & EPHEMERAL) : 0;
      // Discord shows "<bot> is thinking..." at once: a loading message the first edit (or follow-up) fills in.
      p.original = this.store(p, {}, flags | LOADING, now);
    } else if (type === CALLBACK.update) {
      const checked = checkMessage(data, { mode: 'edit', applicationOwned: true, withComponents: false });
      if (!checked.ok) return checked;
      const m = p.componentMessage!;
      const edit = checked.value;
      const next = { content: edit.content ?? m.content, embeds: edit.embeds ?? m.embeds, components: edit.components ?? m.components };
      if (isEmptyMessage(next)) return EMPTY_MESSAGE;
      Object.assign(m, next, { editedAt: now });
      p.original = m;
    } else {
      p.original = p.componentMessage; // deferred update: @original is the component's message
    }
    p.callbackType = type;
    this.progress(p);
    if (!withResponse) return { status: 204 };
    const m = p.original;
    return {
      status: 200,
      body: {
        interaction: {
          id: p.id,
          type: INTERACTION_TYPE[p.kind],
          activity_instance_id: null,
          response_message_id: m?.id ?? null,
          response_message_loading: m ? (m.flags & LOADING) !== 0 : null,
          response_message_ephemeral: m ? (m.flags & EPHEMERAL) !== 0 : null,
        },
        resource: { type, ...(m && type !== CALLBACK.deferredUpdate ? { message: messageObject(m, this.o.state, this.o.guilds.home) } : {}) },
      },
    };
  }

  private store(p: Pending, input: { content?: string; embeds?: unknown[]; components?: unknown[]; allowedMentions?: unknown }, flags: number, now: number): EmulatedMessage {
    const place = this.o.state.place(p.channelId);
    const m: EmulatedMessage = {
      id: snowflake(now),
      channelId: place?.channel.id ?? p.channelId,
      kind: 'interaction',
      webhookId: this.o.state.applicationId,
      content: input.content ?? '',
      embeds: input.embeds ?? [],
      components: input.components ?? [],
      flags,
      createdAt: now,
      deleted: false,
      interactionId: p.id,
    };
    if (input.allowedMentions !== undefined) m.allowedMentions = input.allowedMentions;
    if (place?.thread) m.threadId = place.thread.id;
    this.o.state.addMessage(m, { ephemeral: (flags & EPHEMERAL) !== 0 });
    return m;
  }

  /** The interaction behind `/webhooks/{application}/{token}`, once acknowledged and within its 15 minutes. */
  private byWebhookToken(token: string): Pending | undefined {
    const p = this.byToken.get(token);
    if (!p || p.callbackType === undefined || Date.now() - p.dispatchedAt > TOKEN_LIFE_MS) return undefined;
    return p;
  }

  /** The message a webhook path names: @original, or one of this interaction's follow-ups. */
  private target(p: Pending, messageId: string): EmulatedMessage | undefined {
    const m = messageId === '@original' ? p.original : p.followups.find((f) => f.id === messageId);
    return m && !m.deleted ? m : undefined;
  }

  /** GET|PATCH|DELETE /webhooks/{application}/{token}/messages/{@original|id} */
  message(method: 'GET' | 'PATCH' | 'DELETE', token: string, messageId: string, rawBody: unknown): Outcome {
    const p = this.byWebhookToken(token);
    if (!p) return UNKNOWN_WEBHOOK;
    const m = this.target(p, messageId); // fastify decoded %40original already
    if (!m) return UNKNOWN_MESSAGE;
    if (method === 'GET') return { status: 200, body: messageObject(m, this.o.state, this.o.guilds.home) };
    if (method === 'DELETE') {
      m.deleted = true;
      this.sync(p);
      return { status: 204 };
    }
    const flags = m.flags;
    const edited = applyMessageEdit(m, rawBody, { applicationOwned: true, withComponents: false });
    if (!edited.ok) return edited;
    // An edit of @original ends "thinking…"; its other flags (ephemeral) are set by the first answer only.
    m.flags = flags & ~LOADING;
    if (m === p.original) p.shown = true;
    this.progress(p);
    return { status: 200, body: messageObject(m, this.o.state, this.o.guilds.home) };
  }

  /** POST /webhooks/{application}/{token}: a follow-up; the first one after a deferred reply fills the loading message. */
  followup(token: string, rawBody: unknown): Outcome {
    const p = this.byWebhookToken(token);
    if (!p) return UNKNOWN_WEBHOOK;
    const parsed = parseJson(rawBody);
    if (!parsed.ok) return parsed;
    const checked = checkMessage(parsed.value, { mode: 'create', applicationOwned: true, withComponents: false, extraFlags: EPHEMERAL });
    if (!checked.ok) return checked;
    const input = checked.value;
    if (isEmptyMessage(input)) return EMPTY_MESSAGE;
    const original = p.original;
    let m: EmulatedMessage;
    if (p.callbackType === CALLBACK.deferredReply && original && original.flags & LOADING && !original.deleted) {
      Object.assign(original, { content: input.content ?? '', embeds: input.embeds ?? [], components: input.components ?? [], editedAt: Date.now() });
      original.flags &= ~LOADING; // keeps the ephemeral choice made when deferring
      m = original;
    } else {
      m = this.store(p, input, input.flags ?? 0, Date.now());
      p.followups.push(m);
    }
    p.shown = true;
    this.progress(p);
    return { status: 200, body: messageObject(m, this.o.state, this.o.guilds.home) };
  }

  /** Stops every timer (close()); waiting callers are told the emulator went away. */
  close(): void {
    for (const p of this.byId.values()) this.settle(p, new EmulatorError(503, 'the emulator closed'));
    this.byId.clear();
    this.byToken.clear();
  }
}

function countFocused(options: CommandOption[]): number {
  return options.reduce((n, o) => n + (o.focused ? 1 : 0) + countFocused((o.options ?? []) as CommandOption[]), 0);
}

type Button = { type: 2; custom_id?: string; disabled?: boolean };

/** Buttons anywhere in the components (action rows, or v2 containers and sections). */
function findButtons(components: unknown): Button[] {
  const out: Button[] = [];
  const visit = (c: unknown) => {
    if (Array.isArray(c)) return c.forEach(visit);
    if (typeof c !== 'object' || c === null) return;
    const o = c as Record<string, unknown>;
    if (o.type === 2 && typeof o.custom_id === 'string') out.push(o as Button);
    if (o.components) visit(o.components);
    if (o.accessory) visit(o.accessory);
  };
  visit(components);
  return out;
}

function checkChoices(data: unknown): Choice[] | DiscordFailure {
  const choices = (data as { choices?: unknown })?.choices;
  const fail = (message: string) => invalidFormBody({ data: { choices: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message }] } } });
  if (!Array.isArray(choices)) return fail('Must be an array.');
  if (choices.length > 25) return fail('Must be 25 or fewer in length.');
  for (const c of choices) {
    const ok =
      typeof c === 'object' &&
      c !== null &&
      typeof c.name === 'string' &&
      c.name.length >= 1 &&
      c.name.length <= 100 &&
      ((typeof c.value === 'string' && c.value.length >= 1 && c.value.length <= 100) || typeof c.value === 'number');
    if (!ok) return fail('Each choice needs a name (1 to 100 characters) and a number or string value (1 to 100 characters).');
  }
  return (choices as Choice[]).map((c) => ({ name: c.name, value: c.value }));
}

