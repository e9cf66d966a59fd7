ALTER TABLE `digests` ADD `chain_start` integer;--> statement-breakpoint
ALTER TABLE `digests` ADD `is_head` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `digests_open_heads` ON `digests` (`project_id`,`tracker_name`) WHERE "digests"."is_head" = 1 AND "digests"."is_end" = 0;--> statement-breakpoint
ALTER TABLE `trackers` ADD `digest_chain_start` integer;--> statement-breakpoint
CREATE INDEX `transferred_files_undigested` ON `transferred_files` (`project_id`,`tracker_name`,`uploaded_at`) WHERE "transferred_files"."digest_key" IS NULL;