import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { ARCHIVE_FILTERS, type TraceFilters } from '../archive/filter';
import { type ArchivedTrace, queryArchive } from '../archive/query';
import { parseConfig } from '../config';
import { csvRows } from '../domain/traces/csv';
import { toOcsf } from '../domain/traces/ocsf';
import {
  type CommandIo,
  type Flags,
  isUsageFailure,
  openBucket,
  text,
  time,
  trustedKeys,
  VerifyUsageError,
} from './verify-command';

export const ARCHIVE_USAGE =
  '  archive query --project ID (--bucket NAME | --dir PATH) [--tracker NAME] [--region R]\n' +
  '         --from ISO --to ISO [filters] [--format ndjson|csv|ocsf] [--public-key FILE] [--require-proof]\n' +
  '                                              traces of any time range from the archive; filters: --service-type,\n' +
  '                                              --resource-type, --resource-id, --resource-name, --trace-name,\n' +
  '                                              --trace-rating, --user, --source-ip, --code, --request-id, --trace-id';

const gunzipRaw = promisify(gunzip);
/** zlib on the thread pool, one callback per file: the main thread keeps parsing meanwhile. */
const gunzipAsync = async (bytes: Uint8Array) => new Uint8Array(await gunzipRaw(bytes));

/** The filter flags, kebab-case of the API's query parameters. */
export const FILTER_FLAGS = ARCHIVE_FILTERS.map((name) => name.replaceAll('_', '-'));
const FORMATS = ['ndjson', 'csv', 'ocsf'] as const;
type Format = (typeof FORMATS)[number];

/** Where the records go: a sink that may make the caller wait (stdout's backpressure). */
export interface RecordSink {
  write(text: string): Promise<void> | void;
}

/** Turns traces into lines of the chosen format; the CSV header comes first, even with no rows. */
function formatter(format: Format, context: { region: string; projectId: string }) {
  return {
    start: () => (format === 'csv' ? csvRows([], { header: true }) : ''),
    lines(found: ArchivedTrace[]): string {
      if (format === 'csv')
        return csvRows(
          found.map((f) => f.trace),
          { header: false },
        );
      let out = '';
      for (const { trace, json } of found)
        out += `${format === 'ocsf' ? JSON.stringify(toOcsf(trace, context)) : (json ?? JSON.stringify(trace))}\n`;
      return out;
    },
  };
}

/**
 * `cts archive query`: prints the matching traces of the archive on stdout (one a line) and, on
 * stderr, progress and whether the answer is proven complete. Exit 0, or 1 when `--require-proof`
 * and not proven; 2 for a usage error or an unreachable bucket.
 */
export async function archiveQueryCommand(
  flags: Flags,
  io: CommandIo & { records: RecordSink },
  env: Record<string, unknown>,
): Promise<number> {
  try {
    const config = parseConfig(env);
    const projectId = text(flags, 'project');
    if (!projectId) throw new VerifyUsageError('--project is required');
    const now = time(flags, 'now') ?? Date.now();
    const from = time(flags, 'from');
    const requestedTo = time(flags, 'to');
    if (from === undefined || requestedTo === undefined)
      throw new VerifyUsageError('--from and --to are required (ISO 8601 times)');
    const to = Math.min(requestedTo, now); // the future holds no traces yet
    if (from > to) throw new VerifyUsageError('--from must not be later than --to (or now)');
    const format = (text(flags, 'format') ?? 'ndjson') as Format;
    if (!FORMATS.includes(format))
      throw new VerifyUsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const filters: TraceFilters = {};
    for (const name of ARCHIVE_FILTERS) {
      const value = flags[name.replaceAll('_', '-')];
      if (value === true || value === '')
        throw new VerifyUsageError(`--${name.replaceAll('_', '-')} needs a value`);
      if (typeof value === 'string') filters[name] = value;
    }
    const keys = await trustedKeys(flags, config);
    const { bucket, bucketName } = await openBucket(flags, config);
    const region = text(flags, 'region') ?? config.CTS_REGION;
    const out = formatter(format, { region, projectId });
    const head = out.start();
    if (head) await io.records.write(head);
    const result = await queryArchive({
      bucket,
      bucketName,
      region,
      projectId,
      trackerName: text(flags, 'tracker') ?? 'system',
      from,
      to,
      now,
      keys,
      filters,
      onTraces: (found) => io.records.write(out.lines(found)),
      gunzip: gunzipAsync,
      onProgress: io.progress
        ? (p) =>
            io.progress!(
              p.phase === 'reading'
                ? `files ${p.files}/${p.totalFiles}, ${p.traces} traces read, ${p.matched} matched`
                : p.phase,
            )
        : undefined,
    });
    io.progress?.('', true);
    const counts =
      `${result.matched} traces matched (${result.scanned} read from ${result.filesRead} files; ` +
      `${result.filesSkipped} files skipped by their recorded trace times)`;
    if (result.proven) io.err(`${counts}: proven complete`);
    else io.err(`${counts}: not proven — ${result.reasons.join('; ')}`);
    return !result.proven && flags['require-proof'] === true ? 1 : 0;
  } catch (error) {
    io.progress?.('', true);
    if (isUsageFailure(error)) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
}
