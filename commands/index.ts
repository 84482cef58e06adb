import type { CommandModule } from '../src/bot/types.js';
import { alert } from './alert.js';
import { deadletters } from './deadletters.js';
import { route } from './route.js';
import { status } from './status.js';
import { subscribe } from './subscribe.js';
import { unsubscribe } from './unsubscribe.js';

/**
 * Every slash command, one module each. The bot's router and `npm run register` both read this list,
 * so what is registered and what is handled cannot drift.
 * Written and waiting for the lifecycle services (helper B's branch) to land on main: ack, resolve,
 * retract, mute, unmute, mutes, webhooks (and src/bot/alert-buttons.ts); add them here then.
 */
export const commands: CommandModule[] = [subscribe, unsubscribe, route, status, deadletters, alert];
