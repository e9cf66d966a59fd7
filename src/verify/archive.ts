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

/** An object under the tracker's folders that is neither a digest, its signature nor a trace file. */
export interface OddEntry {
  key: string;
  reason: string;
}

/** The object beside a digest that carries its signature (ADR 0007): `<digest key>.sig`. */
const SIGNATURE_SUFFIX = '.sig';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TIME = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z)';
const PREFIX = '(?:([A-Za-z0-9._-]*)_)?';
const DAY_MS = 24 * HOUR_MS;

/**
 * Name patterns of the files of one tracker (reference §7.2, §8.1; DESIGN §5), matched on the part
 * after `CloudTraces/{region}/{yyyy}/{m}/{d}/{tracker}/`. The owner is captured so that another
 * project's well-formed files sharing the folder are told apart from odd names.
 */
function patterns(region: string) {
  const owner = `${escapeRegExp(region)}-([0-9A-Za-z]+)_${TIME}`;
  return {
    digest: new RegExp(`^Digest/${PREFIX}CloudTrace-Digest_${owner}\\.json\\.gz(\\.sig)?$`),
    trace: new RegExp(`^(?:[A-Z0-9]{2,32}/)?${PREFIX}CloudTrace_${owner}_[0-9a-f]{16}\\.json(?:\\.gz)?$`),
  };
}

/** `CloudTraces/{region}/{yyyy}/{m}/{d}/` for every UTC day from `from` to `to`. */
export function dayPrefixes(region: string, from: number, to: number): string[] {
  const prefixes: string[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= to; day += DAY_MS)
    prefixes.push(dayFolder(region, day));
  return prefixes;
}

const dayFolder = (region: string, time: number) => {
  const d = new Date(time);
  return `CloudTraces/${region}/${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()}/`;
};

export interface ArchiveListing {
  /** Newest first (by the time in the name, then key). */
  digests: DigestEntry[];
  /** Signature objects by the key of the digest they sign. */
  signatures: Map<string, string>;
  traceFiles: TraceEntry[];
  /** Everything else under the tracker's folders of the listed days. */
  odd: OddEntry[];
}

/** What one key under the region is, for this tracker and project. */
export function classify(
  scope: Pick<ArchiveScope, 'region' | 'projectId' | 'trackerName'>,
  key: string,
):
  | { kind: 'digest'; entry: DigestEntry }
  | { kind: 'signature'; digestKey: string; endTime: number }
  | { kind: 'trace'; entry: TraceEntry }
  | { kind: 'odd'; reason: string }
  | { kind: 'elsewhere' } {
  const parts = key.split('/');
  // CloudTraces / region / yyyy / m / d / tracker / ...rest
  if (parts.length < 7 || parts[0] !== 'CloudTraces' || parts[1] !== scope.region)
    return { kind: 'elsewhere' };
  if (parts[5] !== scope.trackerName) return { kind: 'elsewhere' };
  const rest = parts.slice(6).join('/');
  const { digest, trace } = patterns(scope.region);
  const d = digest.exec(rest);
  const t = d ? null : trace.exec(rest);
  const match = d ?? t;
  if (!match) return { kind: 'odd', reason: 'not a name the service writes' };
  const [, prefix, owner, stamp] = match;
  if (owner !== scope.projectId) {
    // Another project's well-formed file in the shared folder is not ours to judge; a name that
    // differs from ours only in letter case is a forgery aimed at us.
    const another = /^[0-9a-f]{32}$/.test(owner!) && owner!.toLowerCase() !== scope.projectId.toLowerCase();
    return another ? { kind: 'elsewhere' } : { kind: 'odd', reason: 'not a name the service writes' };
  }
  const time = parseFileTime(stamp!);
  if (Number.isNaN(time)) return { kind: 'odd', reason: 'not a name the service writes (no such time)' };
  if (!key.startsWith(dayFolder(scope.region, time)))
    return { kind: 'odd', reason: 'stored under another date than its name says' };
  if (d?.[4]) return { kind: 'signature', digestKey: key.slice(0, -SIGNATURE_SUFFIX.length), endTime: time };
  if (d) return { kind: 'digest', entry: { key, endTime: time, prefix: prefix ?? '' } };
  return { kind: 'trace', entry: { key, time } };
}

/**
 * Lists one tracker's objects between `from` and `until`, one day folder at a time — or the whole
 * region when `from` is undefined. Every object under the tracker's folders is accounted for:
 * digests and their signatures (end time in (from, until]), trace files (upload time in
 * [from, to)), and anything else as odd.
 */
export async function listArchive(
  bucket: Bucket,
  scope: ArchiveScope,
  until: number,
  onListed?: (count: number) => void,
): Promise<ArchiveListing> {
  const prefixes =
    scope.from === undefined
      ? [`CloudTraces/${scope.region}/`]
      : dayPrefixes(scope.region, scope.from, until);
  const listing: ArchiveListing = { digests: [], signatures: new Map(), traceFiles: [], odd: [] };
  const digestInRange = (time: number) => (scope.from === undefined || time > scope.from) && time <= until;
  let seen = 0;
  for (const prefix of prefixes) {
    for await (const { key } of bucket.list(prefix)) {
      if (++seen % 1000 === 0) onListed?.(seen);
      const found = classify(scope, key);
      if (found.kind === 'digest') {
        if (digestInRange(found.entry.endTime)) listing.digests.push(found.entry);
      } else if (found.kind === 'signature') {
        if (digestInRange(found.endTime)) listing.signatures.set(found.digestKey, key);
      } else if (found.kind === 'trace') {
        const { time } = found.entry;
        if ((scope.from === undefined || time >= scope.from) && time < scope.to)
          listing.traceFiles.push(found.entry);
      } else if (found.kind === 'odd') listing.odd.push({ key, reason: found.reason });
    }
  }
  listing.digests.sort((a, b) => b.endTime - a.endTime || (a.key < b.key ? 1 : -1));
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
  for (let i = 0; i <= days; i++) {
    const prefix = dayFolder(scope.region, before - i * DAY_MS);
    const found: DigestEntry[] = [];
    for await (const { key } of bucket.list(prefix)) {
      const entry = classify(scope, key);
      if (entry.kind === 'digest' && entry.entry.endTime <= before) found.push(entry.entry);
    }
    found.sort((a, b) => b.endTime - a.endTime);
    if (found[0]) return found[0];
  }
  return undefined;
}
