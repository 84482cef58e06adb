CREATE TABLE `seen_webhook_ids` (
	`source_id` integer NOT NULL,
	`message_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`source_id`, `message_id`)
);
--> statement-breakpoint
CREATE INDEX `seen_webhook_ids_expires` ON `seen_webhook_ids` (`expires_at`);--> statement-breakpoint
CREATE TABLE `source_secrets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `source_secrets_source` ON `source_secrets` (`source_id`);--> statement-breakpoint
ALTER TABLE `sources` ADD `format` text;