import { PermissionFlagsBits } from 'discord.js';
import { botReadiness, startBot, type Bot } from '../../src/bot/index.js';
import { commandList } from '../../src/bot/registry.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { addReadinessCheck } from '../../src/ingest/ops.js';
import { startStack, waitFor, type Stack } from './stack.js';

/** The emulator's gateway half and act-as-a-person API, as the work-split contract names them (helper A). */
export interface InteractionResult {
  type: number;
  content: string;
  embeds: unknown[];
  components: unknown[];
  ephemeral: boolean;
  followups: Array<{ content: string; embeds: unknown[]; ephemeral: boolean }>;
}
export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: CommandOption[];
}
export type GatewayEmulator = Emulator & {
  readonly botToken: string;
  readonly applicationId: string;
  readonly guildId: string;
  createRole(opts: { name: string; permissions?: string }): { id: string; name: string };
  createMember(opts?: { username?: string; roles?: string[]; permissions?: string }): { id: string; username: string };
  commands(scope?: { guildId?: string }): Array<{ id: string; name: string; description: string; options?: unknown[] }>;
  runCommand(opts: { userId: string; channelId: string; name: string; options?: CommandOption[] }): Promise<InteractionResult>;
  pressButton(opts: { userId: string; channelId: string; messageId: string; customId: string }): Promise<InteractionResult>;
  autocomplete(opts: { userId: string; channelId: string; name: string; options: unknown[] }): Promise<Array<{ name: string; value: string | number }>>;
  dropGateway(opts?: { code?: number }): void;
  gatewayStats(): { connections: number; identifies: number; resumes: number };
};

/** Application command option types. */
export const T = { SUB: 1, GROUP: 2, STRING: 3, INTEGER: 4, BOOLEAN: 5, CHANNEL: 7 } as const;
export const opt = (name: string, type: number, value?: string | number | boolean): CommandOption => ({ name, type, ...(value === undefined ? {} : { value }) });
export const sub = (name: string, ...options: CommandOption[]): CommandOption => ({ name, type: T.SUB, options });
/** For autocomplete: the option being typed. */
export const focused = (name: string, value: string, type: number = T.STRING) => ({ name, type, value, focused: true });

/** True once the emulator has its gateway (helper A's branch merged): the bot tests skip until then. */
export async function emulatorHasGateway(): Promise<boolean> {
  const e = await startEmulator();
  try {
    return typeof (e as Partial<GatewayEmulator>).runCommand === 'function';
  } finally {
    await e.close();
  }
}

/** True when the commands that need the lifecycle services (helper B) are in the loader. */
export const hasCommand = (name: string): boolean => commandList().some((c) => c.data.name === name);

export const MANAGE_GUILD = PermissionFlagsBits.ManageGuild.toString();

export interface BotStack extends Stack {
  emulator: GatewayEmulator;
  bot: Bot;
  /** A member with Manage Server. */
  admin_: { id: string };
  /** A member with no permission and no role. */
  member: { id: string };
  readyz(): Promise<{ status: number; body: { ok: boolean; problems: string[] } }>;
  startBot(): Promise<Bot>;
}

/**
 * A real Herald (stack.ts) with the real bot (discord.js) connected to the emulator's gateway, commands
 * registered in the emulated guild, and /readyz counting the bot, as main.ts wires it.
 */
export async function startBotStack(opts: { env?: Record<string, string>; emulator?: EmulatorOptions } = {}): Promise<BotStack> {
  const emulator = (await startEmulator(opts.emulator)) as GatewayEmulator;
  const stack = await startStack({ emulatorInstance: emulator, env: { DISCORD_TOKEN: emulator.botToken, ...opts.env } });
  const d = stack.herald.config.discord;
  let bot: Bot | undefined;
  addReadinessCheck(stack.herald, botReadiness(() => bot));
  const start = async () => {
    const b = await startBot(stack.herald, {
      token: emulator.botToken,
      apiUrl: d.apiUrl,
      guildId: emulator.guildId,
      adminRoleIds: d.adminRoleIds,
      oncallRoleIds: d.oncallRoleIds,
      log: stack.herald.log,
      registerCommands: true,
    });
    bot = b;
    await waitFor('the bot to connect and register its commands', () => b.healthy().ok && emulator.commands({ guildId: emulator.guildId }).length > 0, 20_000);
    return b;
  };
  const first = await start();
  const closeStack = stack.close;
  const s: BotStack = Object.assign(stack, {
    emulator,
    bot: first,
    admin_: emulator.createMember({ username: 'admin', permissions: MANAGE_GUILD }),
    member: emulator.createMember({ username: 'member' }),
    async readyz() {
      const res = await fetch(`${stack.url}/readyz`);
      return { status: res.status, body: (await res.json()) as { ok: boolean; problems: string[] } };
    },
    async startBot() {
      s.bot = await start();
      return s.bot;
    },
    async close() {
      await bot?.close();
      await closeStack();
      await emulator.close();
    },
  });
  return s;
}
