import { sql } from 'drizzle-orm';
import {
  index,
  integer,
  primaryKey,
  type SQLiteColumn,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';

/**
 * Width of a time slot (1 h): the leading key of the slotted indexes, see `traces` below.
 * Queries must use exactly the expression `slotOf(time)` to match those indexes.
 */
export const SLOT_MS = 3_600_000;

/** The SQL expression of a trace's time slot, as the slotted indexes are declared on it. */
export const slotOf = (time: SQLiteColumn) => sql`(${time} / 3600000)`;

/**
 * Traces. `seq` is the ingestion order (AUTOINCREMENT so it never goes back, even after
 * retention empties the table): transfer cursors and retention are expressed in it, and it breaks
 * ties of `time` in queries (newest first by `time, seq`), so every index below, which ends with
 * `time` and the implicit rowid, delivers rows in query order without a sort.
 *
 * Filters with few distinct values (tracker, service, resource type, rating, code) get
 * `(project_id, column, time)`: new rows land on one hot page per value. Filters with many
 * values get `(project_id, slot, column, time)` instead, so new rows land in the small region of
 * the current hour's slot rather than all over the index — random inserts into large indexes
 * were what made ingest slow. Queries walk the slots newest first. See
 * docs/adr/0001-trace-storage.md for the figures.
 *
 * The slotted indexes hold only rows with `indexed = 1`. A small write stores its rows with
 * `indexed = 0` — in `traces_unindexed` instead, whose entries land at the current time — and an
 * index pass sets `indexed = 1` on a thousand at a time (store/staged-index.ts, ADR 0001 §12).
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
    /** `user.access_key_id`, a filter of its own (the `user` JSON keeps it too). */
    accessKeyId: text('access_key_id'),
    enterpriseProjectId: text('enterprise_project_id'),
    /**
     * JSON object of the optional CTS fields that are only returned, never filtered on
     * (`read_only`, `operation_id`, `resource_account_id`, `enterprise_project_id`), or NULL: one
     * column merged into the API shape rather than a column (and insert cost) each.
     */
    extras: text('extras'),
    /** 1 once the row is in the slotted indexes; 0 while it waits in `traces_unindexed`. */
    indexed: integer('indexed').notNull().default(1),
  },
  (t) => [
    uniqueIndex('traces_project_trace_id').on(t.projectId, t.traceId),
    index('traces_project_time').on(t.projectId, t.time),
    index('traces_tracker_time').on(t.projectId, t.trackerName, t.time),
    index('traces_service_time').on(t.projectId, t.serviceType, t.time),
    index('traces_resource_type_time').on(t.projectId, t.resourceType, t.time),
    index('traces_rating_time').on(t.projectId, t.traceRating, t.time),
    index('traces_code_time').on(t.projectId, t.code, t.time).where(sql`${t.code} IS NOT NULL`),
    index('traces_trace_name_slot')
      .on(t.projectId, slotOf(t.time), t.traceName, t.time)
      .where(sql`${t.indexed} = 1`),
    index('traces_user_slot')
      .on(t.projectId, slotOf(t.time), t.userName, t.time)
      .where(sql`${t.indexed} = 1 and ${t.userName} IS NOT NULL`),
    index('traces_source_ip_slot')
      .on(t.projectId, slotOf(t.time), t.sourceIp, t.time)
      .where(sql`${t.indexed} = 1 and ${t.sourceIp} IS NOT NULL`),
    index('traces_resource_id_slot')
      .on(t.projectId, slotOf(t.time), t.resourceId, t.time)
      .where(sql`${t.indexed} = 1 and ${t.resourceId} IS NOT NULL`),
    index('traces_resource_name_slot')
      .on(t.projectId, slotOf(t.time), t.resourceName, t.time)
      .where(sql`${t.indexed} = 1 and ${t.resourceName} IS NOT NULL`),
    index('traces_access_key_id_slot')
      .on(t.projectId, slotOf(t.time), t.accessKeyId, t.time)
      .where(sql`${t.indexed} = 1 and ${t.accessKeyId} IS NOT NULL`),
    index('traces_enterprise_project_slot')
      .on(t.projectId, slotOf(t.time), t.enterpriseProjectId, t.time)
      .where(sql`${t.indexed} = 1 and ${t.enterpriseProjectId} IS NOT NULL`),
    index('traces_request_id_slot')
      .on(t.projectId, slotOf(t.time), t.requestId, t.time)
      .where(sql`${t.indexed} = 1 and ${t.requestId} IS NOT NULL`),
    index('traces_unindexed').on(t.projectId, t.time).where(sql`${t.indexed} = 0`),
  ],
);

export type TraceRow = typeof traces.$inferSelect;
export type NewTraceRow = typeof traces.$inferInsert;

/**
 * Traces per project, hour slot (`slotOf(time)`) and rating, for the console's histogram of wide
 * windows: counting a week of traces at query time reads a million index entries. Kept by the
 * reader, not the write path: `trace_count_marks.seq` says up to which `seq` the counts are taken,
 * and a histogram first adds the traces stored since (see trace-histogram.ts). Retention deletes
 * only traces older than the queryable window, so in-window counts stay exact.
 */
export const traceHourCounts = sqliteTable(
  'trace_hour_counts',
  {
    projectId: text('project_id').notNull(),
    slot: integer('slot').notNull(),
    traceRating: text('trace_rating').notNull(),
    n: integer('n').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.slot, t.traceRating] })],
);

export const traceCountMarks = sqliteTable('trace_count_marks', {
  projectId: text('project_id').primaryKey(),
  seq: integer('seq').notNull(),
});
