import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { optionSchema, type CommandPermission, type CommandRegistry } from './commands.js';
import { describeIssues, type Faults, parseFault } from './faults.js';
import type { Gateway } from './gateway.js';
import type { GuildDirectory, Guilds } from './guild.js';
import type { Interactions } from './interactions.js';
import { EmulatorError, type EmulatorState } from './state.js';
import type { StatsRecorder } from './stats.js';
import { isLoopbackAddress } from '../loopback.js';
import { AUTO_ARCHIVE_DURATIONS, CHANNEL_TYPE, type AutoArchiveDuration, type EmulatedThread } from './types.js';

export interface ControlDeps {
  state: EmulatorState;
  guild: GuildDirectory;
  guilds: Guilds;
  commands: CommandRegistry;
  gateway: Gateway;
  interactions: Interactions;
  faults: Faults;
  stats: StatsRecorder;
}

const channelBody = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  id: z.string().optional(),
  guild_id: z.string().optional(),
  type: z.union([z.literal(CHANNEL_TYPE.text), z.literal(CHANNEL_TYPE.forum)]).optional(),
});
const autoArchive = z.union(AUTO_ARCHIVE_DURATIONS.map((n) => z.literal(n)) as [z.ZodLiteral<AutoArchiveDuration>, z.ZodLiteral<AutoArchiveDuration>]).optional();
const threadBody = z.strictObject({ name: z.string(), message_id: z.string().optional(), auto_archive_duration: autoArchive });
const threadPatchBody = z.strictObject({ archived: z.boolean().optional(), locked: z.boolean().optional(), name: z.string().optional(), auto_archive_duration: autoArchive });
const webhookBody = z.strictObject({ name: z.string().optional(), application_owned: z.boolean().optional() });
const permissions = z.union([z.string(), z.array(z.string())]).optional();
const roleBody = z.strictObject({ name: z.string(), permissions, id: z.string().optional(), guild_id: z.string().optional() });
const memberBody = z.strictObject({ username: z.string().optional(), roles: z.array(z.string()).optional(), permissions, guild_id: z.string().optional() });
const guildBody = z.strictObject({ name: z.string().optional() });
const commandPermissionsBody = z.strictObject({
  guild_id: z.string().optional(),
  permissions: z.array(z.strictObject({ id: z.string(), type: z.union([z.literal(1), z.literal(2), z.literal(3)]), permission: z.boolean() })).max(100),
});
const commandBody = z.strictObject({ user_id: z.string(), channel_id: z.string(), name: z.string(), options: z.array(optionSchema).optional() });
const buttonBody = z.strictObject({ user_id: z.string(), channel_id: z.string(), message_id: z.string(), custom_id: z.string() });
const dropBody = z.strictObject({ code: z.number().int().min(1000).max(4999).optional(), abrupt: z.boolean().optional(), reconnect: z.boolean().optional() });

/**
 * Whether a request may use the control API. It creates webhooks, reads every message and acts as any
 * user, so it answers only connections from this machine: the peer's socket address decides, never a
 * header a client could set (X-Forwarded-For).
 */
export function controlAllowed(remoteAddress: string | undefined): boolean {
  return isLoopbackAddress(remoteAddress);
}

/**
 * The emulator's own API, under `/_emulator`, for a separate process (Herald's demo mode, tests that spawn
 * Herald): the same operations as the in-process Emulator object. Errors are `{ error }` with a sentence.
 */
export async function controlRoutes(app: FastifyInstance, opts: { deps: ControlDeps }): Promise<void> {
  const { state, guild, guilds, commands, gateway, interactions, faults, stats } = opts.deps;
  /** The guild a body or query names, the home one by default. */
  const guildNamed = (id: string | undefined) => (id === undefined ? guild : guilds.of(id));

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    if (err instanceof EmulatorError) return reply.code(err.status).send({ error: err.message, ...(err.code ? { code: err.code } : {}) });
    if (err instanceof z.ZodError) return reply.code(400).send({ error: describeIssues(err) });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no control route ${req.method} ${req.url.split('?')[0]}` }));
  app.addHook('onRequest', async (req, reply) => {
    if (!controlAllowed(req.socket.remoteAddress)) return reply.code(403).send({ error: 'the emulator control API answers only on loopback (127.0.0.1, ::1)' });
  });

  app.get('/channels', async () => state.channels());

  app.post('/channels', async (req, reply) => {
    const { guild_id, ...body } = channelBody.parse(req.body ?? {});
    const existed = body.id !== undefined && state.hasChannel(body.id);
    return reply.code(existed ? 200 : 201).send(state.createChannel({ ...body, ...(guild_id !== undefined ? { guildId: guild_id } : {}) }));
  });

  app.post<{ Params: { id: string } }>('/channels/:id/webhooks', async (req, reply) => {
    const body = webhookBody.parse(req.body ?? {});
    const hook = state.createWebhook(req.params.id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.application_owned !== undefined ? { applicationOwned: body.application_owned } : {}),
    });
    return reply.code(201).send(hook);
  });

  app.delete<{ Params: { id: string } }>('/webhooks/:id', async (req, reply) => {
    if (!state.deleteWebhook(req.params.id)) throw new EmulatorError(404, `unknown webhook ${req.params.id}`);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/channels/:id/messages', async (req) => state.messages(req.params.id));

  // Threads: a channel's (archived ones included), one started by a person, and a moderator's archive/lock.
  app.get<{ Params: { id: string } }>('/channels/:id/threads', async (req) => {
    if (!state.hasChannel(req.params.id)) throw new EmulatorError(404, `unknown channel ${req.params.id}`, 10003);
    return state.threads(req.params.id);
  });

  app.post<{ Params: { id: string } }>('/channels/:id/threads', async (req, reply) => {
    const b = threadBody.parse(req.body ?? {});
    const home = guildNamed(state.channel(req.params.id)?.guildId);
    return reply.code(201).send(startThreadAsPerson(state, home, { channelId: req.params.id, name: b.name, messageId: b.message_id, autoArchiveDuration: b.auto_archive_duration }));
  });

  app.patch<{ Params: { id: string } }>('/threads/:id', async (req) => {
    const b = threadPatchBody.parse(req.body ?? {});
    return state.updateThread(req.params.id, {
      ...(b.archived !== undefined ? { archived: b.archived } : {}),
      ...(b.locked !== undefined ? { locked: b.locked } : {}),
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.auto_archive_duration !== undefined ? { autoArchiveDuration: b.auto_archive_duration } : {}),
    });
  });

  app.post('/faults', async (req, reply) => {
    faults.inject(parseFault(req.body));
    return reply.code(204).send();
  });

  app.delete('/faults', async (_req, reply) => {
    faults.clear();
    return reply.code(204).send();
  });

  app.get('/stats', async () => stats.snapshot(Date.now()));

  // The bot's side. No bot token here: whoever runs the emulator configured it (or reads it from its start line).
  app.get('/guild', async () => ({ guild_id: state.guildId, application_id: state.applicationId, gateway: gateway.stats() }));

  // Another server the bot is in (a public bot can be added anywhere): for tests that Herald ignores it.
  app.post('/guilds', async (req, reply) => {
    const g = guilds.create(guildBody.parse(req.body ?? {}).name);
    return reply.code(201).send({ id: g.guildId, name: g.name });
  });

  app.post('/roles', async (req, reply) => {
    const { guild_id, ...body } = roleBody.parse(req.body ?? {});
    return reply.code(201).send(guildNamed(guild_id).createRole(body));
  });

  app.get<{ Querystring: { guild_id?: string } }>('/members', async (req) => guildNamed(req.query.guild_id).members());

  app.post('/members', async (req, reply) => {
    const { guild_id, ...body } = memberBody.parse(req.body ?? {});
    return reply.code(201).send(guildNamed(guild_id).createMember(body));
  });

  // Giving a member a role, as a server admin does (e.g. the on-call role named in HERALD_ONCALL_ROLE_IDS).
  app.put<{ Params: { id: string; role: string }; Querystring: { guild_id?: string } }>('/members/:id/roles/:role', async (req) =>
    guildNamed(req.query.guild_id).addMemberRole(req.params.id, req.params.role),
  );

  // A server admin's command permissions (Server Settings → Integrations), e.g. opening an admin command to a role.
  app.put<{ Params: { name: string } }>('/commands/:name/permissions', async (req, reply) => {
    const b = commandPermissionsBody.parse(req.body ?? {});
    setCommandPermissions(commands, guildNamed(b.guild_id).guildId, req.params.name, b.permissions);
    return reply.code(204).send();
  });

  app.get<{ Querystring: { guild_id?: string } }>('/commands', async (req) => commands.list(req.query.guild_id));

  // Acting as a person: each answers once the bot has (see Emulator.runCommand), or with the reason it did not.
  app.post('/interactions/command', async (req) => {
    const b = commandBody.parse(req.body ?? {});
    return interactions.runCommand({ userId: b.user_id, channelId: b.channel_id, name: b.name, options: b.options });
  });

  app.post('/interactions/button', async (req) => {
    const b = buttonBody.parse(req.body ?? {});
    return interactions.pressButton({ userId: b.user_id, channelId: b.channel_id, messageId: b.message_id, customId: b.custom_id });
  });

  app.post('/interactions/autocomplete', async (req) => {
    const b = commandBody.parse(req.body ?? {});
    return { choices: await interactions.autocomplete({ userId: b.user_id, channelId: b.channel_id, name: b.name, options: b.options ?? [] }) };
  });

  /** The interaction's answer as it is now (later edits and follow-ups included). */
  app.get<{ Params: { id: string } }>('/interactions/:id', async (req) => {
    const r = interactions.result(req.params.id);
    if (!r) throw new EmulatorError(404, `unknown interaction ${req.params.id}`);
    return r;
  });

  app.get<{ Params: { id: string } }>('/messages/:id', async (req) => {
    const m = state.message(req.params.id);
    if (!m) throw new EmulatorError(404, `unknown message ${req.params.id}`, 10008);
    return m;
  });

  app.get('/gateway', async () => gateway.stats());

  app.post('/gateway/drop', async (req, reply) => {
    gateway.drop(dropBody.parse(req.body ?? {}));
    return reply.code(204).send();
  });

  app.delete('/stats', async (_req, reply) => {
    stats.reset();
    return reply.code(204).send();
  });
}

/**
 * A thread someone in the server starts in a text channel (its owner is the guild's owner, whom no test acts
 * as): from `messageId`, which then gives the thread its id, or without a message. Forum posts always have a
 * first message, so they come from a webhook (`thread_name`) or the bot (POST /channels/{forum}/threads).
 */
export function startThreadAsPerson(
  state: EmulatorState,
  guild: GuildDirectory,
  o: { channelId: string; name: string; messageId?: string | undefined; autoArchiveDuration?: AutoArchiveDuration | undefined },
): EmulatedThread {
  const channel = state.channel(o.channelId);
  if (!channel) throw new EmulatorError(404, `unknown channel ${o.channelId}`, 10003);
  if (channel.type !== CHANNEL_TYPE.text) throw new EmulatorError(400, 'a forum post has a first message: start it through a webhook (thread_name) or the bot (POST /channels/{forum}/threads)', 50024);
  if (o.messageId !== undefined) {
    const m = state.message(o.messageId);
    if (!m || m.deleted || m.channelId !== channel.id || m.threadId !== undefined) throw new EmulatorError(404, `no message ${o.messageId} in channel ${channel.id}`, 10008);
  }
  return state.createThread({
    parentId: channel.id,
    name: o.name,
    ownerId: guild.ownerId,
    ...(o.messageId !== undefined ? { id: o.messageId } : {}),
    ...(o.autoArchiveDuration !== undefined ? { autoArchiveDuration: o.autoArchiveDuration } : {}),
  });
}

/** Overrides for the command a person in `guildId` would run by that name (its guild command, else the global one). */
export function setCommandPermissions(commands: CommandRegistry, guildId: string, name: string, permissions: CommandPermission[]): void {
  const command = commands.find(name, guildId);
  if (!command) throw new EmulatorError(404, `no command /${name} is registered for guild ${guildId}`, 10063);
  commands.setPermissions(command.id, guildId, permissions);
}
