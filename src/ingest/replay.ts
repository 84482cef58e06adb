/**
 * How long a signed message's `webhook-id` and its first answer are kept. Standard Webhooks senders
 * retry a message with the same id (and a fresh timestamp and signature) for more than a day (Svix:
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); each retry must get the first answer, not a second alert.
 * The ids are recorded in the ingest transaction that stores the message's alerts and forgotten past
 * their time by the idempotency store (store/idempotency.ts).
 */
export const WEBHOOK_ID_KEEP_MS = 3 * 86_400_000;
