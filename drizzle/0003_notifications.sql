ALTER TABLE `notifications` ADD `last_delivery_at` integer;--> statement-breakpoint
ALTER TABLE `notifications` ADD `last_delivery_status` text;--> statement-breakpoint
ALTER TABLE `notifications` ADD `last_delivery_error` text;--> statement-breakpoint
CREATE INDEX `notification_outbox_notification_status` ON `notification_outbox` (`notification_id`,`status`);