import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

/** pino-pretty is loaded only for the pretty format: a Herald logging JSON (a service) does without it. */
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

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

export type LogFormat = 'json' | 'pretty';

/**
 * Herald's logger: JSON lines (for a supervisor or a log shipper), or with `format: 'pretty'` readable lines
 * (pino-pretty, in this thread: no transport worker). Redaction runs in pino before either format is written,
 * so a secret is blanked out the same in both.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { app: 'herald' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === 'pretty') {
    const toTerminal = destination === undefined && process.stdout.isTTY === true;
    const stream = loadPretty()({
      destination: destination ?? 1,
      sync: true, // a line is written before the next statement runs: nothing lost at exit(), in order with stderr
      colorize: toTerminal,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname,app',
    });
    return pino(options, stream);
  }
  return pino(options, destination);
}

/** `auto`: readable lines when stdout is a terminal (a person reads them), JSON otherwise (a supervisor, a pipe, a file). */
export function resolveLogFormat(setting: 'auto' | LogFormat, stdoutIsTty: boolean = process.stdout.isTTY === true): LogFormat {
  return setting === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : setting;
}

// Defined beside Discord's URL shapes (discord/ is importable from every layer); re-exported for the log's users.
export { maskUrl, scrubSecrets } from './discord/secrets.js';

export type { Logger };
