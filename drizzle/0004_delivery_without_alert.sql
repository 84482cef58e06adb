PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer,
	`channel_id` integer NOT NULL,
	`priority` integer NOT NULL,
	`mention` text,
	`message` text,
	`sort_key` integer NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`available_at` integer NOT NULL,
	`lease_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`render_level` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`webhook_id` integer,
	`discord_message_id` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
INSERT INTO `__new_deliveries`("id", "alert_id", "channel_id", "priority", "mention", "message", "sort_key", "state", "available_at", "lease_until", "attempts", "render_level", "last_error", "webhook_id", "discord_message_id", "created_at", "sent_at") SELECT "id", "alert_id", "channel_id", "priority", "mention", "message", "sort_key", "state", "available_at", "lease_until", "attempts", "render_level", "last_error", "webhook_id", "discord_message_id", "created_at", "sent_at" FROM `deliveries`;--> statement-breakpoint
DROP TABLE `deliveries`;--> statement-breakpoint
ALTER TABLE `__new_deliveries` RENAME TO `deliveries`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `deliveries_queue` ON `deliveries` (`channel_id`,`state`,`sort_key`);--> statement-breakpoint
CREATE INDEX `deliveries_urgent` ON `deliveries` (`channel_id`,`state`,`priority`,`sort_key`);--> statement-breakpoint
CREATE INDEX `deliveries_alert` ON `deliveries` (`alert_id`);--> statement-breakpoint
CREATE INDEX `deliveries_state` ON `deliveries` (`state`,`priority`);--> statement-breakpoint
CREATE INDEX `deliveries_available` ON `deliveries` (`channel_id`,`state`,`available_at`);--> statement-breakpoint
CREATE INDEX `deliveries_sent` ON `deliveries` (`channel_id`,`sent_at`);--> statement-breakpoint
CREATE INDEX `deliveries_message` ON `deliveries` (`discord_message_id`);