ALTER TABLE `trackers` ADD `transfer_plan_end` integer;--> statement-breakpoint
ALTER TABLE `trackers` ADD `transfer_plan_at` integer;