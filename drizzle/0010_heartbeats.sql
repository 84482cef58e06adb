CREATE TABLE `heartbeats` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`name` text NOT NULL,
	`interval_ms` integer NOT NULL,
	`grace_ms` integer NOT NULL,
	`severity` text NOT NULL,
	`service` text NOT NULL,
	`environment` text,
	`labels` text,
	`last_beat_at` integer,
	`due_at` integer NOT NULL,
	`state` text DEFAULT 'ok' NOT NULL,
	`alert_id` integer,
	`missed_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `heartbeats_source_name` ON `heartbeats` (`source_id`,`name`);--> statement-breakpoint
CREATE INDEX `heartbeats_due` ON `heartbeats` (`state`,`due_at`);--> statement-breakpoint
ALTER TABLE `routes` ADD `auto_resolve_after_ms` integer;--> statement-breakpoint
ALTER TABLE `sources` ADD `auto_resolve_after_ms` integer;