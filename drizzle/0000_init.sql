CREATE TABLE `traces` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`tracker_name` text NOT NULL,
	`trace_id` text NOT NULL,
	`trace_name` text NOT NULL,
	`trace_rating` text NOT NULL,
	`trace_type` text NOT NULL,
	`service_type` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text,
	`resource_name` text,
	`source_ip` text,
	`request_id` text,
	`code` text,
	`api_version` text,
	`time` integer NOT NULL,
	`record_time` integer NOT NULL,
	`user_name` text,
	`user` text,
	`request` text,
	`response` text,
	`message` text,
	`location_info` text,
	`endpoint` text,
	`resource_url` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `traces_project_trace_id` ON `traces` (`project_id`,`trace_id`);--> statement-breakpoint
CREATE INDEX `traces_project_time` ON `traces` (`project_id`,`time`);--> statement-breakpoint
CREATE INDEX `traces_tracker_time` ON `traces` (`project_id`,`tracker_name`,`time`);--> statement-breakpoint
CREATE INDEX `traces_service_time` ON `traces` (`project_id`,`service_type`,`time`);--> statement-breakpoint
CREATE INDEX `traces_resource_type_time` ON `traces` (`project_id`,`resource_type`,`time`);--> statement-breakpoint
CREATE INDEX `traces_rating_time` ON `traces` (`project_id`,`trace_rating`,`time`);--> statement-breakpoint
CREATE INDEX `traces_code_time` ON `traces` (`project_id`,`code`,`time`) WHERE "traces"."code" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_trace_name_slot` ON `traces` (`project_id`,("time" / 3600000),`trace_name`,`time`);--> statement-breakpoint
CREATE INDEX `traces_user_slot` ON `traces` (`project_id`,("time" / 3600000),`user_name`,`time`) WHERE "traces"."user_name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_source_ip_slot` ON `traces` (`project_id`,("time" / 3600000),`source_ip`,`time`) WHERE "traces"."source_ip" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_resource_id_slot` ON `traces` (`project_id`,("time" / 3600000),`resource_id`,`time`) WHERE "traces"."resource_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_resource_name_slot` ON `traces` (`project_id`,("time" / 3600000),`resource_name`,`time`) WHERE "traces"."resource_name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_request_id_slot` ON `traces` (`project_id`,("time" / 3600000),`request_id`,`time`) WHERE "traces"."request_id" IS NOT NULL;--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`role` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_project` ON `api_keys` (`project_id`);--> statement-breakpoint
CREATE TABLE `console_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`project_id` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `console_sessions_expires` ON `console_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`domain_id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `digests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`tracker_name` text NOT NULL,
	`bucket` text NOT NULL,
	`object_key` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer NOT NULL,
	`sha256` text NOT NULL,
	`signature` text NOT NULL,
	`is_end` integer NOT NULL,
	`chain_start` integer,
	`is_head` integer DEFAULT false NOT NULL,
	`file_count` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `digests_tracker_end` ON `digests` (`project_id`,`tracker_name`,`end_time`);--> statement-breakpoint
CREATE INDEX `digests_open_heads` ON `digests` (`project_id`,`tracker_name`) WHERE "digests"."is_head" = 1 AND "digests"."is_end" = 0;--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`fingerprint` text PRIMARY KEY NOT NULL,
	`public_key_pem` text NOT NULL,
	`private_key_pem` text,
	`created_at` integer NOT NULL,
	`retired_at` integer
);
--> statement-breakpoint
CREATE TABLE `trackers` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`tracker_name` text NOT NULL,
	`tracker_type` text NOT NULL,
	`status` text NOT NULL,
	`detail` text,
	`is_support_validate` integer DEFAULT false NOT NULL,
	`is_lts_enabled` integer DEFAULT false NOT NULL,
	`bucket_name` text,
	`file_prefix_name` text DEFAULT '' NOT NULL,
	`is_obs_created` integer DEFAULT false NOT NULL,
	`compress_type` text DEFAULT 'gzip' NOT NULL,
	`is_sort_by_service` integer DEFAULT true NOT NULL,
	`create_time` integer NOT NULL,
	`transfer_cursor` integer DEFAULT 0 NOT NULL,
	`transfer_plan_end` integer,
	`transfer_plan_at` integer,
	`last_transfer_at` integer,
	`last_error` text,
	`digest_window_start` integer,
	`digest_chain_start` integer,
	`last_digest_bucket` text,
	`last_digest_key` text,
	`last_digest_hash` text,
	`last_digest_signature` text,
	`last_digest_end` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trackers_project_name` ON `trackers` (`project_id`,`tracker_name`);--> statement-breakpoint
CREATE TABLE `transferred_files` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` text NOT NULL,
	`tracker_name` text NOT NULL,
	`bucket` text NOT NULL,
	`object_key` text NOT NULL,
	`service_type` text,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`trace_count` integer NOT NULL,
	`first_seq` integer NOT NULL,
	`last_seq` integer NOT NULL,
	`oldest_time` integer NOT NULL,
	`newest_time` integer NOT NULL,
	`uploaded_at` integer NOT NULL,
	`digest_key` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `transferred_files_key` ON `transferred_files` (`bucket`,`object_key`);--> statement-breakpoint
CREATE INDEX `transferred_files_undigested` ON `transferred_files` (`project_id`,`tracker_name`,`uploaded_at`) WHERE "transferred_files"."digest_key" IS NULL;--> statement-breakpoint
CREATE INDEX `transferred_files_tracker_uploaded` ON `transferred_files` (`project_id`,`tracker_name`,`uploaded_at`);--> statement-breakpoint
CREATE TABLE `notification_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`notification_id` text NOT NULL,
	`project_id` text NOT NULL,
	`trace_id` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_outbox_dedupe` ON `notification_outbox` (`notification_id`,`trace_id`);--> statement-breakpoint
CREATE INDEX `notification_outbox_due` ON `notification_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `notification_outbox_notification_status` ON `notification_outbox` (`notification_id`,`status`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`operation_type` text NOT NULL,
	`operations` text DEFAULT '[]' NOT NULL,
	`notify_user_list` text DEFAULT '[]' NOT NULL,
	`status` text NOT NULL,
	`topic_id` text,
	`filter` text,
	`secret` text NOT NULL,
	`create_time` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_delivery_at` integer,
	`last_delivery_status` text,
	`last_delivery_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notifications_project_name` ON `notifications` (`project_id`,`name`);--> statement-breakpoint
CREATE TABLE `topics` (
	`urn` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`endpoint_url` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `topics_project` ON `topics` (`project_id`);