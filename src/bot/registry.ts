import { commands } from '../../commands/index.js';
import type { CommandModule } from './types.js';

/** Every command module, checked once: unique names within Discord's limits. */
export function commandList(): CommandModule[] {
  const seen = new Set<string>();
  for (const c of commands) {
    const name = c.data.name;
    if (!/^[-_\p{Ll}\p{N}]{1,32}$/u.test(name)) throw new Error(`command name "${name}" is not valid for Discord (1 to 32 lower-case letters, digits, - or _)`);
    if (seen.has(name)) throw new Error(`two command modules are named "${name}"`);
    seen.add(name);
  }
  if (commands.length > 100) throw new Error(`Discord allows 100 commands; commands/ has ${commands.length}`);
  return commands;
}

export function commandRegistry(): Map<string, CommandModule> {
  return new Map(commandList().map((c) => [c.data.name, c]));
}
