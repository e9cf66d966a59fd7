CREATE TABLE `placements` (
	`project_id` text PRIMARY KEY NOT NULL,
	`shard_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `placements_shard` ON `placements` (`shard_id`);--> statement-breakpoint
CREATE TABLE `shards` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`token_env` text,
	`created_at` integer NOT NULL
);
