CREATE TABLE `trace_count_marks` (
	`project_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `trace_hour_counts` (
	`project_id` text NOT NULL,
	`slot` integer NOT NULL,
	`trace_rating` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`project_id`, `slot`, `trace_rating`)
);
