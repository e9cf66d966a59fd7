/**
 * The naive trace schema the benchmark compares against: what one writes first — a random UUID
 * primary key, one single-column index per filter plus one on `time`, and (in the bench) SQLite's
 * default page cache. Same columns as `src/store/schema/traces.ts`.
 */
const FILTER_COLUMNS = [
  'tracker_name',
  'service_type',
  'user_name',
  'resource_id',
  'resource_name',
  'resource_type',
  'trace_name',
  'trace_rating',
  'source_ip',
  'code',
  'request_id',
  'access_key_id',
  'enterprise_project_id',
  'time',
];

export const NAIVE_SCHEMA = `
CREATE TABLE traces (
  id text PRIMARY KEY NOT NULL,
  project_id text NOT NULL, tracker_name text NOT NULL, trace_id text NOT NULL,
  trace_name text NOT NULL, trace_rating text NOT NULL, trace_type text NOT NULL,
  service_type text NOT NULL, resource_type text NOT NULL, resource_id text, resource_name text,
  source_ip text, request_id text, code text, api_version text, time integer NOT NULL,
  record_time integer NOT NULL, user_name text, user text, request text, response text,
  message text, location_info text, endpoint text, resource_url text,
  access_key_id text, enterprise_project_id text, extras text
);
CREATE UNIQUE INDEX naive_trace_id ON traces (project_id, trace_id);
${FILTER_COLUMNS.map((column) => `CREATE INDEX naive_${column} ON traces (${column});`).join('\n')}
`;
