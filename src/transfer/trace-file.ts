import { sha256Hex } from '../domain/crypto';
import { fileTime } from './digest';

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
  const file = `${prefix}CloudTrace_${name.region}-${name.projectId}_${fileTime(name.uploadedAt)}_${name.suffix}${extension}`;
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

/** JSON is handed to the compressor in pieces of this size. */
const CHUNK_BYTES = 128 * 1024;
/** Chunks handed to the compressor but not yet taken in, per file, before `add` makes the caller wait. */
const MAX_QUEUED_CHUNKS = 2;
const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d; // ]
const encoder = new TextEncoder();
const NO_CHUNK = new Uint8Array(0);

/**
 * Builds one trace file, a JSON array, from already-serialized items. The JSON is encoded (UTF-8)
 * straight into chunks; with gzip each chunk is compressed once full (web `CompressionStream`,
 * off the main thread on Node), so a file never sits in memory uncompressed, and the compressor's
 * queue is bounded (see `add`). A chunk handed to the compressor is never reused: a write can
 * settle before the compressor has read it (Node settles writes below its buffer limit at once).
 */
export class TraceFileBuilder {
  /** Items added. */
  count = 0;
  /** Bytes of JSON added. */
  bytes = 0;
  /** Where `add` encodes to: allocated when the first item comes. */
  private chunk = NO_CHUNK;
  private used = 0;
  private readonly writer?: WritableStreamDefaultWriter<BufferSource>;
  private readonly output?: Promise<ArrayBuffer>;
  private readonly plain: Array<Uint8Array<ArrayBuffer>> = [];
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
    let behind: Promise<void> | undefined;
    if (!this.append(json)) {
      this.push();
      // UTF-8 takes at most 3 bytes per UTF-16 unit: a fresh chunk that size always fits it.
      this.chunk = new Uint8Array(Math.max(CHUNK_BYTES, json.length * 3 + 1));
      this.append(json);
      behind = this.queued.length > MAX_QUEUED_CHUNKS ? this.queued.shift() : undefined;
    }
    this.count++;
    return behind;
  }

  /** Encodes `json` after its separator into the current chunk; false (and nothing kept) if it does not fit. */
  private append(json: string): boolean {
    if (this.used + 1 + json.length > this.chunk.byteLength) return false;
    const { read, written } = encoder.encodeInto(json, this.chunk.subarray(this.used + 1));
    if (read < json.length) return false;
    this.chunk[this.used] = this.count === 0 ? OPEN : COMMA;
    this.used += written + 1;
    this.bytes += written + 1;
    return true;
  }

  /** Hands the filled part of the current chunk on (to the compressor, or to the plain parts). */
  private push(): void {
    const bytes = this.chunk.subarray(0, this.used);
    this.chunk = NO_CHUNK;
    this.used = 0;
    if (bytes.byteLength === 0) return;
    if (!this.writer) {
      this.plain.push(bytes);
      return;
    }
    // Failures surface from finish() (the output rejects); these only pace the caller.
    this.queued.push(this.writer.write(bytes).catch(() => {}));
  }

  /** The file's exact bytes. */
  async finish(): Promise<Uint8Array> {
    this.push();
    const end = this.count === 0 ? Uint8Array.of(OPEN, CLOSE) : Uint8Array.of(CLOSE);
    if (this.writer && this.output) {
      await this.writer.write(end);
      await this.writer.close();
      return new Uint8Array(await this.output);
    }
    this.plain.push(end);
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
