import { EmulatorError } from './state.js';

/**
 * Discord's permission bits (topics/permissions.mdx), by the names discord.js uses (PermissionFlagsBits), so
 * a test can say `permissions: 'ManageGuild'` instead of a number. Kept here rather than imported from
 * discord.js: the emulator is Discord's side and should not depend on a client library.
 */
export const PERMISSION_BITS: Readonly<Record<string, bigint>> = {
  CreateInstantInvite: 1n << 0n,
  KickMembers: 1n << 1n,
  BanMembers: 1n << 2n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewAuditLog: 1n << 7n,
  PrioritySpeaker: 1n << 8n,
  Stream: 1n << 9n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  SendTTSMessages: 1n << 12n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  ViewGuildInsights: 1n << 19n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  MuteMembers: 1n << 22n,
  DeafenMembers: 1n << 23n,
  MoveMembers: 1n << 24n,
  UseVAD: 1n << 25n,
  ChangeNickname: 1n << 26n,
  ManageNicknames: 1n << 27n,
  ManageRoles: 1n << 28n,
  ManageWebhooks: 1n << 29n,
  ManageGuildExpressions: 1n << 30n,
  UseApplicationCommands: 1n << 31n,
  RequestToSpeak: 1n << 32n,
  ManageEvents: 1n << 33n,
  ManageThreads: 1n << 34n,
  CreatePublicThreads: 1n << 35n,
  CreatePrivateThreads: 1n << 36n,
  UseExternalStickers: 1n << 37n,
  SendMessagesInThreads: 1n << 38n,
  UseEmbeddedActivities: 1n << 39n,
  ModerateMembers: 1n << 40n,
  ViewCreatorMonetizationAnalytics: 1n << 41n,
  UseSoundboard: 1n << 42n,
  CreateGuildExpressions: 1n << 43n,
  CreateEvents: 1n << 44n,
  UseExternalSounds: 1n << 45n,
  SendVoiceMessages: 1n << 46n,
  SendPolls: 1n << 49n,
  UseExternalApps: 1n << 50n,
};

export const ALL_PERMISSIONS = Object.values(PERMISSION_BITS).reduce((a, b) => a | b, 0n);

/** What a new guild's @everyone may do on Discord: talk, read, react, use commands; nothing that manages. */
export const EVERYONE_DEFAULT = bits(
  'CreateInstantInvite', 'AddReactions', 'Stream', 'ViewChannel', 'SendMessages', 'EmbedLinks', 'AttachFiles', 'ReadMessageHistory',
  'UseExternalEmojis', 'Connect', 'Speak', 'UseVAD', 'ChangeNickname', 'UseApplicationCommands', 'CreatePublicThreads',
  'CreatePrivateThreads', 'UseExternalStickers', 'SendMessagesInThreads', 'UseEmbeddedActivities', 'SendVoiceMessages', 'SendPolls',
);

/** What the emulated bot's managed role grants: enough for Herald (webhooks, its own and others' messages). */
export const BOT_DEFAULT = EVERYONE_DEFAULT | bits('ManageWebhooks', 'ManageMessages', 'ManageChannels');

function bits(...names: string[]): bigint {
  return names.reduce((acc, n) => acc | PERMISSION_BITS[n]!, 0n);
}

/**
 * Reads permissions given as a decimal bitfield ('32'), a list of names (['ManageGuild', 'ManageWebhooks'])
 * or comma-separated names ('ManageGuild,ManageWebhooks'). An unknown name is a mistake worth a clear error.
 */
export function parsePermissions(input: string | string[] | undefined): bigint {
  if (input === undefined) return 0n;
  if (typeof input === 'string' && /^\d+$/.test(input.trim())) return BigInt(input.trim()) & ALL_PERMISSIONS;
  const names = (Array.isArray(input) ? input : input.split(',')).map((n) => n.trim()).filter(Boolean);
  let out = 0n;
  for (const name of names) {
    const bit = PERMISSION_BITS[name];
    if (bit === undefined) throw new EmulatorError(400, `unknown permission "${name}" (use Discord's names, e.g. ManageGuild, or a bitfield string)`);
    out |= bit;
  }
  return out;
}

/** Administrator means everything, as Discord computes it. */
export function effective(perms: bigint): bigint {
  return perms & PERMISSION_BITS.Administrator! ? ALL_PERMISSIONS : perms;
}
