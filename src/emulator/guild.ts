import { snowflake } from '../discord/snowflake.js';
import { BOT_DEFAULT, EVERYONE_DEFAULT, effective, parsePermissions } from './permissions.js';
import { EmulatorError } from './state.js';
import type { EmulatedMember, EmulatedRole } from './types.js';

/**
 * The people side of the one emulated guild: its roles (@everyone first, whose id is the guild's, as on
 * Discord), its members and the bot's own user. Channels, webhooks and messages stay in EmulatorState.
 */
export class GuildDirectory {
  readonly name = 'Herald Emulated Guild';
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
  ) {
    this.rolesById.set(guildId, { id: guildId, name: '@everyone', permissions: EVERYONE_DEFAULT, position: 0, managed: false });
    const botRole = snowflake();
    this.rolesById.set(botRole, { id: botRole, name: botUsername, permissions: BOT_DEFAULT, position: 1, managed: true });
    this.membersById.set(botUserId, { id: botUserId, username: botUsername, roles: [botRole], permissions: 0n, joinedAt: Date.now(), bot: true });
  }

  createRole(opts: { name: string; permissions?: string | string[] | undefined }): EmulatedRole {
    if (typeof opts.name !== 'string' || opts.name.length < 1 || opts.name.length > 100) throw new EmulatorError(400, 'role name must be 1 to 100 characters');
    const role = { id: snowflake(), name: opts.name, permissions: parsePermissions(opts.permissions), position: this.rolesById.size, managed: false };
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

  member(id: string): EmulatedMember | undefined {
    const m = this.membersById.get(id);
    return m && this.publicMember(m);
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
