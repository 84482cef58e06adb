ALTER TABLE `alerts` ADD `occurrences` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `alerts` ADD `last_seen_at` integer;--> statement-breakpoint
ALTER TABLE `alerts` ADD `reopened_at` integer;--> statement-breakpoint
CREATE INDEX `alerts_keyless` ON `alerts` (`service`,`title`) WHERE "alerts"."dedup_key" IS NULL;--> statement-breakpoint
ALTER TABLE `routes` ADD `business_hours` text;