import { PermissionFlagsBits, type Interaction } from 'discord.js';
import type { Access, AccessConfig } from './types.js';

export type { AccessConfig };

/** The member's role ids, whether discord.js has the member cached (GuildMember) or raw (API member). */
function roleIds(i: Interaction): string[] {
  const roles = (i.member as { roles?: unknown } | null)?.roles;
  if (Array.isArray(roles)) return roles as string[];
  const cache = (roles as { cache?: Map<string, unknown> } | undefined)?.cache;
  return cache ? [...cache.keys()] : [];
}

const mention = (ids: string[]) => ids.map((id) => `<@&${id}>`).join(', ');
const managesServer = (i: Interaction) => i.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true;
const holdsOneOf = (i: Interaction, ids: string[]) => {
  const has = new Set(roleIds(i));
  return ids.some((r) => has.has(r));
};

/** Manage Server, or one of HERALD_ADMIN_ROLE_IDS. */
export function isAdmin(i: Interaction, cfg: AccessConfig): boolean {
  return managesServer(i) || holdsOneOf(i, cfg.adminRoleIds);
}

/** The refusal for an action that needs admin; `purpose` ends the sentence: "to use /route list", "to mute every service". */
export function adminRefusal(cfg: AccessConfig, purpose: string): string {
  return cfg.adminRoleIds.length
    ? `You need the Manage Server permission or one of these roles ${purpose}: ${mention(cfg.adminRoleIds)}.`
    : `You need the Manage Server permission ${purpose}.`;
}

/**
 * Where the interaction comes from: our server, or a refusal. A public bot can be invited anywhere, and
 * DMs have no server at all; neither may touch our alerts.
 */
export function placeRefusal(i: Interaction, cfg: AccessConfig): string | undefined {
  if (!i.inGuild()) return 'Herald works in a server channel only.';
  if (i.guildId !== cfg.guildId) return 'Herald does not act for this server.';
  return undefined;
}

/**
 * Checks whether the person may do this, here. Returns undefined when allowed, else a refusal that names
 * what is missing (shown ephemeral). On-call actions are denied by default: with no on-call role
 * configured only Manage Server (and admins) may take them.
 */
export function refusal(i: Interaction, access: Access, cfg: AccessConfig, what: string): string | undefined {
  const place = placeRefusal(i, cfg);
  if (place) return place;
  if (access === 'member') return undefined;
  if (isAdmin(i, cfg)) return undefined;
  if (access === 'admin') return adminRefusal(cfg, `to use ${what}`);
  if (holdsOneOf(i, cfg.oncallRoleIds)) return undefined;
  return cfg.oncallRoleIds.length
    ? `You need one of the on-call roles or the Manage Server permission to use ${what}: ${mention(cfg.oncallRoleIds)}.`
    : `You need the Manage Server permission to use ${what} (no on-call role is configured).`;
}
