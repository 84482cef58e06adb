ALTER TABLE `idempotency_keys` ADD `body_hash` text;--> statement-breakpoint
ALTER TABLE `seen_webhook_ids` ADD `response` text;