import pino, { type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Webhook tokens live in URLs, so URLs are logged
 * through `maskUrl` as well; the redaction list is the net under that.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'url',
  'webhookUrl',
  '*.webhookUrl',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'req.headers["idempotency-key"]',
  'DISCORD_TOKEN',
  'adminToken',
  '*.adminToken',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { app: 'herald' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

// Defined beside Discord's URL shapes (discord/ is importable from every layer); re-exported for the log's users.
export { maskUrl, scrubSecrets } from './discord/secrets.js';

export type { Logger };
