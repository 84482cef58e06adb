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
 */
export const commands: CommandModule[] = [subscribe, unsubscribe, route, status, deadletters, alert];
