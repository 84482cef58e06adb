import { z } from 'zod';
import { snowflake } from '../discord/snowflake.js';
import { describeIssues } from './faults.js';
import { EmulatorError } from './state.js';
import type { CommandOption, EmulatedCommand } from './types.js';
import { invalidFormBody, type Checked, type FormErrors } from './validate.js';

/** Discord's limits on application commands (interactions/application-commands.mdx). */
const MAX_COMMANDS = 100;
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;
const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;
const OPTION_TYPES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

type Stored = EmulatedCommand & { version: string };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The application's commands, global and per guild, as the bot registered them. A bulk overwrite replaces
 * the whole scope, but a command keeping its name keeps its id (Discord does the same, so permissions set on
 * it survive a redeploy).
 */
/** One application command permission (application-commands.mdx): type 1 role (the guild id: @everyone), 2 user, 3 channel. */
export interface CommandPermission {
  id: string;
  type: 1 | 2 | 3;
  permission: boolean;
}

export class CommandRegistry {
  private readonly scopes = new Map<string, Stored[]>();
  /** Overrides a server admin set on a command in that server (Server Settings → Integrations), by `guild:command`. */
  private readonly overrides = new Map<string, CommandPermission[]>();

  constructor(readonly applicationId: string) {}

  list(guildId?: string): EmulatedCommand[] {
    return (this.scopes.get(guildId ?? '') ?? []).map(({ version: _v, ...c }) => structuredClone(c));
  }

  /** PUT .../commands: validates every definition first, then swaps the scope, so a bad one changes nothing. */
  overwrite(body: unknown, guildId?: string): Checked<Record<string, unknown>[]> {
    const errors: FormErrors = {};
    if (!Array.isArray(body)) return { ok: false, ...invalidFormBody({ _errors: [{ code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }] }) };
    if (body.length > MAX_COMMANDS) return { ok: false, ...invalidFormBody({ _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_COMMANDS} or fewer in length.` }] }) };
    const seen = new Set<string>();
    body.forEach((def, i) => {
      const problems = checkCommand(def);
      if (isObject(def) && typeof def.name === 'string') {
        const key = `${String(def.type ?? 1)}:${def.name}`;
        if (seen.has(key)) problems.push({ path: ['name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique` });
        seen.add(key);
      }
      for (const p of problems) addError(errors, [i, ...p.path], p.code, p.message);
    });
    if (Object.keys(errors).length) return { ok: false, ...invalidFormBody(errors) };

    const before = new Map((this.scopes.get(guildId ?? '') ?? []).map((c) => [`${c.type}:${c.name}`, c]));
    const next: Stored[] = (body as Record<string, unknown>[]).map((def) => {
      const type = typeof def.type === 'number' ? def.type : 1;
      const old = before.get(`${type}:${String(def.name)}`);
      const command: Stored = {
        id: old?.id ?? snowflake(),
        name: def.name as string,
        description: typeof def.description === 'string' ? def.description : '',
        type,
        defaultMemberPermissions: def.default_member_permissions === undefined || def.default_member_permissions === null ? null : String(def.default_member_permissions),
        version: snowflake(),
      };
      if (Array.isArray(def.options) && def.options.length) command.options = structuredClone(def.options);
      if (guildId) command.guildId = guildId;
      return command;
    });
    this.scopes.set(guildId ?? '', next);
    return { ok: true, value: next.map((c) => this.object(c)) };
  }

  /** The command a person runs: a guild one first (Discord shows both; the guild one is the usual dev setup). */
  find(name: string, guildId: string): (EmulatedCommand & { version: string }) | undefined {
    const chatInput = (c: Stored) => c.name === name && c.type === 1;
    return this.scopes.get(guildId)?.find(chatInput) ?? this.scopes.get('')?.find(chatInput);
  }

  /** Replaces a guild's overrides of one command, as PUT .../guilds/{guild}/commands/{command}/permissions does. */
  setPermissions(commandId: string, guildId: string, permissions: CommandPermission[]): void {
    this.overrides.set(`${guildId}:${commandId}`, structuredClone(permissions));
  }

  /**
   * What the overrides say for this member, or undefined when none applies (then default_member_permissions
   * decides): a user override first, then the member's roles (an allow wins), then @everyone (the guild id).
   */
  overrideFor(commandId: string, guildId: string, member: { userId: string; roles: string[] }): boolean | undefined {
    const list = this.overrides.get(`${guildId}:${commandId}`);
    if (!list?.length) return undefined;
    const user = list.find((p) => p.type === 2 && p.id === member.userId);
    if (user) return user.permission;
    const roles = list.filter((p) => p.type === 1 && member.roles.includes(p.id));
    if (roles.length) return roles.some((p) => p.permission);
    return list.find((p) => p.type === 1 && p.id === guildId)?.permission;
  }

  delete(id: string, guildId?: string): boolean {
    const list = this.scopes.get(guildId ?? '');
    const i = list?.findIndex((c) => c.id === id) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    return true;
  }

  objects(guildId?: string): Record<string, unknown>[] {
    return (this.scopes.get(guildId ?? '') ?? []).map((c) => this.object(c));
  }

  /** An application command object as Discord returns it. */
  object(c: Stored): Record<string, unknown> {
    return {
      id: c.id,
      application_id: this.applicationId,
      version: c.version,
      type: c.type,
      name: c.name,
      name_localizations: null,
      description: c.description,
      description_localizations: null,
      options: c.options ?? [],
      default_member_permissions: c.defaultMemberPermissions,
      dm_permission: !c.guildId,
      nsfw: false,
      integration_types: [0],
      contexts: c.guildId ? null : [0, 1, 2],
      ...(c.guildId ? { guild_id: c.guildId } : {}),
    };
  }
}

interface Problem {
  path: (string | number)[];
  code: string;
  message: string;
}

function checkCommand(def: unknown): Problem[] {
  const out: Problem[] = [];
  if (!isObject(def)) return [{ path: [], code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }];
  const type = def.type ?? 1;
  if (type !== 1 && type !== 2 && type !== 3) out.push({ path: ['type'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of (1, 2, 3).' });
  checkName(def.name, type === 1, ['name'], out);
  if (type === 1) checkDescription(def.description, ['description'], out);
  if (def.options !== undefined && def.options !== null) checkOptions(def.options, ['options'], out, 0);
  return out;
}

function checkName(name: unknown, lowercase: boolean, path: (string | number)[], out: Problem[]): void {
  if (typeof name !== 'string' || !name) return void out.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  if (name.length > 32) return void out.push({ path, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 32 in length.' });
  if (lowercase && (!NAME.test(name) || name !== name.toLowerCase())) out.push({ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `Command name is invalid` });
}

function checkDescription(d: unknown, path: (string | number)[], out: Problem[]): void {
  if (typeof d !== 'string' || !d) return void out.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  if (d.length > 100) out.push({ path, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
}

function checkOptions(options: unknown, path: (string | number)[], out: Problem[], depth: number): void {
  if (!Array.isArray(options)) return void out.push({ path, code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' });
  if (options.length > MAX_OPTIONS) return void out.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_OPTIONS} or fewer in length.` });
  let optionalSeen = false;
  options.forEach((o, i) => {
    const at = [...path, i];
    if (!isObject(o)) return void out.push({ path: at, code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
    if (typeof o.type !== 'number' || !OPTION_TYPES.has(o.type)) out.push({ path: [...at, 'type'], code: 'BASE_TYPE_CHOICES', message: 'Value must be a valid option type.' });
    checkName(o.name, true, [...at, 'name'], out);
    checkDescription(o.description, [...at, 'description'], out);
    if (o.type === SUB_COMMAND || o.type === SUB_COMMAND_GROUP) {
      if (depth >= (o.type === SUB_COMMAND_GROUP ? 1 : 2)) out.push({ path: [...at, 'type'], code: 'APPLICATION_COMMAND_OPTION_NESTING', message: 'Sub-command nesting is too deep' });
      if (o.options !== undefined) checkOptions(o.options, [...at, 'options'], out, depth + 1);
      return;
    }
    // Discord: required options must come before optional ones.
    if (o.required === true && optionalSeen) out.push({ path: [...at, 'required'], code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', message: 'Required options must be placed before non-required options' });
    if (o.required !== true) optionalSeen = true;
    if (Array.isArray(o.choices) && o.choices.length > MAX_CHOICES) out.push({ path: [...at, 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_CHOICES} or fewer in length.` });
  });
}

function addError(errors: FormErrors, path: (string | number)[], code: string, message: string): void {
  let node = errors;
  for (const key of path) node = (node[String(key)] ??= {}) as FormErrors;
  (node._errors ??= []).push({ code, message });
}

/**
 * Checks what a person "types" against the registered definition, as Discord's client would not let them
 * send anything else: known option names, matching types, required options present, choices respected.
 * Returns the options with user/role/channel values resolved-ready. Throws an EmulatorError naming the mistake.
 */
export function checkInvocation(command: EmulatedCommand, given: CommandOption[], opts: { autocomplete: boolean }): void {
  walk(command.options ?? [], given, `/${command.name}`, opts.autocomplete);
}

function walk(defs: unknown[], given: CommandOption[], where: string, autocomplete: boolean): void {
  const byName = new Map(defs.filter(isObject).map((d) => [String(d.name), d]));
  for (const g of given) {
    const def = byName.get(g.name);
    if (!def) throw new EmulatorError(400, `${where} has no option "${g.name}" (it has: ${[...byName.keys()].join(', ') || 'none'})`);
    if (def.type !== g.type) throw new EmulatorError(400, `${where} option "${g.name}" is of type ${String(def.type)}, not ${g.type}`);
    if (g.type === SUB_COMMAND || g.type === SUB_COMMAND_GROUP) {
      walk(Array.isArray(def.options) ? def.options : [], (g.options ?? []) as CommandOption[], `${where} ${g.name}`, autocomplete);
      continue;
    }
    if (g.value === undefined) throw new EmulatorError(400, `${where} option "${g.name}" needs a value`);
    if (!autocomplete && Array.isArray(def.choices) && def.choices.length && !def.choices.some((c) => isObject(c) && c.value === g.value)) {
      throw new EmulatorError(400, `${where} option "${g.name}" must be one of its choices, got ${JSON.stringify(g.value)}`);
    }
  }
  const hasSub = defs.some((d) => isObject(d) && (d.type === SUB_COMMAND || d.type === SUB_COMMAND_GROUP));
  if (hasSub && given.length !== 1) throw new EmulatorError(400, `${where} needs exactly one sub-command (one of: ${[...byName.keys()].join(', ')})`);
  if (autocomplete) return;
  for (const d of defs.filter(isObject)) {
    if (d.required === true && !given.some((g) => g.name === d.name)) throw new EmulatorError(400, `${where} needs its required option "${String(d.name)}"`);
  }
}

/** An option as a person's client sends it (name, type, value, nested options for sub-commands, focused). */
export const optionSchema: z.ZodType<CommandOption> = z.lazy(() =>
  z.strictObject({
    name: z.string(),
    type: z.number().int(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    options: z.array(optionSchema).optional(),
    focused: z.boolean().optional(),
  }),
) as z.ZodType<CommandOption>;

/** Options given as plain data (the contract types them unknown[]); a malformed one is a 400 naming it. */
export function parseOptions(input: unknown): CommandOption[] {
  if (input === undefined) return [];
  const r = z.array(optionSchema).safeParse(input);
  if (!r.success) throw new EmulatorError(400, `invalid options: ${describeIssues(r.error)}`);
  return r.data;
}
