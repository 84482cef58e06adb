CREATE TABLE `incidents` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer,
	`key` text NOT NULL,
	`title` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `incidents_key` ON `incidents` (`source_id`,`key`);--> statement-breakpoint
ALTER TABLE `alerts` ADD `incident_id` integer;--> statement-breakpoint
CREATE INDEX `alerts_incident` ON `alerts` (`incident_id`) WHERE "alerts"."incident_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `escalations` ADD `incident_id` integer;--> statement-breakpoint
CREATE INDEX `escalations_incident` ON `escalations` (`incident_id`,`chain_id`) WHERE "escalations"."incident_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `mutes` ADD `incident_key` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `group_by` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `group_wait_ms` integer;