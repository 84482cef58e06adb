import { isDiscordId } from '../discord/ids.js';
import { snowflake } from '../discord/snowflake.js';
import { BOT_DEFAULT, EVERYONE_DEFAULT, PERMISSION_BITS, effective, parsePermissions } from './permissions.js';
import { EmulatorError } from './state.js';
import type { EmulatedMember, EmulatedRole } from './types.js';

/**
 * The people side of one emulated guild: its roles (@everyone first, whose id is the guild's, as on
 * Discord), its members and the bot's own user. Channels, webhooks and messages stay in EmulatorState.
 */
export class GuildDirectory {
  /** The guild's owner: a member nobody acts as, so that no test member is owner (owners bypass permissions). */
  readonly ownerId = snowflake();
  readonly createdAt = Date.now();
  private readonly rolesById = new Map<string, { id: string; name: string; permissions: bigint; position: number; managed: boolean }>();
  private readonly membersById = new Map<string, { id: string; username: string; roles: string[]; permissions: bigint; joinedAt: number; bot: boolean }>();
  /** Called with each role created after start (the gateway announces it). */
  onRoleCreated: (role: EmulatedRole) => void = () => {};

  constructor(
    readonly guildId: string,
    /** The bot user's id: the application id, as for Discord bots. */
    readonly botUserId: string,
    readonly botUsername = 'Herald',
    readonly name = 'Herald Emulated Guild',
  ) {
    this.rolesById.set(guildId, { id: guildId, name: '@everyone', permissions: EVERYONE_DEFAULT, position: 0, managed: false });
    const botRole = snowflake();
    this.rolesById.set(botRole, { id: botRole, name: botUsername, permissions: BOT_DEFAULT, position: 1, managed: true });
    this.membersById.set(botUserId, { id: botUserId, username: botUsername, roles: [botRole], permissions: 0n, joinedAt: Date.now(), bot: true });
  }

  /** `id`: a fixed id (a demo can then name it in HERALD_ONCALL_ROLE_IDS before the emulator starts). */
  createRole(opts: { name: string; permissions?: string | string[] | undefined; id?: string | undefined }): EmulatedRole {
    if (typeof opts.name !== 'string' || opts.name.length < 1 || opts.name.length > 100) throw new EmulatorError(400, 'role name must be 1 to 100 characters');
    if (opts.id !== undefined && !isDiscordId(opts.id)) throw new EmulatorError(400, `role id must be a snowflake (17 to 20 digits), got ${JSON.stringify(opts.id)}`);
    if (opts.id !== undefined && this.rolesById.has(opts.id)) throw new EmulatorError(409, `role ${opts.id} exists already`);
    const role = { id: opts.id ?? snowflake(), name: opts.name, permissions: parsePermissions(opts.permissions), position: this.rolesById.size, managed: false };
    this.rolesById.set(role.id, role);
    const pub = this.publicRole(role);
    this.onRoleCreated(pub);
    return pub;
  }

  createMember(opts: { username?: string | undefined; roles?: string[] | undefined; permissions?: string | string[] | undefined } = {}): EmulatedMember {
    const roles = opts.roles ?? [];
    for (const r of roles) {
      if (!this.rolesById.has(r) || r === this.guildId) throw new EmulatorError(404, `unknown role ${r} (create it with createRole first)`, 10011);
    }
    const username = opts.username ?? `person${this.membersById.size}`;
    if (!/^[a-z0-9_.]{2,32}$/i.test(username)) throw new EmulatorError(400, 'username must be 2 to 32 letters, digits, _ or .');
    const member = { id: snowflake(), username, roles: [...new Set(roles)], permissions: parsePermissions(opts.permissions), joinedAt: Date.now(), bot: false };
    this.membersById.set(member.id, member);
    return this.publicMember(member);
  }

  /** PUT /guilds/{guild}/members/{user}/roles/{role}, as a server admin would give a role. */
  addMemberRole(memberId: string, roleId: string): EmulatedMember {
    const m = this.membersById.get(memberId);
    if (!m) throw new EmulatorError(404, `unknown member ${memberId}`, 10013);
    if (!this.rolesById.has(roleId) || roleId === this.guildId) throw new EmulatorError(404, `unknown role ${roleId}`, 10011);
    if (!m.roles.includes(roleId)) m.roles.push(roleId);
    return this.publicMember(m);
  }

  member(id: string): EmulatedMember | undefined {
    const m = this.membersById.get(id);
    return m && this.publicMember(m);
  }

  /** The people in the guild (the bot's own user left out), in the order they joined. */
  members(): EmulatedMember[] {
    return [...this.membersById.values()].filter((m) => !m.bot).map((m) => this.publicMember(m));
  }

  role(id: string): EmulatedRole | undefined {
    const r = this.rolesById.get(id);
    return r && this.publicRole(r);
  }

  /** @everyone, then the member's roles, then its own grant; Administrator means all. */
  permissionsOf(userId: string): bigint {
    const m = this.membersById.get(userId);
    if (!m) return 0n;
    let perms = this.rolesById.get(this.guildId)!.permissions | m.permissions;
    for (const r of m.roles) perms |= this.rolesById.get(r)?.permissions ?? 0n;
    return effective(perms);
  }

  /** Whether the user holds one permission, by Discord's name (e.g. 'ManageThreads'); an unknown name never holds. */
  has(userId: string, permission: string): boolean {
    const bit = PERMISSION_BITS[permission];
    return bit !== undefined && (this.permissionsOf(userId) & bit) !== 0n;
  }

  /** A user object (resources/user.mdx). */
  userObject(id: string): Record<string, unknown> {
    const m = this.membersById.get(id);
    if (!m) throw new EmulatorError(404, `unknown member ${id}`, 10013);
    return { id: m.id, username: m.username, discriminator: m.bot ? '0000' : '0', global_name: m.bot ? null : m.username, avatar: null, bot: m.bot, system: false, public_flags: 0, flags: 0, banner: null, accent_color: null };
  }

  /** A guild member object; `withPermissions` for interactions, where Discord adds the computed permissions. */
  memberObject(id: string, withPermissions = false): Record<string, unknown> {
    const m = this.membersById.get(id)!;
    return {
      user: this.userObject(id),
      nick: null,
      avatar: null,
      banner: null,
      roles: [...m.roles],
      joined_at: new Date(m.joinedAt).toISOString(),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
      ...(withPermissions ? { permissions: this.permissionsOf(id).toString() } : {}),
    };
  }

  roleObject(id: string): Record<string, unknown> {
    const r = this.rolesById.get(id)!;
    return {
      id: r.id,
      name: r.name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: r.position,
      permissions: r.permissions.toString(),
      managed: r.managed,
      mentionable: false,
      flags: 0,
      ...(r.managed ? { tags: { bot_id: this.botUserId } } : {}),
    };
  }

  roleIds(): string[] {
    return [...this.rolesById.keys()];
  }

  /** Everyone the guild holds, bot included (GUILD_CREATE lists them; Discord does so for small guilds). */
  memberIds(): string[] {
    return [...this.membersById.keys()];
  }

  private publicRole(r: { id: string; name: string; permissions: bigint }): EmulatedRole {
    return { id: r.id, name: r.name, permissions: r.permissions.toString() };
  }

  private publicMember(m: { id: string; username: string; roles: string[]; permissions: bigint }): EmulatedMember {
    return { id: m.id, username: m.username, roles: [...m.roles], permissions: m.permissions.toString() };
  }
}

/**
 * Every guild the emulated bot is in: the home one (where Herald's channels live) and any other a test
 * invites it to (a public bot can be added to any server; Herald must ignore what comes from there).
 */
export class Guilds {
  private readonly byId = new Map<string, GuildDirectory>();
  /** Called with each guild made after start (the gateway announces it with GUILD_CREATE, as when the bot joins). */
  onGuildCreated: (guild: GuildDirectory) => void = () => {};

  constructor(readonly home: GuildDirectory) {
    this.byId.set(home.guildId, home);
  }

  get(id: string): GuildDirectory | undefined {
    return this.byId.get(id);
  }

  /** The guild of a channel's guild id; the home guild's directory for unknown ids is never guessed. */
  of(guildId: string): GuildDirectory {
    const g = this.byId.get(guildId);
    if (!g) throw new EmulatorError(404, `unknown guild ${guildId}`, 10004);
    return g;
  }

  all(): GuildDirectory[] {
    return [...this.byId.values()];
  }

  create(name = `Another Server ${this.byId.size}`): GuildDirectory {
    if (name.length < 2 || name.length > 100) throw new EmulatorError(400, 'guild name must be 2 to 100 characters');
    const g = new GuildDirectory(snowflake(), this.home.botUserId, this.home.botUsername, name);
    this.byId.set(g.guildId, g);
    this.onGuildCreated(g);
    return g;
  }
}
