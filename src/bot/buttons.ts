import { alertButtons } from './alert-buttons.js';
import type { ButtonHandler } from './router.js';

/** Alert buttons by action (custom_id `herald:<action>:<alertId>`). */
export const buttonHandlers: Record<string, ButtonHandler> = { ...alertButtons };
