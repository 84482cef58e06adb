ALTER TABLE `alerts` ADD `firing_started_at` integer;--> statement-breakpoint
ALTER TABLE `sources` ADD `mapping` text;