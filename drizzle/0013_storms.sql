CREATE TABLE `storms` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel_id` integer NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`webhook_id` integer,
	`summary_message_id` text,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `storms_channel` ON `storms` (`channel_id`,`ended_at`);--> statement-breakpoint
ALTER TABLE `deliveries` ADD `storm_id` integer;--> statement-breakpoint
CREATE INDEX `deliveries_storm` ON `deliveries` (`storm_id`);