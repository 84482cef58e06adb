import { PermissionFlagsBits } from 'discord.js';
import { botReadiness, startBot, type Bot, type BotOptions } from '../../src/bot/index.js';
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { startStack, waitFor, type Stack } from './stack.js';

export type { InteractionResult } from '../../src/emulator/index.js';

/** An option of a command invocation, as the emulator's runCommand takes it. */
export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: CommandOption[];
}

/** Application command option types. */
export const T = { SUB: 1, GROUP: 2, STRING: 3, INTEGER: 4, BOOLEAN: 5, CHANNEL: 7 } as const;
export const opt = (name: string, type: number, value?: string | number | boolean): CommandOption => ({ name, type, ...(value === undefined ? {} : { value }) });
export const sub = (name: string, ...options: CommandOption[]): CommandOption => ({ name, type: T.SUB, options });
/** For autocomplete: the option being typed. */
export const focused = (name: string, value: string, type: number = T.STRING) => ({ name, type, value, focused: true });

export const MANAGE_GUILD = PermissionFlagsBits.ManageGuild.toString();

export interface BotStack extends Stack {
  bot: Bot;
  /** A member with Manage Server. */
  admin_: { id: string };
  /** A member with no permission and no role. */
  member: { id: string };
  /** A member holding the on-call role (HERALD_ONCALL_ROLE_IDS), without Manage Server. */
  oncall: { id: string };
  /** The on-call role the stack configures. */
  oncallRole: { id: string };
  readyz(): Promise<{ status: number; body: { ok: boolean; problems: string[] } }>;
  startBot(): Promise<Bot>;
}

/**
 * A real Herald (stack.ts) with the real bot (discord.js) connected to the emulator's gateway, commands
 * registered in the emulated guild, and /readyz counting the bot, as main.ts wires it.
 */
export async function startBotStack(
  opts: { env?: Record<string, string>; emulator?: EmulatorOptions; reconnect?: BotOptions['reconnect']; emulatedConsole?: boolean } = {},
): Promise<BotStack> {
  const emulator = await startEmulator(opts.emulator);
  // On-call actions are denied by default: the stack configures an on-call role, as an operator would.
  const oncallRole = emulator.createRole({ name: 'on-call' });
  const stack = await startStack({
    emulatorInstance: emulator,
    ...(opts.emulatedConsole ? { emulatedConsole: true } : {}),
    env: { DISCORD_TOKEN: emulator.botToken, DISCORD_GUILD_ID: emulator.guildId, HERALD_ONCALL_ROLE_IDS: oncallRole.id, ...opts.env },
  });
  const d = stack.herald.config.discord;
  let bot: Bot | undefined;
  stack.herald.readiness.add(botReadiness(() => bot));
  const start = async () => {
    const b = await startBot(stack.herald, {
      token: emulator.botToken,
      apiUrl: d.apiUrl,
      guildId: d.guildId!,
      adminRoleIds: d.adminRoleIds,
      oncallRoleIds: d.oncallRoleIds,
      log: stack.herald.log,
      registerCommands: true,
      ...(opts.reconnect ? { reconnect: opts.reconnect } : {}),
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
    oncall: emulator.createMember({ username: 'oncall', roles: [oncallRole.id] }),
    oncallRole,
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
