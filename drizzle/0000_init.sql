CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer,
	`service` text NOT NULL,
	`severity` text NOT NULL,
	`title` text NOT NULL,
	`description` text,
	`status` text DEFAULT 'firing' NOT NULL,
	`dedup_key` text,
	`environment` text,
	`labels` text,
	`fields` text,
	`links` text,
	`unrouted` integer DEFAULT false NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `alerts_dedup` ON `alerts` (`dedup_key`);--> statement-breakpoint
CREATE INDEX `alerts_unrouted` ON `alerts` (`unrouted`);--> statement-breakpoint
CREATE TABLE `attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` integer,
	`webhook_id` integer,
	`at` integer NOT NULL,
	`status` integer,
	`latency_ms` integer NOT NULL,
	`outcome` text NOT NULL,
	`error` text,
	`rate_limit_scope` text,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `attempts_at` ON `attempts` (`at`);--> statement-breakpoint
CREATE INDEX `attempts_delivery` ON `attempts` (`delivery_id`);--> statement-breakpoint
CREATE TABLE `channels` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`discord_channel_id` text NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `channels_name_unique` ON `channels` (`name`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` integer NOT NULL,
	`reason` text NOT NULL,
	`discord_error` text,
	`created_at` integer NOT NULL,
	`replayed_at` integer,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`channel_id` integer NOT NULL,
	`priority` integer NOT NULL,
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
CREATE INDEX `deliveries_queue` ON `deliveries` (`channel_id`,`state`,`sort_key`);--> statement-breakpoint
CREATE INDEX `deliveries_urgent` ON `deliveries` (`channel_id`,`state`,`priority`,`sort_key`);--> statement-breakpoint
CREATE INDEX `deliveries_alert` ON `deliveries` (`alert_id`);--> statement-breakpoint
CREATE INDEX `deliveries_state` ON `deliveries` (`state`,`priority`);--> statement-breakpoint
CREATE INDEX `deliveries_available` ON `deliveries` (`channel_id`,`state`,`available_at`);--> statement-breakpoint
CREATE INDEX `deliveries_sent` ON `deliveries` (`channel_id`,`sent_at`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`channel_id` integer,
	`webhook_id` integer,
	`message` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`source_id` integer NOT NULL,
	`key` text NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`source_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `routes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel_id` integer NOT NULL,
	`service` text,
	`severities` text,
	`environment` text,
	`labels` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `sources` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_name_unique` ON `sources` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `sources_token_hash_unique` ON `sources` (`token_hash`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel_id` integer NOT NULL,
	`discord_webhook_id` text NOT NULL,
	`token` text NOT NULL,
	`owner` text DEFAULT 'external' NOT NULL,
	`state` text DEFAULT 'active' NOT NULL,
	`breaker_state` text DEFAULT 'closed' NOT NULL,
	`breaker_failures` integer DEFAULT 0 NOT NULL,
	`breaker_opened_at` integer,
	`last_error` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhooks_channel` ON `webhooks` (`channel_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_discord_id` ON `webhooks` (`discord_webhook_id`);