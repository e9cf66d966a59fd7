CREATE TABLE `digest_leases` (
	`project_id` text NOT NULL,
	`tracker_name` text NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `tracker_name`)
);
