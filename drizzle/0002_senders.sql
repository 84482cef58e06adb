CREATE TABLE `outbound_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`target_id` integer NOT NULL,
	`alert_id` integer NOT NULL,
	`event` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`available_at` integer NOT NULL,
	`lease_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`dead_at` integer,
	`replayed_at` integer,
	FOREIGN KEY (`target_id`) REFERENCES `outbound_targets`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `outbound_deliveries_queue` ON `outbound_deliveries` (`state`,`available_at`);--> statement-breakpoint
CREATE INDEX `outbound_deliveries_alert` ON `outbound_deliveries` (`alert_id`);--> statement-breakpoint
CREATE TABLE `outbound_targets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`route_id` integer NOT NULL,
	`kind` text NOT NULL,
	`url` text NOT NULL,
	`secret` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`route_id`) REFERENCES `routes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `outbound_targets_route` ON `outbound_targets` (`route_id`);--> statement-breakpoint
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