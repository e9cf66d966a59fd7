import { sha256Hex } from '../domain/crypto';

/** Reference §7.1–7.2 naming. */
export interface TraceFileName {
  region: string;
  projectId: string;
  trackerName: string;
  /** Service directory level; omitted when the tracker does not sort by service. */
  serviceType?: string;
  filePrefix: string;
  compress: boolean;
  /** Upload time (epoch ms, named in UTC). */
  uploadedAt: number;
  /** 16 hex characters, see `fileSuffix`. */
  suffix: string;
}

/** `2016-05-30T16-20-56Z`: the reference's time format (hyphens in the time part). */
export function fileTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replaceAll(':', '-')}Z`;
}

/**
 * `CloudTraces/{region}/{yyyy}/{m}/{d}/{tracker}/{SERVICE}/{prefix}_CloudTrace_{region}-{project}_{time}Z_{hex}.json.gz`:
 * month and day are not zero-padded, the service level is left out when not sorting by service,
 * and with no prefix the name starts at `CloudTrace_`.
 */
export function traceFileKey(name: TraceFileName): string {
  const date = new Date(name.uploadedAt);
  const folders = [
    'CloudTraces',
    name.region,
    String(date.getUTCFullYear()),
    String(date.getUTCMonth() + 1),
    String(date.getUTCDate()),
    name.trackerName,
    ...(name.serviceType === undefined ? [] : [name.serviceType]),
  ];
  const prefix = name.filePrefix === '' ? '' : `${name.filePrefix}_`;
  const extension = name.compress ? '.json.gz' : '.json';
  const file = `${prefix}CloudTrace_${name.region}-${name.projectId}_${fileTimestamp(name.uploadedAt)}_${name.suffix}${extension}`;
  return `${folders.join('/')}/${file}`;
}

/**
 * The file name's 16 hex characters, derived from what the file holds (project, tracker, first and
 * last seq) rather than random: a retried upload of the same traces writes the same key.
 */
export async function fileSuffix(
  projectId: string,
  trackerName: string,
  firstSeq: number,
  lastSeq: number,
): Promise<string> {
  return (await sha256Hex(`${projectId}\n${trackerName}\n${firstSeq}\n${lastSeq}`)).slice(0, 16);
}

const encoder = new TextEncoder();
/** JSON is handed to the compressor in pieces of about this size. */
const CHUNK_CHARS = 256 * 1024;
/** Chunks handed to the compressor but not yet taken in, per file, before `add` makes the caller wait. */
const MAX_QUEUED_CHUNKS = 4;

/**
 * Builds one trace file, a JSON array, from already-serialized items. With gzip the bytes are
 * compressed as they come (web `CompressionStream`, off the main thread on Node), so a file never
 * sits in memory uncompressed, and the compressor's queue is bounded (see `add`).
 */
export class TraceFileBuilder {
  /** Items added. */
  count = 0;
  /** Characters of JSON added (≈ bytes for the ASCII-heavy trace JSON). */
  chars = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly writer?: WritableStreamDefaultWriter<BufferSource>;
  private readonly output?: Promise<ArrayBuffer>;
  private readonly plain: Uint8Array[] = [];
  private readonly queued: Array<Promise<void>> = [];

  constructor(readonly compress: boolean) {
    if (compress) {
      const gzip = new CompressionStream('gzip');
      this.writer = gzip.writable.getWriter();
      // Drained concurrently so that the compressor never stalls on a full output queue.
      this.output = new Response(gzip.readable).arrayBuffer();
      // Errors surface from finish(); keep them from being reported as unhandled meanwhile.
      this.output.catch(() => {});
    }
  }

  /**
   * Adds one item. Returns a promise only when the compressor is `MAX_QUEUED_CHUNKS` behind:
   * awaiting it bounds the memory a file's queue takes, while reading goes on as long as the
   * compressor keeps up.
   */
  add(json: string): Promise<void> | undefined {
    this.pending.push(this.count === 0 ? `[${json}` : `,${json}`);
    this.count++;
    this.chars += json.length + 1;
    this.pendingChars += json.length + 1;
    if (this.pendingChars < CHUNK_CHARS) return undefined;
    this.push();
    return this.queued.length > MAX_QUEUED_CHUNKS ? this.queued.shift() : undefined;
  }

  private push(): void {
    if (this.pending.length === 0) return;
    const bytes = encoder.encode(this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
    if (!this.writer) {
      this.plain.push(bytes);
      return;
    }
    // Failures surface from finish() (the output rejects); these only pace the caller.
    this.queued.push(this.writer.write(bytes).catch(() => {}));
  }

  /** The file's exact bytes. */
  async finish(): Promise<Uint8Array> {
    this.pending.push(this.count === 0 ? '[]' : ']');
    this.push();
    if (this.writer && this.output) {
      await this.writer.close();
      return new Uint8Array(await this.output);
    }
    const out = new Uint8Array(this.plain.reduce((n, part) => n + part.byteLength, 0));
    let offset = 0;
    for (const part of this.plain) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }

  /** Drops the file (after a failure): releases the compressor. */
  abort(): void {
    this.writer?.abort().catch(() => {});
  }
}
