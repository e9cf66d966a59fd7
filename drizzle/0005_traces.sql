DROP INDEX `traces_trace_name_slot`;--> statement-breakpoint
DROP INDEX `traces_user_slot`;--> statement-breakpoint
DROP INDEX `traces_source_ip_slot`;--> statement-breakpoint
DROP INDEX `traces_resource_id_slot`;--> statement-breakpoint
DROP INDEX `traces_resource_name_slot`;--> statement-breakpoint
DROP INDEX `traces_request_id_slot`;--> statement-breakpoint
CREATE INDEX `traces_trace_name_slot` ON `traces` (`project_id`,("time" / 3600000),`trace_name`,`time`);--> statement-breakpoint
CREATE INDEX `traces_user_slot` ON `traces` (`project_id`,("time" / 3600000),`user_name`,`time`) WHERE "traces"."user_name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_source_ip_slot` ON `traces` (`project_id`,("time" / 3600000),`source_ip`,`time`) WHERE "traces"."source_ip" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_resource_id_slot` ON `traces` (`project_id`,("time" / 3600000),`resource_id`,`time`) WHERE "traces"."resource_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_resource_name_slot` ON `traces` (`project_id`,("time" / 3600000),`resource_name`,`time`) WHERE "traces"."resource_name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_request_id_slot` ON `traces` (`project_id`,("time" / 3600000),`request_id`,`time`) WHERE "traces"."request_id" IS NOT NULL;