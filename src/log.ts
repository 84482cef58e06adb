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

/** `/webhooks/123/abcdef…` → `/webhooks/123/****`: the id is useful, the token is a credential. */
export function maskUrl(url: string): string {
  return url.replace(/(\/webhooks\/\d+\/)[^/?#]+/g, '$1****').replace(/(\/interactions\/\d+\/)[^/?#]+/g, '$1****');
}

/** Removes anything token-shaped from free text (error messages from fetch can echo the URL). */
export function scrubSecrets(text: string): string {
  return maskUrl(text).replace(/Bearer\s+\S+/gi, 'Bearer ****');
}

export type { Logger };
