import { PermissionFlagsBits, type Interaction } from 'discord.js';
import type { Access } from './types.js';

export interface AccessConfig {
  adminRoleIds: string[];
  oncallRoleIds: string[];
}

/** The member's role ids, whether discord.js has the member cached (GuildMember) or raw (API member). */
function roleIds(i: Interaction): string[] {
  const roles = (i.member as { roles?: unknown } | null)?.roles;
  if (Array.isArray(roles)) return roles as string[];
  const cache = (roles as { cache?: Map<string, unknown> } | undefined)?.cache;
  return cache ? [...cache.keys()] : [];
}

const mention = (ids: string[]) => ids.map((id) => `<@&${id}>`).join(', ');

/**
 * Checks whether the person may do this. Returns undefined when allowed, else a refusal that names
 * what is missing (shown ephemeral).
 */
export function refusal(i: Interaction, access: Access, cfg: AccessConfig, what: string): string | undefined {
  if (!i.inGuild()) return 'Herald works in a server channel only.';
  if (access === 'member') return undefined;
  const has = new Set(roleIds(i));
  if (access === 'admin') {
    if (i.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) return undefined;
    if (cfg.adminRoleIds.some((r) => has.has(r))) return undefined;
    return cfg.adminRoleIds.length
      ? `You need the Manage Server permission or one of these roles to use ${what}: ${mention(cfg.adminRoleIds)}.`
      : `You need the Manage Server permission to use ${what}.`;
  }
  // on-call: any member when no on-call role is configured.
  if (cfg.oncallRoleIds.length === 0) return undefined;
  if (cfg.oncallRoleIds.some((r) => has.has(r))) return undefined;
  return `You need one of the on-call roles to use ${what}: ${mention(cfg.oncallRoleIds)}.`;
}
