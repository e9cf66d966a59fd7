import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Traces. `seq` is the ingestion order (AUTOINCREMENT so it never goes back, even after
 * retention empties the table): transfer cursors and retention are expressed in it.
 *
 * Every query filter has an index that starts with `project_id`, then the filtered column,
 * and ends with the sort key `time` — see docs/adr/0001-trace-storage.md.
 */
export const traces = sqliteTable(
  'traces',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    projectId: text('project_id').notNull(),
    trackerName: text('tracker_name').notNull(),
    traceId: text('trace_id').notNull(),
    traceName: text('trace_name').notNull(),
    traceRating: text('trace_rating').notNull(),
    traceType: text('trace_type').notNull(),
    serviceType: text('service_type').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id'),
    resourceName: text('resource_name'),
    sourceIp: text('source_ip'),
    requestId: text('request_id'),
    code: text('code'),
    apiVersion: text('api_version'),
    time: integer('time').notNull(),
    recordTime: integer('record_time').notNull(),
    userName: text('user_name'),
    /** JSON text of the `user` object, or NULL. */
    user: text('user'),
    /** JSON text of the value that was sent, or NULL when absent. */
    request: text('request'),
    response: text('response'),
    message: text('message'),
    locationInfo: text('location_info'),
    endpoint: text('endpoint'),
    resourceUrl: text('resource_url'),
  },
  (t) => [
    uniqueIndex('traces_project_trace_id').on(t.projectId, t.traceId),
    index('traces_project_time').on(t.projectId, t.time),
    index('traces_service_time').on(t.projectId, t.serviceType, t.time),
    index('traces_resource_type_time').on(t.projectId, t.resourceType, t.time),
    index('traces_trace_name_time').on(t.projectId, t.traceName, t.time),
    index('traces_rating_time').on(t.projectId, t.traceRating, t.time),
    index('traces_user_time').on(t.projectId, t.userName, t.time).where(sql`${t.userName} IS NOT NULL`),
    index('traces_resource_id_time')
      .on(t.projectId, t.resourceId, t.time)
      .where(sql`${t.resourceId} IS NOT NULL`),
    index('traces_resource_name_time')
      .on(t.projectId, t.resourceName, t.time)
      .where(sql`${t.resourceName} IS NOT NULL`),
    index('traces_source_ip_time').on(t.projectId, t.sourceIp, t.time).where(sql`${t.sourceIp} IS NOT NULL`),
    index('traces_request_id_time')
      .on(t.projectId, t.requestId, t.time)
      .where(sql`${t.requestId} IS NOT NULL`),
    index('traces_code_time').on(t.projectId, t.code, t.time).where(sql`${t.code} IS NOT NULL`),
  ],
);

export type TraceRow = typeof traces.$inferSelect;
export type NewTraceRow = typeof traces.$inferInsert;
