DROP INDEX `traces_trace_name_slot`;--> statement-breakpoint
DROP INDEX `traces_user_slot`;--> statement-breakpoint
DROP INDEX `traces_source_ip_slot`;--> statement-breakpoint
DROP INDEX `traces_resource_id_slot`;--> statement-breakpoint
DROP INDEX `traces_resource_name_slot`;--> statement-breakpoint
DROP INDEX `traces_access_key_id_slot`;--> statement-breakpoint
DROP INDEX `traces_enterprise_project_slot`;--> statement-breakpoint
DROP INDEX `traces_request_id_slot`;--> statement-breakpoint
ALTER TABLE `traces` ADD `indexed` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_unindexed` ON `traces` (`project_id`,`time`) WHERE "traces"."indexed" = 0;--> statement-breakpoint
CREATE INDEX `traces_trace_name_slot` ON `traces` (`project_id`,("time" / 3600000),`trace_name`,`time`) WHERE "traces"."indexed" = 1;--> statement-breakpoint
CREATE INDEX `traces_user_slot` ON `traces` (`project_id`,("time" / 3600000),`user_name`,`time`) WHERE "traces"."indexed" = 1 and "traces"."user_name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_source_ip_slot` ON `traces` (`project_id`,("time" / 3600000),`source_ip`,`time`) WHERE "traces"."indexed" = 1 and "traces"."source_ip" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_resource_id_slot` ON `traces` (`project_id`,("time" / 3600000),`resource_id`,`time`) WHERE "traces"."indexed" = 1 and "traces"."resource_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_resource_name_slot` ON `traces` (`project_id`,("time" / 3600000),`resource_name`,`time`) WHERE "traces"."indexed" = 1 and "traces"."resource_name" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_access_key_id_slot` ON `traces` (`project_id`,("time" / 3600000),`access_key_id`,`time`) WHERE "traces"."indexed" = 1 and "traces"."access_key_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_enterprise_project_slot` ON `traces` (`project_id`,("time" / 3600000),`enterprise_project_id`,`time`) WHERE "traces"."indexed" = 1 and "traces"."enterprise_project_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `traces_request_id_slot` ON `traces` (`project_id`,("time" / 3600000),`request_id`,`time`) WHERE "traces"."indexed" = 1 and "traces"."request_id" IS NOT NULL;