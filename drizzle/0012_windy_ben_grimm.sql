ALTER TABLE `channels` ADD `kind` text DEFAULT 'text' NOT NULL;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `thread_id` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `note` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `threads` integer DEFAULT false NOT NULL;