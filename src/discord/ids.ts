/**
 * Discord ids (snowflakes) as people and Discord write them: 17 to 20 decimal digits (a 64-bit number;
 * ids from 2015 on have at least 17). One rule for config, API schemas, cards, bot and emulator.
 */
import { z } from 'zod';

/** The digits of a Discord id, for building larger patterns (a webhook URL's path). */
export const DISCORD_ID_DIGITS = String.raw`\d{17,20}`;

/** A whole string that is a Discord id. */
/** A webhook token as it appears in a webhook URL (Discord's are 68 characters; the range allows for change). */
export const WEBHOOK_TOKEN_CHARS = String.raw`[A-Za-z0-9_-]{20,100}`;

export const DISCORD_ID = new RegExp(`^${DISCORD_ID_DIGITS}$`);

export const isDiscordId = (s: string): boolean => DISCORD_ID.test(s);

/** A Discord id in a request body, refused with one plain sentence. */
export const discordIdSchema = z.string().regex(DISCORD_ID, 'must be a Discord id (17 to 20 digits)');
