import type { FastifyInstance } from 'fastify';
import { DISCORD_ERROR } from '../discord/limits.js';
import { snowflake } from '../discord/snowflake.js';
import type { BotRoute } from './bot-route.js';
import type { GuildDirectory } from './guild.js';
import type { Outcome } from './interactions.js';
import { botMessage, messageObject, threadObject } from './objects.js';
import type { EmulatorState } from './state.js';
import { THREAD_FAILURE } from './threads.js';
import { AUTO_ARCHIVE_DURATIONS, CHANNEL_TYPE, type AutoArchiveDuration, type EmulatedMessage, type EmulatedThread } from './types.js';
import { EMPTY_MESSAGE, checkMessage, invalidFormBody, isEmptyMessage, parseJson, type FormErrors } from './validate.js';

/** What the bot's thread routes need. */
export interface BotThreadDeps {
  state: EmulatorState;
  /** The home guild: the emulated bot's permissions are its managed role's, the same in every guild. */
  guild: GuildDirectory;
}

const UNKNOWN_CHANNEL: Outcome = { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
const UNKNOWN_MESSAGE: Outcome = { status: 404, body: { message: 'Unknown Message', code: DISCORD_ERROR.unknownMessage } };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `name` (1-100, required) and `auto_archive_duration` (60, 1440, 4320 or 10080), as every thread start takes them. */
function threadParams(body: unknown, errors: FormErrors): { name: string; autoArchiveDuration?: AutoArchiveDuration } | undefined {
  if (!isObject(body)) {
    errors._errors = [{ code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }];
    return undefined;
  }
  const { name, auto_archive_duration: duration } = body;
  if (name === undefined || name === null) errors.name = { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] };
  else if (typeof name !== 'string' || name.length < 1 || name.length > 100) errors.name = { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }] };
  if (duration !== undefined && duration !== null && !AUTO_ARCHIVE_DURATIONS.includes(duration as AutoArchiveDuration)) {
    errors.auto_archive_duration = { _errors: [{ code: 'BASE_TYPE_CHOICES', message: `Value must be one of {${AUTO_ARCHIVE_DURATIONS.join(', ')}}.` }] };
  }
  if (Object.keys(errors).length > 0 || typeof name !== 'string') return undefined;
  return { name, ...(typeof duration === 'number' ? { autoArchiveDuration: duration as AutoArchiveDuration } : {}) };
}

/**
 * The bot's thread routes (resources/channel.mdx): Start Thread from Message, Start Thread in Forum
 * Channel (or, with type 11, without a message in a text channel), and Modify Channel for a thread
 * (archive, lock, rename). Each change reaches the gateway as THREAD_CREATE or THREAD_UPDATE.
 */
export function botThreadRoutes(app: FastifyInstance, d: BotThreadDeps, bot: BotRoute): void {
  const botId = d.guild.botUserId;
  const can = (permission: string) => d.guild.has(botId, permission);

  app.post(
    '/channels/:id/messages/:mid/threads',
    bot((req) => {
      const channel = d.state.channel(req.params.id ?? '');
      if (!channel) return d.state.thread(req.params.id ?? '') ? THREAD_FAILURE.wrongChannelType : UNKNOWN_CHANNEL;
      // Forum posts are started with POST /channels/{forum}/threads, never from a message.
      if (channel.type !== CHANNEL_TYPE.text) return THREAD_FAILURE.wrongChannelType;
      const m = d.state.message(req.params.mid ?? '');
      if (!m || m.deleted || m.channelId !== channel.id || m.threadId !== undefined || m.flags & 64) return UNKNOWN_MESSAGE;
      if (!can('CreatePublicThreads')) return THREAD_FAILURE.missingPermissions;
      const parsed = parseJson(req.body);
      if (!parsed.ok) return parsed;
      const errors: FormErrors = {};
      const params = threadParams(parsed.value, errors);
      if (!params) return invalidFormBody(errors);
      // The thread takes the message's id, so a second thread from it is 160004 (thrown by the state).
      const t = d.state.createThread({ parentId: channel.id, ownerId: botId, id: m.id, ...params });
      return { status: 201, body: threadObject(t, d.state) };
    }),
  );

  app.post(
    '/channels/:id/threads',
    bot((req) => {
      const channel = d.state.channel(req.params.id ?? '');
      if (!channel) return d.state.thread(req.params.id ?? '') ? THREAD_FAILURE.wrongChannelType : UNKNOWN_CHANNEL;
      const parsed = parseJson(req.body);
      if (!parsed.ok) return parsed;
      const body = parsed.value;
      const errors: FormErrors = {};
      const params = threadParams(body, errors);

      if (channel.type === CHANNEL_TYPE.text) {
        // Start Thread without Message: its `type` defaults to a private thread, which is not emulated.
        const type = isObject(body) ? body.type : undefined;
        if (type !== CHANNEL_TYPE.publicThread) {
          errors.type = { _errors: [{ code: 'BASE_TYPE_CHOICES', message: 'The emulator starts only public threads (type 11) without a message.' }] };
        }
        if (!params || errors.type) return invalidFormBody(errors);
        if (!can('CreatePublicThreads')) return THREAD_FAILURE.missingPermissions;
        return { status: 201, body: threadObject(d.state.createThread({ parentId: channel.id, ownerId: botId, ...params }), d.state) };
      }

      // A forum post: a thread and its first message, which share one id. Send Messages decides here
      // (Create Public Threads is ignored, as Discord documents).
      const rawMessage = isObject(body) ? body.message : undefined;
      if (rawMessage === undefined || rawMessage === null) errors.message = { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] };
      const checked = rawMessage === undefined || rawMessage === null ? undefined : checkMessage(rawMessage, { mode: 'create', applicationOwned: true, withComponents: false });
      if (checked && !checked.ok) errors.message = (checked.body.errors as FormErrors | undefined) ?? { _errors: [{ code: 'DICT_TYPE_CONVERT', message: 'Invalid message' }] };
      if (!params || !checked?.ok || Object.keys(errors).length > 0) return invalidFormBody(errors);
      const input = checked.value;
      if (isEmptyMessage(input)) return EMPTY_MESSAGE;
      if (!can('SendMessages')) return THREAD_FAILURE.missingPermissions;
      const now = Date.now();
      const t = d.state.createThread({ parentId: channel.id, ownerId: botId, id: snowflake(now), ...params }, now);
      const m = botMessage(input, { id: t.id, channelId: channel.id, threadId: t.id, now });
      d.state.addMessage(m);
      return { status: 201, body: { ...threadObject(t, d.state), message: messageObject(m, d.state, d.guild) } };
    }),
  );

  app.patch(
    '/channels/:id',
    bot((req) => {
      const t = d.state.thread(req.params.id ?? '');
      if (!t) {
        if (!d.state.channel(req.params.id ?? '')) return UNKNOWN_CHANNEL;
        return invalidFormBody({ _errors: [{ code: 'UNSUPPORTED', message: 'The emulator modifies threads only (archived, locked, name, auto_archive_duration).' }] });
      }
      const parsed = parseJson(req.body);
      if (!parsed.ok) return parsed;
      const change = threadChange(parsed.value);
      if (!change.ok) return change.failure;
      const refused = modifyRefusal(t, change.patch, { manageThreads: can('ManageThreads'), owner: t.ownerId === botId });
      if (refused) return refused;
      return { status: 200, body: threadObject(d.state.updateThread(t.id, change.patch), d.state) };
    }),
  );
}

type ThreadPatch = { archived?: boolean; locked?: boolean; name?: string; autoArchiveDuration?: AutoArchiveDuration };

/** Modify Channel's thread fields; anything else in the body is ignored. */
function threadChange(body: unknown): { ok: true; patch: ThreadPatch } | { ok: false; failure: Outcome } {
  const errors: FormErrors = {};
  if (!isObject(body)) return { ok: false, failure: invalidFormBody({ _errors: [{ code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }] }) };
  const patch: ThreadPatch = {};
  for (const key of ['archived', 'locked'] as const) {
    const v = body[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') errors[key] = { _errors: [{ code: 'BASE_TYPE_BOOLEAN', message: 'Must be either true or false.' }] };
    else patch[key] = v;
  }
  if (body.name !== undefined && body.name !== null) {
    if (typeof body.name !== 'string' || body.name.length < 1 || body.name.length > 100) errors.name = { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }] };
    else patch.name = body.name;
  }
  const duration = body.auto_archive_duration;
  if (duration !== undefined && duration !== null) {
    if (!AUTO_ARCHIVE_DURATIONS.includes(duration as AutoArchiveDuration)) {
      errors.auto_archive_duration = { _errors: [{ code: 'BASE_TYPE_CHOICES', message: `Value must be one of {${AUTO_ARCHIVE_DURATIONS.join(', ')}}.` }] };
    } else patch.autoArchiveDuration = duration as AutoArchiveDuration;
  }
  return Object.keys(errors).length > 0 ? { ok: false, failure: invalidFormBody(errors) } : { ok: true, patch };
}

/**
 * Modify Channel (Thread) and topics/threads.mdx: an archived thread changes only by being unarchived in
 * the same request; locking needs Manage Threads; renaming, archiving or changing the duration needs it or
 * being the thread's creator; unarchiving a locked thread needs Manage Threads.
 */
function modifyRefusal(t: EmulatedThread, patch: ThreadPatch, who: { manageThreads: boolean; owner: boolean }): Outcome | undefined {
  if (t.archived && patch.archived !== false) return THREAD_FAILURE.archived;
  if (who.manageThreads) return undefined;
  if (patch.locked !== undefined && patch.locked !== t.locked) return THREAD_FAILURE.missingPermissions;
  if (t.locked && patch.archived === false && t.archived) return THREAD_FAILURE.missingPermissions;
  // Unarchiving an unlocked thread needs only Send Messages; archiving it is the creator's (or a moderator's).
  const ownerOnly = patch.name !== undefined || patch.autoArchiveDuration !== undefined || (patch.archived === true && !t.archived);
  return ownerOnly && !who.owner ? THREAD_FAILURE.missingPermissions : undefined;
}
