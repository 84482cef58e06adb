DROP INDEX `alerts_muted`;--> statement-breakpoint
CREATE INDEX `alerts_muted` ON `alerts` (`muted_by_mute_id`) WHERE "alerts"."muted_by_mute_id" IS NOT NULL;--> statement-breakpoint
DROP INDEX `deliveries_storm`;--> statement-breakpoint
DROP INDEX `deliveries_sent`;--> statement-breakpoint
DROP INDEX `deliveries_message`;--> statement-breakpoint
CREATE INDEX `deliveries_storm` ON `deliveries` (`storm_id`) WHERE "deliveries"."storm_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `deliveries_sent` ON `deliveries` (`channel_id`,`sent_at`) WHERE "deliveries"."sent_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `deliveries_message` ON `deliveries` (`discord_message_id`) WHERE "deliveries"."discord_message_id" IS NOT NULL;