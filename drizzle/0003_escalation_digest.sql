CREATE TABLE `digest_settings` (
	`channel_id` integer PRIMARY KEY NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`time` text NOT NULL,
	`timezone` text NOT NULL,
	`last_sent_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `escalation_chains` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`repeats` integer DEFAULT 0 NOT NULL,
	`rearm_after_ms` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `escalation_chains_name_unique` ON `escalation_chains` (`name`);--> statement-breakpoint
CREATE TABLE `escalation_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`escalation_id` integer NOT NULL,
	`cycle` integer NOT NULL,
	`round` integer NOT NULL,
	`step_index` integer NOT NULL,
	`step_id` integer,
	`kind` text NOT NULL,
	`target` text,
	`deliveries` integer NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`escalation_id`) REFERENCES `escalations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `escalation_runs_once` ON `escalation_runs` (`escalation_id`,`cycle`,`round`,`step_index`);--> statement-breakpoint
CREATE TABLE `escalation_steps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`chain_id` integer NOT NULL,
	`position` integer NOT NULL,
	`delay_ms` integer NOT NULL,
	`kind` text NOT NULL,
	`target` text,
	`channel_id` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`chain_id`) REFERENCES `escalation_chains`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `escalation_steps_position` ON `escalation_steps` (`chain_id`,`position`);--> statement-breakpoint
CREATE TABLE `escalations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`chain_id` integer NOT NULL,
	`channel_ids` text NOT NULL,
	`state` text DEFAULT 'active' NOT NULL,
	`step_index` integer DEFAULT 0 NOT NULL,
	`round` integer DEFAULT 0 NOT NULL,
	`cycle` integer DEFAULT 0 NOT NULL,
	`due_at` integer NOT NULL,
	`ack_seen_at` integer,
	`reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`chain_id`) REFERENCES `escalation_chains`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `escalations_due` ON `escalations` (`state`,`due_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `escalations_alert_chain` ON `escalations` (`alert_id`,`chain_id`);--> statement-breakpoint
ALTER TABLE `deliveries` ADD `mention` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `message` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `escalation_chain_id` integer REFERENCES escalation_chains(id);