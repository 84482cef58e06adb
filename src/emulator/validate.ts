import { DISCORD_ERROR, FORBIDDEN_USERNAME, MESSAGE_LIMITS, embedLength, type Embed } from '../discord/limits.js';
import type { EmulatedMessage } from './types.js';

/**
 * Message validation as Discord does it for webhooks: every limit from the shared table, reported as a
 * `50035 Invalid Form Body` whose `errors` tree mirrors the request (`embeds.0.fields.3.value._errors`),
 * so a client's error handling meets the real shape. Length codes and messages are Discord's own; type
 * errors (rare for a well-behaved client) use Discord-like codes.
 */

export interface FormError {
  code: string;
  message: string;
}
export interface FormErrors {
  [key: string]: FormErrors | FormError[] | undefined;
  _errors?: FormError[];
}

/** An answer the route sends as is. */
export interface DiscordFailure {
  status: number;
  body: Record<string, unknown>;
}

/** What a valid body asks for; absent fields were not given (an edit leaves them unchanged). */
export interface MessageInput {
  content?: string;
  embeds?: unknown[];
  components?: unknown[];
  flags?: number;
  username?: string;
  avatarUrl?: string;
  allowedMentions?: unknown;
}

export type Checked<T> = { ok: true; value: T } | ({ ok: false } & DiscordFailure);

/** Flags a webhook may set: SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2. Others are ignored. */
const WEBHOOK_FLAGS = (1 << 2) | (1 << 12) | (1 << 15);
const LINK_BUTTON = 5;

class ErrorTree {
  readonly root: FormErrors = {};
  count = 0;

  add(path: (string | number)[], code: string, message: string): void {
    let node = this.root;
    for (const key of path) node = (node[String(key)] ??= {}) as FormErrors;
    (node._errors ??= []).push({ code, message });
    this.count++;
  }

  maxLength(path: (string | number)[], value: unknown, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') return this.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
    if (value.length > max) this.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  }

  /** A required string of 1..max characters (field names and values, footer text, author name). */
  required(path: (string | number)[], value: unknown, max: number): void {
    if (value === undefined || value === null || value === '') return this.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    this.maxLength(path, value, max);
  }
}

export function invalidFormBody(errors: FormErrors): DiscordFailure {
  return { status: 400, body: { code: DISCORD_ERROR.invalidFormBody, message: 'Invalid Form Body', errors } };
}

export const EMPTY_MESSAGE: DiscordFailure = { status: 400, body: { code: DISCORD_ERROR.emptyMessage, message: 'Cannot send an empty message' } };

/** Request bodies arrive as text (see webhooks.ts) so that bad JSON gets Discord's answer, not the framework's. */
export function parseJson(raw: unknown): Checked<unknown> {
  if (raw === undefined || raw === null || raw === '') return { ok: true, value: {} };
  if (typeof raw !== 'string') return { ok: true, value: raw };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, status: 400, body: { code: 50109, message: 'The request body contains invalid JSON.' } };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CheckOptions {
  /** 'edit' ignores username and avatar (Discord does) and lets null clear a field. */
  mode: 'create' | 'edit';
  applicationOwned: boolean;
  /** `?with_components=true`: a non-application webhook may then send link buttons (only). */
  withComponents: boolean;
  /** Flags allowed on top of a webhook's (an interaction answer may be EPHEMERAL, 64). */
  extraFlags?: number;
}

/** Validates an execute or edit body. Components a webhook may not send are dropped first, silently, as Discord does. */
export function checkMessage(body: unknown, opts: CheckOptions): Checked<MessageInput> {
  const errors = new ErrorTree();
  if (!isObject(body)) {
    errors.add([], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    return { ok: false, ...invalidFormBody(errors.root) };
  }
  const out: MessageInput = {};

  if (body.content !== undefined && body.content !== null) {
    errors.maxLength(['content'], body.content, MESSAGE_LIMITS.content);
    if (typeof body.content === 'string') out.content = body.content;
  } else if (body.content === null && opts.mode === 'edit') out.content = '';

  if (opts.mode === 'create') {
    const username = body.username;
    if (username !== undefined && username !== null) {
      if (typeof username !== 'string') errors.add(['username'], 'BASE_TYPE_STRING', 'Must be a string.');
      else if (username.length < 1 || username.length > MESSAGE_LIMITS.username) {
        errors.add(['username'], 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${MESSAGE_LIMITS.username} in length.`);
      } else {
        const word = FORBIDDEN_USERNAME.exec(username)?.[0];
        if (word) errors.add(['username'], 'USERNAME_INVALID_CONTAINS', `Username cannot contain "${word.toLowerCase()}"`);
        else out.username = username;
      }
    }
    if (body.avatar_url !== undefined && body.avatar_url !== null) {
      if (typeof body.avatar_url !== 'string') errors.add(['avatar_url'], 'BASE_TYPE_STRING', 'Must be a string.');
      else out.avatarUrl = body.avatar_url;
    }
  }

  if (body.embeds !== undefined && body.embeds !== null) {
    if (!Array.isArray(body.embeds)) errors.add(['embeds'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    else {
      checkEmbeds(body.embeds, errors);
      out.embeds = body.embeds;
    }
  } else if (body.embeds === null && opts.mode === 'edit') out.embeds = [];

  if (body.components !== undefined && body.components !== null) {
    if (!Array.isArray(body.components)) errors.add(['components'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    else {
      const kept = opts.applicationOwned ? body.components : opts.withComponents ? linkButtonsOnly(body.components) : [];
      checkComponents(kept, errors);
      out.components = kept;
    }
  } else if (body.components === null && opts.mode === 'edit') out.components = [];

  if (body.flags !== undefined && body.flags !== null) {
    if (typeof body.flags !== 'number' || !Number.isInteger(body.flags)) errors.add(['flags'], 'NUMBER_TYPE_COERCE', `Value "${String(body.flags)}" is not int.`);
    else out.flags = body.flags & (WEBHOOK_FLAGS | (opts.extraFlags ?? 0));
  }

  if (body.allowed_mentions !== undefined && body.allowed_mentions !== null) {
    checkAllowedMentions(body.allowed_mentions, errors);
    out.allowedMentions = body.allowed_mentions;
  }

  if (errors.count) return { ok: false, ...invalidFormBody(errors.root) };
  return { ok: true, value: out };
}

/**
 * Applies an edit body to a stored message as Discord does: fields left out stay as they were, and an edit
 * may not leave the message empty. Shared by every edit route (webhook message, bot message, @original).
 */
export function applyMessageEdit(m: EmulatedMessage, raw: unknown, opts: Omit<CheckOptions, 'mode'>): { ok: true } | ({ ok: false } & DiscordFailure) {
  const parsed = parseJson(raw);
  if (!parsed.ok) return parsed;
  const checked = checkMessage(parsed.value, { ...opts, mode: 'edit' });
  if (!checked.ok) return checked;
  const edit = checked.value;
  const next = { content: edit.content ?? m.content, embeds: edit.embeds ?? m.embeds, components: edit.components ?? m.components };
  if (isEmptyMessage(next)) return { ok: false, ...EMPTY_MESSAGE };
  Object.assign(m, next, { editedAt: Date.now() });
  if (edit.allowedMentions !== undefined) m.allowedMentions = edit.allowedMentions;
  if (edit.flags !== undefined) m.flags = edit.flags;
  return { ok: true };
}

/** Discord refuses a message with nothing to show (components dropped for the webhook do not count). */
export function isEmptyMessage(m: { content?: string; embeds?: unknown[]; components?: unknown[] }): boolean {
  return !(m.content ?? '').trim() && !(m.embeds?.length ?? 0) && !(m.components?.length ?? 0);
}

function checkEmbeds(embeds: unknown[], errors: ErrorTree): void {
  if (embeds.length > MESSAGE_LIMITS.embeds) {
    errors.add(['embeds'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MESSAGE_LIMITS.embeds} or fewer in length.`);
    return;
  }
  const before = errors.count;
  embeds.forEach((e, i) => {
    const at = ['embeds', i];
    if (!isObject(e)) return errors.add(at, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    errors.maxLength([...at, 'title'], e.title, MESSAGE_LIMITS.embedTitle);
    errors.maxLength([...at, 'description'], e.description, MESSAGE_LIMITS.embedDescription);
    errors.maxLength([...at, 'url'], e.url, 2048);
    if (e.color !== undefined && e.color !== null && !(typeof e.color === 'number' && Number.isInteger(e.color) && e.color >= 0 && e.color <= 0xffffff)) {
      errors.add([...at, 'color'], 'NUMBER_TYPE_MAX', `int value should be less than or equal to ${0xffffff}.`);
    }
    if (e.footer !== undefined && e.footer !== null) {
      if (!isObject(e.footer)) errors.add([...at, 'footer'], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      else errors.required([...at, 'footer', 'text'], e.footer.text, MESSAGE_LIMITS.footerText);
    }
    if (e.author !== undefined && e.author !== null) {
      if (!isObject(e.author)) errors.add([...at, 'author'], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      else errors.required([...at, 'author', 'name'], e.author.name, MESSAGE_LIMITS.authorName);
    }
    if (e.fields !== undefined && e.fields !== null) {
      if (!Array.isArray(e.fields)) return errors.add([...at, 'fields'], 'BASE_TYPE_ARRAY', 'Must be an array.');
      if (e.fields.length > MESSAGE_LIMITS.embedFields) {
        return errors.add([...at, 'fields'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MESSAGE_LIMITS.embedFields} or fewer in length.`);
      }
      e.fields.forEach((f, j) => {
        const fat = [...at, 'fields', j];
        if (!isObject(f)) return errors.add(fat, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
        errors.required([...fat, 'name'], f.name, MESSAGE_LIMITS.fieldName);
        errors.required([...fat, 'value'], f.value, MESSAGE_LIMITS.fieldValue);
      });
    }
  });
  // The 6000 total is judged only on well-formed embeds (embedLength needs the shape), like Discord reports it:
  // once, on `embeds` itself.
  if (errors.count === before) {
    const total = (embeds as Embed[]).reduce((n, e) => n + embedLength(e), 0);
    if (total > MESSAGE_LIMITS.embedsTotal) {
      errors.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${MESSAGE_LIMITS.embedsTotal}`);
    }
  }
}

/** What a pasted (non-application) webhook keeps with `?with_components=true`: link buttons, in their rows. */
function linkButtonsOnly(rows: unknown[]): unknown[] {
  const kept: unknown[] = [];
  for (const row of rows) {
    if (!isObject(row) || row.type !== 1 || !Array.isArray(row.components)) continue;
    const links = row.components.filter((c) => isObject(c) && c.type === 2 && c.style === LINK_BUTTON);
    if (links.length) kept.push({ ...row, components: links });
  }
  return kept;
}

/** Action rows (type 1) of buttons (type 2); other component types (v2 layouts, selects) pass unchecked. */
function checkComponents(rows: unknown[], errors: ErrorTree): void {
  if (rows.length > MESSAGE_LIMITS.actionRows) {
    errors.add(['components'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MESSAGE_LIMITS.actionRows} or fewer in length.`);
    return;
  }
  rows.forEach((row, i) => {
    const at = ['components', i];
    if (!isObject(row)) return errors.add(at, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    if (row.type !== 1) return;
    if (!Array.isArray(row.components)) return errors.add([...at, 'components'], 'BASE_TYPE_REQUIRED', 'This field is required');
    if (row.components.length < 1 || row.components.length > MESSAGE_LIMITS.buttonsPerRow) {
      return errors.add([...at, 'components'], 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${MESSAGE_LIMITS.buttonsPerRow} in length.`);
    }
    row.components.forEach((c, j) => {
      const cat = [...at, 'components', j];
      if (!isObject(c)) return errors.add(cat, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
      if (c.type !== 2) return;
      if (c.style === LINK_BUTTON) {
        if (typeof c.url !== 'string' || !c.url) errors.add([...cat, 'url'], 'BASE_TYPE_REQUIRED', 'This field is required');
      } else errors.required([...cat, 'custom_id'], c.custom_id, MESSAGE_LIMITS.customId);
      errors.maxLength([...cat, 'label'], c.label, 80);
    });
  });
}

const MENTION_TYPES = ['roles', 'users', 'everyone'] as const;

function checkAllowedMentions(am: unknown, errors: ErrorTree): void {
  if (!isObject(am)) return errors.add(['allowed_mentions'], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
  const parse = am.parse ?? [];
  if (!Array.isArray(parse)) return errors.add(['allowed_mentions', 'parse'], 'BASE_TYPE_ARRAY', 'Must be an array.');
  parse.forEach((p, i) => {
    if (!MENTION_TYPES.includes(p as (typeof MENTION_TYPES)[number])) {
      errors.add(['allowed_mentions', 'parse', i], 'BASE_TYPE_CHOICES', `Value must be one of (${MENTION_TYPES.map((t) => `'${t}'`).join(', ')}).`);
    }
  });
  for (const type of ['roles', 'users'] as const) {
    const ids = am[type];
    if (ids === undefined || ids === null) continue;
    if (!Array.isArray(ids)) errors.add(['allowed_mentions', type], 'BASE_TYPE_ARRAY', 'Must be an array.');
    else if (ids.length > 100) errors.add(['allowed_mentions', type], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    else if (ids.length && parse.includes(type)) {
      errors.add(['allowed_mentions'], 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', `parse:["${type}"] and ${type}: [ids...] are mutually exclusive.`);
    }
  }
}
