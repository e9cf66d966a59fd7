CREATE TABLE `maintenance` (
	`task` text PRIMARY KEY NOT NULL,
	`done_through` integer NOT NULL
);
