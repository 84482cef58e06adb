import type { InteractionUpdateOptions } from 'discord.js';
import type { WebhookMessage } from '../discord/message.js';

/**
 * A pressed card as it is now (after the action), for the in-place update (interaction type 7), with `note`
 * under its content: rendered by the same code that posts and edits cards, so it looks like every other edit.
 * Nothing in it may ping.
 */
export function cardUpdate(m: WebhookMessage, note?: string): InteractionUpdateOptions {
  return {
    content: [m.content, note].filter(Boolean).join('\n'),
    embeds: m.embeds as InteractionUpdateOptions['embeds'],
    components: (m.components ?? []) as InteractionUpdateOptions['components'],
    allowedMentions: { parse: [] },
  };
}
