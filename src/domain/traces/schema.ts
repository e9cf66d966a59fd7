import { z } from 'zod';
import { loneSurrogatePaths } from '../text';

export const TRACE_RATINGS = ['normal', 'warning', 'incident'] as const;
export const TRACE_TYPES = ['ConsoleAction', 'ApiCall', 'SystemAction'] as const;
export const MAX_TRACES_PER_REPORT = 1000;
export const MAX_JSON_DEPTH = 64;

export const TRACE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const TRACE_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
export const SERVICE_TYPE = /^[A-Z0-9]{2,32}$/;
export const RESOURCE_TYPE = /^[A-Za-z0-9._-]{1,64}$/;
export const TRACKER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * No control characters (NUL and friends) in identifiers and short texts, and no unpaired UTF-16
 * surrogate: stored as UTF-8 it would silently become U+FFFD, and the trace would not come back
 * as it was sent.
 */
const printable = (max: number) =>
  z
    .string()
    .max(max)
    .regex(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
      /^(?:[^\u0000-\u001f\u007f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/,
      'must not contain control characters or unpaired surrogates',
    );

/** Nesting depth of a JSON value, without recursion (a hostile body must not blow the stack). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return max;
}

const jsonValue = z.unknown().superRefine((value, ctx) => {
  if (jsonDepth(value) > MAX_JSON_DEPTH) {
    ctx.addIssue({ code: 'custom', message: `must not be nested deeper than ${MAX_JSON_DEPTH} levels` });
    return;
  }
  // Strings inside must be valid Unicode too (domain/text.ts); the first one is named.
  const [where] = loneSurrogatePaths(value, '', 1);
  if (where !== undefined) {
    const inside = where === '(body)' ? '' : ` (at ${where})`;
    ctx.addIssue({ code: 'custom', message: `must not contain an unpaired UTF-16 surrogate${inside}` });
  }
});

/** The SDK's `UserInfo` (with its extras: who acted, with which access key, for whom). */
const userInfo = z.looseObject({
  id: printable(128).optional(),
  name: printable(256).optional(),
  user_name: printable(256).optional(),
  domain: z
    .looseObject({ id: printable(128).optional(), name: printable(256).optional() })
    .nullable()
    .optional(),
  account_id: printable(128).optional(),
  access_key_id: printable(128).optional(),
  principal_urn: printable(1024).optional(),
  principal_id: printable(256).optional(),
  principal_is_root_user: z.enum(['true', 'false']).optional(),
  type: printable(64).optional(),
  invoked_by: z.array(printable(256)).max(32).optional(),
  session_context: z
    .object({
      attributes: z
        .object({ created_at: printable(64).optional(), mfa_authenticated: printable(16).optional() })
        .optional(),
    })
    .optional(),
});

/** The SDK declares these as strings: a string is kept as sent, any other JSON value as its JSON text. */
const jsonOrText = jsonValue;

/** One reported trace (the 21 CTS fields less the server-set `record_time`, plus `tracker_name`). */
export const ReportedTraceSchema = z.object({
  trace_id: z.string().regex(TRACE_ID, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -').optional(),
  trace_name: z
    .string()
    .regex(TRACE_NAME, 'must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter'),
  trace_rating: z.enum(TRACE_RATINGS),
  trace_type: z.enum(TRACE_TYPES),
  service_type: z.string().regex(SERVICE_TYPE, 'must be an uppercase acronym of 2-32 characters A-Z 0-9'),
  resource_type: z.string().regex(RESOURCE_TYPE, 'must be 1-64 characters of A-Z a-z 0-9 . _ -'),
  time: z
    .number()
    .int('must be an integer (epoch milliseconds)')
    .min(946684800000, 'must be epoch milliseconds after 2000-01-01')
    .max(99999999999999, 'must be epoch milliseconds'),
  tracker_name: z.string().regex(TRACKER_NAME).default('system'),
  user: userInfo.nullable().optional(),
  request: jsonOrText.optional(),
  response: jsonOrText.optional(),
  message: jsonOrText.optional(),
  code: z
    .union([printable(256), z.number().int()])
    .nullable()
    .optional(),
  api_version: printable(64).nullable().optional(),
  resource_id: printable(350).nullable().optional(),
  resource_name: printable(256).nullable().optional(),
  source_ip: printable(64).nullable().optional(),
  request_id: printable(128).nullable().optional(),
  location_info: printable(1024).nullable().optional(),
  endpoint: printable(1024).nullable().optional(),
  resource_url: printable(2048).nullable().optional(),
  // The SDK's `Traces` extras (reference §17).
  enterprise_project_id: printable(64).nullable().optional(),
  resource_account_id: printable(128).nullable().optional(),
  read_only: z.boolean().nullable().optional(),
  operation_id: printable(256).nullable().optional(),
});

export const ReportTracesSchema = z.object({
  traces: z.array(ReportedTraceSchema).min(1).max(MAX_TRACES_PER_REPORT),
});

export type ReportedTrace = z.infer<typeof ReportedTraceSchema>;

/** The trace extras returned only when they were reported. */
export const TRACE_EXTRAS = [
  'enterprise_project_id',
  'resource_account_id',
  'read_only',
  'operation_id',
] as const;

/**
 * The API shape of a trace: the 21 CTS fields (`request`, `response`, `message` as the text that
 * was reported, as the SDK's `Traces` model declares them), then the extras that were reported.
 */
export interface Trace {
  trace_id: string;
  trace_name: string;
  trace_rating: string;
  trace_type: string;
  request: string | null;
  response: string | null;
  code: string | null;
  api_version: string | null;
  message: string | null;
  record_time: number;
  time: number;
  user:
    | ({ id?: string; name?: string; domain?: { id?: string; name?: string } | null } & Record<
        string,
        unknown
      >)
    | null;
  service_type: string;
  resource_type: string;
  resource_id: string | null;
  resource_name: string | null;
  source_ip: string | null;
  request_id: string | null;
  location_info: string | null;
  endpoint: string | null;
  resource_url: string | null;
  enterprise_project_id?: string;
  resource_account_id?: string;
  read_only?: boolean;
  operation_id?: string;
}

/** A query-string epoch-ms timestamp: digits only (an empty or `1e12` value is a mistake, not 0). */
const epochMs = z
  .string()
  .regex(/^\d{1,15}$/, 'must be epoch milliseconds (digits only)')
  .transform(Number);

/**
 * Query parameters of `GET /v3/{project_id}/traces` (reference §3.1, the SDK's `ListTracesRequest`,
 * plus our extra filters). Strict: a misspelled filter is a 400 naming it, never an unfiltered page.
 */
export const TraceQuerySchema = z.strictObject({
  trace_type: z.enum(['system', 'data'], { error: 'must be system or data' }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be an integer 1-200 (digits only)')
    .transform(Number)
    .pipe(z.number().min(1, 'must be 1-200').max(200, 'must be 1-200'))
    // The default as sent (a query string), so that the documented default fits the schema.
    .prefault('10'),
  from: epochMs.optional(),
  to: epochMs.optional(),
  next: z.string().regex(TRACE_ID, 'must be a trace_id').optional(),
  tracker_name: z.string().regex(TRACKER_NAME).optional(),
  service_type: z.string().min(1).max(32).optional(),
  user: z.string().min(1).max(256).optional(),
  resource_id: z.string().min(1).max(350).optional(),
  resource_name: z.string().min(1).max(256).optional(),
  resource_type: z.string().min(1).max(64).optional(),
  trace_id: z.string().regex(TRACE_ID, 'must be a trace_id').optional(),
  trace_name: z.string().min(1).max(64).optional(),
  trace_rating: z.enum(TRACE_RATINGS).optional(),
  source_ip: z.string().min(1).max(64).optional(),
  code: z.string().min(1).max(256).optional(),
  request_id: z.string().min(1).max(128).optional(),
  access_key_id: z.string().min(1).max(128).optional(),
  enterprise_project_id: z.string().min(1).max(64).optional(),
});

export type TraceQuery = z.infer<typeof TraceQuerySchema>;
