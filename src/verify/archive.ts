import type { Bucket } from '../transfer/bucket';
import { HOUR_MS, parseFileTime } from '../transfer/digest';

/** Which part of an archive to look at: one tracker of one project, a time range. */
export interface ArchiveScope {
  region: string;
  projectId: string;
  trackerName: string;
  /** Epoch ms; undefined = from the beginning. */
  from?: number;
  to: number;
}

/** A digest object found in the bucket, with what its name says. */
export interface DigestEntry {
  key: string;
  /** The window end its name carries. */
  endTime: number;
  /** The file prefix it was named with. */
  prefix: string;
}

/** A trace file found in the bucket, with its upload time from its name. */
export interface TraceEntry {
  key: string;
  time: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TIME = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z)';
const DAY_MS = 24 * HOUR_MS;

/** Name patterns of one tracker's digests and trace files (reference §7.2, §8.1; DESIGN §5). */
function patterns(scope: ArchiveScope) {
  const region = escapeRegExp(scope.region);
  const folder = `^CloudTraces/${region}/\\d{4}/\\d{1,2}/\\d{1,2}/${escapeRegExp(scope.trackerName)}/`;
  const owner = `${region}-${escapeRegExp(scope.projectId)}_${TIME}`;
  return {
    digest: new RegExp(`${folder}Digest/(?:([A-Za-z0-9._-]*)_)?CloudTrace-Digest_${owner}\\.json\\.gz$`),
    trace: new RegExp(
      `${folder}(?:[A-Z0-9]+/)?(?:[A-Za-z0-9._-]*_)?CloudTrace_${owner}_[0-9a-f]{16}\\.json(?:\\.gz)?$`,
    ),
  };
}

/** `CloudTraces/{region}/{yyyy}/{m}/{d}/` for every UTC day from `from` to `to`. */
export function dayPrefixes(region: string, from: number, to: number): string[] {
  const prefixes: string[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= to; day += DAY_MS) {
    const d = new Date(day);
    prefixes.push(`CloudTraces/${region}/${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/`);
  }
  return prefixes;
}

export interface ArchiveListing {
  /** Newest first (by the time in the name, then key). */
  digests: DigestEntry[];
  traceFiles: TraceEntry[];
}

/**
 * Lists one tracker's digests and trace files between `from` and `until` (by the times in their
 * names), one day folder at a time — or the whole region when `from` is undefined.
 */
export async function listArchive(
  bucket: Bucket,
  scope: ArchiveScope,
  until: number,
  onListed?: (count: number) => void,
): Promise<ArchiveListing> {
  const { digest, trace } = patterns(scope);
  const prefixes =
    scope.from === undefined
      ? [`CloudTraces/${scope.region}/`]
      : dayPrefixes(scope.region, scope.from, until);
  const listing: ArchiveListing = { digests: [], traceFiles: [] };
  let seen = 0;
  for (const prefix of prefixes) {
    for await (const { key } of bucket.list(prefix)) {
      if (++seen % 1000 === 0) onListed?.(seen);
      const d = digest.exec(key);
      if (d) {
        listing.digests.push({ key, endTime: parseFileTime(d[2]!), prefix: d[1] ?? '' });
        continue;
      }
      const t = trace.exec(key);
      if (t) listing.traceFiles.push({ key, time: parseFileTime(t[1]!) });
    }
  }
  const inRange = (time: number) =>
    !Number.isNaN(time) && (scope.from === undefined || time > scope.from) && time <= until;
  listing.digests = listing.digests
    .filter((entry) => inRange(entry.endTime))
    .sort((a, b) => b.endTime - a.endTime || (a.key < b.key ? 1 : -1));
  listing.traceFiles = listing.traceFiles.filter(
    (entry) =>
      !Number.isNaN(entry.time) &&
      (scope.from === undefined || entry.time >= scope.from) &&
      entry.time < scope.to,
  );
  return listing;
}

/**
 * The newest digest that ends at or before `before`, looking back at most `days` day folders:
 * the state of the chain when the range begins.
 */
export async function findDigestBefore(
  bucket: Bucket,
  scope: ArchiveScope,
  before: number,
  days = 31,
): Promise<DigestEntry | undefined> {
  const { digest } = patterns(scope);
  for (let i = 0; i <= days; i++) {
    const [prefix] = dayPrefixes(scope.region, before - i * DAY_MS, before - i * DAY_MS);
    const found: DigestEntry[] = [];
    for await (const { key } of bucket.list(prefix!)) {
      const d = digest.exec(key);
      const endTime = d ? parseFileTime(d[2]!) : Number.NaN;
      if (d && endTime <= before) found.push({ key, endTime, prefix: d[1] ?? '' });
    }
    found.sort((a, b) => b.endTime - a.endTime);
    if (found[0]) return found[0];
  }
  return undefined;
}
