import type { FastifyInstance } from 'fastify';
import { DISCORD_ERROR } from '../discord/limits.js';
import { snowflake } from '../discord/snowflake.js';
import type { CommandRegistry } from './commands.js';
import type { GuildDirectory } from './guild.js';
import type { Interactions, Outcome } from './interactions.js';
import { botRoute, type Req } from './bot-route.js';
import { botThreadRoutes } from './bot-threads.js';
import { botMessage, channelObject, messageObject, threadObject, webhookObject } from './objects.js';
import { changeRefusal, postRefusal, THREAD_FAILURE } from './threads.js';
import { CHANNEL_TYPE, type EmulatedMessage } from './types.js';
import type { GlobalLimit } from './ratelimit.js';
import type { EmulatorState } from './state.js';
import type { StatsRecorder } from './stats.js';
import { EMPTY_MESSAGE, applyMessageEdit, checkMessage, isEmptyMessage, parseJson } from './validate.js';
import { send } from './webhooks.js';

/** What the bot's routes need; one set per emulator, used under both URL prefixes. */
export interface BotDeps {
  botToken: string;
  state: EmulatorState;
  guild: GuildDirectory;
  commands: CommandRegistry;
  interactions: Interactions;
  globalLimit: GlobalLimit;
  stats: StatsRecorder;
  /** ws://host:port/gateway */
  gatewayUrl: () => string;
}

const MISSING_ACCESS: Outcome = { status: 403, body: { message: 'Missing Access', code: 50001 } };
const UNKNOWN_CHANNEL: Outcome = { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
const UNKNOWN_MESSAGE: Outcome = { status: 404, body: { message: 'Unknown Message', code: DISCORD_ERROR.unknownMessage } };
const UNKNOWN_WEBHOOK: Outcome = { status: 404, body: { message: 'Unknown Webhook', code: DISCORD_ERROR.unknownWebhook } };
const NOT_AUTHOR: Outcome = { status: 403, body: { message: 'Cannot edit a message authored by another user', code: 50005 } };

/**
 * The bot's REST API: what discord.js calls to log in (gateway/bot, users/@me), register commands, answer
 * interactions and manage webhooks and messages. Bot routes want `Authorization: Bot <token>` and share the
 * global limit; the interaction callback takes neither (its token is in the path), as on Discord.
 */
export async function botRoutes(app: FastifyInstance, opts: { deps: BotDeps }): Promise<void> {
  const d = opts.deps;
  const appId = d.state.applicationId;

  const bot = botRoute(d);

  app.get('/gateway', async () => ({ url: d.gatewayUrl() }));
  app.get(
    '/gateway/bot',
    bot(() => ({ status: 200, body: { url: d.gatewayUrl(), shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 } } })),
  );
  app.get('/users/@me', bot(() => ({ status: 200, body: { ...d.guild.userObject(d.guild.botUserId), verified: true, mfa_enabled: false, locale: 'en-US' } })));
  app.get(
    '/applications/@me',
    bot(() => ({
      status: 200,
      body: {
        id: appId,
        name: d.guild.botUsername,
        icon: null,
        description: '',
        bot_public: false,
        bot_require_code_grant: false,
        verify_key: '0'.repeat(64),
        flags: 0,
        team: null,
        owner: { id: d.guild.ownerId, username: 'owner', discriminator: '0', global_name: null, avatar: null },
        bot: d.guild.userObject(d.guild.botUserId),
        approximate_guild_count: 1,
      },
    })),
  );

  // ---- commands ----
  const scope = (req: Req): string | undefined | Outcome => {
    if (req.params.app !== appId) return MISSING_ACCESS;
    if (req.params.guild !== undefined && req.params.guild !== d.state.guildId) return MISSING_ACCESS;
    return req.params.guild;
  };
  const isOutcome = (v: unknown): v is Outcome => typeof v === 'object' && v !== null;
  const listCommands = (req: Req): Outcome => {
    const s = scope(req);
    return isOutcome(s) ? s : { status: 200, body: d.commands.objects(s) };
  };
  const overwrite = (req: Req): Outcome => {
    const s = scope(req);
    if (isOutcome(s)) return s;
    const parsed = parseJson(req.body);
    if (!parsed.ok) return parsed;
    const done = d.commands.overwrite(parsed.value, s);
    return done.ok ? { status: 200, body: done.value } : done;
  };
  /** POST: creates or (same name) replaces one command, keeping the others. */
  const createOne = (req: Req): Outcome => {
    const s = scope(req);
    if (isOutcome(s)) return s;
    const parsed = parseJson(req.body);
    if (!parsed.ok) return parsed;
    const def = parsed.value as { name?: unknown; type?: unknown };
    const keep = d.commands.objects(s).filter((c) => !(c.name === def?.name && c.type === (def?.type ?? 1)));
    const done = d.commands.overwrite([...keep, def], s);
    if (!done.ok) return done;
    return { status: 201, body: done.value.find((c) => c.name === def.name) };
  };
  const deleteOne = (req: Req): Outcome => {
    const s = scope(req);
    if (isOutcome(s)) return s;
    return d.commands.delete(req.params.command ?? '', s) ? { status: 204 } : { status: 404, body: { message: 'Unknown application command', code: 10063 } };
  };
  for (const base of ['/applications/:app/commands', '/applications/:app/guilds/:guild/commands']) {
    app.get(base, bot(listCommands));
    app.put(base, bot(overwrite));
    app.post(base, bot(createOne));
    app.delete(`${base}/:command`, bot(deleteOne));
  }

  // ---- interactions: no auth, no global limit ----
  app.post('/interactions/:id/:token/callback', async (req: Req, reply) => {
    const q = req.query.with_response;
    return send(reply, d.interactions.callback(req.params.id ?? '', req.params.token ?? '', req.body, q === 'true' || q === '1'));
  });

  // ---- channels, webhooks, messages ----
  app.get(
    '/channels/:id',
    bot((req) => {
      const c = d.state.channel(req.params.id ?? '');
      if (c) return { status: 200, body: channelObject(c, d.state.channels().findIndex((x) => x.id === c.id)) };
      const t = d.state.thread(req.params.id ?? '');
      return t ? { status: 200, body: threadObject(t, d.state) } : UNKNOWN_CHANNEL;
    }),
  );

  app.post(
    '/channels/:id/webhooks',
    bot((req) => {
      if (!d.state.channel(req.params.id ?? '')) return UNKNOWN_CHANNEL;
      const parsed = parseJson(req.body);
      if (!parsed.ok) return parsed;
      const name = (parsed.value as { name?: unknown })?.name;
      if (typeof name !== 'string') {
        return { status: 400, body: { code: 50035, message: 'Invalid Form Body', errors: { name: { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] } } } };
      }
      // Created by the bot, so owned by the application: its messages keep their buttons.
      const w = d.state.createWebhook(req.params.id ?? '', { name, applicationOwned: true });
      return { status: 200, body: webhookObject(d.state.webhook(w.id)!, d.state, d.guild) };
    }),
  );
  app.get(
    '/channels/:id/webhooks',
    bot((req) => (d.state.channel(req.params.id ?? '') ? { status: 200, body: d.state.webhooksIn(req.params.id).map((w) => webhookObject(w, d.state, d.guild)) } : UNKNOWN_CHANNEL)),
  );
  app.get(
    '/guilds/:id/webhooks',
    bot((req) => (req.params.id === d.state.guildId ? { status: 200, body: d.state.webhooksIn().map((w) => webhookObject(w, d.state, d.guild)) } : MISSING_ACCESS)),
  );
  app.get(
    '/webhooks/:id',
    bot((req) => {
      const w = d.state.webhook(req.params.id ?? '');
      return w ? { status: 200, body: webhookObject(w, d.state, d.guild) } : UNKNOWN_WEBHOOK;
    }),
  );
  app.delete(
    '/webhooks/:id',
    bot((req) => (d.state.deleteWebhook(req.params.id ?? '') ? { status: 204 } : UNKNOWN_WEBHOOK)),
  );

  app.post(
    '/channels/:id/messages',
    bot((req) => {
      // A thread's id posts in the thread (its parent stays the message's channel); a forum takes posts only as threads.
      const thread = d.state.thread(req.params.id ?? '');
      const channel = d.state.channel(thread ? thread.parentId : (req.params.id ?? ''));
      if (!channel) return UNKNOWN_CHANNEL;
      if (!thread && channel.type === CHANNEL_TYPE.forum) return THREAD_FAILURE.notTextChannel;
      if (thread) {
        // Send Messages has no effect in threads: Send Messages in Threads does (topics/threads.mdx).
        if (!d.guild.has(d.guild.botUserId, 'SendMessagesInThreads')) return THREAD_FAILURE.missingPermissions;
        const refused = postRefusal(thread, d.guild.has(d.guild.botUserId, 'ManageThreads'));
        if (refused) return refused;
      }
      const parsed = parseJson(req.body);
      if (!parsed.ok) return parsed;
      const checked = checkMessage(parsed.value, { mode: 'create', applicationOwned: true, withComponents: false });
      if (!checked.ok) return checked;
      const input = checked.value;
      if (isEmptyMessage(input)) return EMPTY_MESSAGE;
      const now = Date.now();
      if (thread?.archived) d.state.updateThread(thread.id, { archived: false }, now); // a post unarchives
      const m = botMessage(input, { id: snowflake(now), channelId: channel.id, ...(thread ? { threadId: thread.id } : {}), now });
      d.state.addMessage(m);
      return { status: 200, body: messageObject(m, d.state, d.guild) };
    }),
  );

  /** A live, undeleted message of this channel (of this thread, for a thread's id: a thread's messages are not the parent's). */
  const inChannel = (req: Req): EmulatedMessage | undefined => {
    const m = d.state.message(req.params.mid ?? '');
    return m && !m.deleted && (m.threadId ?? m.channelId) === req.params.id && !(m.flags & 64) ? m : undefined;
  };
  /** What the message's thread refuses (edits in archived or locked threads…); the bot's Manage Threads lifts it. */
  const threadRefusal = (m: EmulatedMessage, action: 'edit' | 'delete') => {
    const t = m.threadId === undefined ? undefined : d.state.thread(m.threadId);
    return t && changeRefusal(t, action, d.guild.has(d.guild.botUserId, 'ManageThreads'));
  };
  app.get(
    '/channels/:id/messages/:mid',
    bot((req) => {
      const m = inChannel(req);
      return m ? { status: 200, body: messageObject(m, d.state, d.guild) } : UNKNOWN_MESSAGE;
    }),
  );
  app.patch(
    '/channels/:id/messages/:mid',
    bot((req) => {
      const m = inChannel(req);
      if (!m) return UNKNOWN_MESSAGE;
      // Only the author edits a message; webhook messages only through their webhook.
      if (m.kind === 'webhook') return NOT_AUTHOR;
      const refused = threadRefusal(m, 'edit');
      if (refused) return refused;
      const edited = applyMessageEdit(m, req.body, { applicationOwned: true, withComponents: false });
      if (!edited.ok) return edited;
      return { status: 200, body: messageObject(m, d.state, d.guild) };
    }),
  );
  app.delete(
    '/channels/:id/messages/:mid',
    bot((req) => {
      const m = inChannel(req);
      if (!m) return UNKNOWN_MESSAGE;
      const refused = threadRefusal(m, 'delete');
      if (refused) return refused;
      // Anyone's message: the emulated bot holds Manage Messages.
      m.deleted = true;
      return { status: 204 };
    }),
  );

  botThreadRoutes(app, d, bot);
}
