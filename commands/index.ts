import type { CommandModule } from '../src/bot/types.js';
import { ack } from './ack.js';
import { alert } from './alert.js';
import { deadletters } from './deadletters.js';
import { digest } from './digest.js';
import { escalation } from './escalation.js';
import { heartbeat } from './heartbeat.js';
import { mute } from './mute.js';
import { mutes } from './mutes.js';
import { resolve } from './resolve.js';
import { retract } from './retract.js';
import { route } from './route.js';
import { status } from './status.js';
import { subscribe } from './subscribe.js';
import { unmute } from './unmute.js';
import { unsubscribe } from './unsubscribe.js';
import { webhooks } from './webhooks.js';

/**
 * Every slash command, one module each. The bot's router and `npm run register` both read this list,
 * so what is registered and what is handled cannot drift.
 */
export const commands: CommandModule[] = [subscribe, unsubscribe, route, mute, unmute, mutes, ack, resolve, retract, webhooks, status, deadletters, alert, escalation, digest, heartbeat];
