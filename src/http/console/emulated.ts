import type { EmulatedChannel, EmulatedMember, EmulatedMessage, InteractionResult } from '../../emulator/index.js';

/**
 * What the console's emulated-Discord pages use of the built-in emulator (emulator mode only: main.ts
 * hands it over; otherwise the console has none and those pages do not exist). Pressing a button goes
 * through the emulator's gateway to Herald's bot, which authorizes it as it would on Discord.
 */
export interface EmulatedDiscord {
  channels(): EmulatedChannel[];
  messages(channelId: string): EmulatedMessage[];
  members(): EmulatedMember[];
  createMember(opts: { username?: string; permissions?: string | string[] }): EmulatedMember;
  pressButton(opts: { userId: string; channelId: string; messageId: string; customId: string }): Promise<InteractionResult>;
}
