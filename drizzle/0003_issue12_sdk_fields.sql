ALTER TABLE `traces` ADD `access_key_id` text;--> statement-breakpoint
ALTER TABLE `traces` ADD `enterprise_project_id` text;--> statement-breakpoint
ALTER TABLE `traces` ADD `extras` text;--> statement-breakpoint
CREATE INDEX `traces_access_key_id_slot` ON `traces` (`project_id`,("time" / 3600000),`access_key_id`,`time`) WHERE "traces"."access_key_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_enterprise_project_slot` ON `traces` (`project_id`,("time" / 3600000),`enterprise_project_id`,`time`) WHERE "traces"."enterprise_project_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `trackers` ADD `bucket_lifecycle` integer;--> statement-breakpoint
ALTER TABLE `trackers` ADD `agency_name` text;--> statement-breakpoint
ALTER TABLE `trackers` ADD `is_organization_tracker` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `trackers` ADD `is_support_trace_files_encryption` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `trackers` ADD `kms_id` text;--> statement-breakpoint
ALTER TABLE `trackers` ADD `exclude_services` text;--> statement-breakpoint
ALTER TABLE `trackers` ADD `data_bucket_name` text;--> statement-breakpoint
ALTER TABLE `trackers` ADD `data_events` text;--> statement-breakpoint
ALTER TABLE `trackers` ADD `tags` text;