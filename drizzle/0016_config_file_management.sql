ALTER TABLE `channels` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `channels` ADD `removed_at` integer;--> statement-breakpoint
ALTER TABLE `digest_settings` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `escalation_chains` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `heartbeats` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `mutes` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `mutes` ADD `config_name` text;--> statement-breakpoint
ALTER TABLE `mutes` ADD `starts_at` integer;--> statement-breakpoint
ALTER TABLE `mutes` ADD `recur_cron` text;--> statement-breakpoint
ALTER TABLE `mutes` ADD `recur_ms` integer;--> statement-breakpoint
ALTER TABLE `mutes` ADD `recur_timezone` text;--> statement-breakpoint
ALTER TABLE `outbound_targets` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `routes` ADD `config_name` text;--> statement-breakpoint
ALTER TABLE `sources` ADD `managed_by` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `managed_by` text;