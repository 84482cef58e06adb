import type { EmulatorState } from './state.js';
import { CHANNEL_TYPE, type EmulatedChannel, type EmulatedThread } from './types.js';
import { invalidFormBody, type DiscordFailure } from './validate.js';

/**
 * Discord's thread rules (topics/threads.mdx, resources/webhook.mdx "Execute Webhook"), in one place for
 * the webhook and bot routes: where a message may go, what archiving and locking refuse, and the answers
 * Discord gives (topics/opcodes-and-status-codes.mdx).
 */

const failure = (status: number, code: number, message: string): DiscordFailure => ({ status, body: { message, code } });

export const THREAD_FAILURE = {
  /** A webhook's `thread_id` that is not a thread of the webhook's channel. */
  unknownThread: failure(400, 10003, 'Unknown Channel'),
  archived: failure(400, 50083, 'Thread is archived'),
  locked: failure(400, 160005, 'Thread is locked'),
  forumNeedsThread: failure(400, 220001, 'Webhooks posted to forum channels must have a thread_name or thread_id'),
  forumNotBoth: failure(400, 220002, 'Webhooks posted to forum channels cannot have both a thread_name and thread_id'),
  threadNameOutsideForum: failure(400, 220003, 'Webhooks can only create threads in forum channels'),
  wrongChannelType: failure(400, 50024, 'Cannot execute action on this channel type'),
  notTextChannel: failure(400, 50008, 'Cannot send messages in a non-text channel'),
  missingPermissions: failure(403, 50013, 'Missing Permissions'),
} as const;

/** The thread `threadId` names if it belongs to `channelId`; Discord does not let a webhook reach other channels' threads. */
export function threadOf(state: EmulatorState, channelId: string, threadId: string): EmulatedThread | undefined {
  const t = state.thread(threadId);
  return t && t.parentId === channelId ? t : undefined;
}

/**
 * Why a new message may not go into `t`, if it may not. A locked thread takes nothing from anyone without
 * Manage Threads (a webhook never has it); an archived one that is not locked is unarchived by the post
 * (the caller does that once the message is valid), as Discord does.
 */
export function postRefusal(t: EmulatedThread, canManageThreads: boolean): DiscordFailure | undefined {
  if (t.locked && !canManageThreads) return t.archived ? THREAD_FAILURE.archived : THREAD_FAILURE.locked;
  return undefined;
}

/** Editing a message needs an active thread (and, locked, Manage Threads); deleting one works in an archived thread unless it is also locked. */
export function changeRefusal(t: EmulatedThread, action: 'edit' | 'delete', canManageThreads: boolean): DiscordFailure | undefined {
  if (canManageThreads) return undefined;
  if (action === 'edit') return t.archived ? THREAD_FAILURE.archived : t.locked ? THREAD_FAILURE.locked : undefined;
  return t.archived && t.locked ? THREAD_FAILURE.archived : undefined;
}

/** Where a webhook message goes: the channel, an existing thread of it, or a new forum post named `createName`. */
export type WebhookPlacement = { ok: true; thread?: EmulatedThread; createName?: string } | ({ ok: false } & DiscordFailure);

/**
 * Execute Webhook's rules: a forum channel needs exactly one of `thread_id` and `thread_name` (220001,
 * 220002); `thread_name` anywhere else is refused (220003, "requires the webhook channel to be a forum");
 * `thread_id` must name a thread of the webhook's channel (400 Unknown Channel) that takes posts.
 */
export function webhookPlacement(state: EmulatorState, channel: EmulatedChannel, threadId: string | undefined, threadName: unknown): WebhookPlacement {
  const named = threadName !== undefined && threadName !== null;
  if (channel.type === CHANNEL_TYPE.forum) {
    if (named && threadId !== undefined) return { ok: false, ...THREAD_FAILURE.forumNotBoth };
    if (!named && threadId === undefined) return { ok: false, ...THREAD_FAILURE.forumNeedsThread };
  } else if (named) {
    return { ok: false, ...THREAD_FAILURE.threadNameOutsideForum };
  }
  if (named) {
    if (typeof threadName !== 'string') return { ok: false, ...invalidFormBody({ thread_name: { _errors: [{ code: 'BASE_TYPE_STRING', message: 'Must be a string.' }] } }) };
    if (threadName.length < 1 || threadName.length > 100) {
      return { ok: false, ...invalidFormBody({ thread_name: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }] } }) };
    }
    return { ok: true, createName: threadName };
  }
  if (threadId === undefined) return { ok: true };
  const thread = threadOf(state, channel.id, threadId);
  if (!thread) return { ok: false, ...THREAD_FAILURE.unknownThread };
  const refused = postRefusal(thread, false);
  return refused ? { ok: false, ...refused } : { ok: true, thread };
}
