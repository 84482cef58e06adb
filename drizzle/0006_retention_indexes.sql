CREATE INDEX `dead_letters_delivery` ON `dead_letters` (`delivery_id`);--> statement-breakpoint
CREATE INDEX `message_ops_delivery` ON `message_ops` (`delivery_id`);