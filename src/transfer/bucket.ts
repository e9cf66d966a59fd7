/** Why a bucket operation failed, in the tracker `detail` vocabulary where one applies. */
export type BucketFailure = 'noBucket' | 'bucketPolicyError' | 'unavailable';

export class BucketError extends Error {
  override name = 'BucketError';
  constructor(
    readonly failure: BucketFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface StoredObject {
  body: Uint8Array;
  /** User metadata, keys lower-case without the `x-amz-meta-` prefix. */
  metadata: Record<string, string>;
  contentType?: string;
}

export interface ListedObject {
  key: string;
  size: number;
}

/** One bucket. Keys are S3 object keys ('/'-separated). */
export interface Bucket {
  readonly name: string;
  put(
    key: string,
    body: Uint8Array,
    options: { contentType: string; metadata?: Record<string, string> },
  ): Promise<void>;
  /** The object, or null when there is no such key. */
  get(key: string): Promise<StoredObject | null>;
  /** Every object under `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ListedObject>;
  delete(key: string): Promise<void>;
}

/** Where buckets live: S3 (any S3-compatible endpoint) or a folder on disk. */
export interface BucketStore {
  bucket(name: string): Bucket;
  exists(name: string): Promise<boolean>;
  /** Creates the bucket; throws BucketError when it cannot. */
  create(name: string): Promise<void>;
}
