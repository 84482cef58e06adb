CREATE TABLE `alert_actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`kind` text NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_user_id` text,
	`actor_name` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_actions_alert` ON `alert_actions` (`alert_id`);--> statement-breakpoint
CREATE TABLE `message_ops` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel_id` integer NOT NULL,
	`webhook_id` integer,
	`discord_message_id` text NOT NULL,
	`delivery_id` integer NOT NULL,
	`purpose` text NOT NULL,
	`via` text DEFAULT 'webhook' NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`available_at` integer NOT NULL,
	`lease_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`outcome` text,
	`created_at` integer NOT NULL,
	`done_at` integer,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `message_ops_queue` ON `message_ops` (`channel_id`,`state`,`available_at`);--> statement-breakpoint
CREATE INDEX `message_ops_message` ON `message_ops` (`discord_message_id`,`state`);--> statement-breakpoint
CREATE TABLE `mutes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`service` text,
	`title` text,
	`route_id` integer,
	`dedup_key` text,
	`reason` text,
	`alert_id` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `mutes_expires` ON `mutes` (`expires_at`);--> statement-breakpoint
ALTER TABLE `alerts` ADD `acknowledged_by` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `acknowledged_by_user` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `acknowledged_at` integer;--> statement-breakpoint
ALTER TABLE `alerts` ADD `resolved_by` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `resolved_by_user` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `resolved_at` integer;--> statement-breakpoint
ALTER TABLE `alerts` ADD `retracted_at` integer;--> statement-breakpoint
ALTER TABLE `alerts` ADD `retract_mode` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `retract_reason` text;--> statement-breakpoint
ALTER TABLE `alerts` ADD `muted_by_mute_id` integer;--> statement-breakpoint
ALTER TABLE `alerts` ADD `changed_at` integer;--> statement-breakpoint
CREATE INDEX `alerts_muted` ON `alerts` (`muted_by_mute_id`);--> statement-breakpoint
ALTER TABLE `attempts` ADD `op_id` integer;--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `op_id` integer;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `gone_at` integer;--> statement-breakpoint
CREATE INDEX `deliveries_message` ON `deliveries` (`discord_message_id`);