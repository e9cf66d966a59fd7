import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { type Bucket, BucketError, type BucketStore, type ListedObject, type StoredObject } from './bucket';

export interface S3BucketStoreOptions {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (s3rver, MinIO, R2). */
  forcePathStyle?: boolean;
  /** Attempts per request, including the first (SDK default 3). */
  maxAttempts?: number;
}

/** The S3 settings of a configuration (`CTS_S3_*`). */
export function s3OptionsFromConfig(config: Config): S3BucketStoreOptions {
  return {
    endpoint: config.CTS_S3_ENDPOINT,
    region: config.CTS_S3_REGION,
    accessKeyId: config.CTS_S3_ACCESS_KEY_ID,
    secretAccessKey: config.CTS_S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.CTS_S3_FORCE_PATH_STYLE,
  };
}

interface S3Failure {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NO_BUCKET = new Set(['NoSuchBucket']);
const POLICY = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccountProblem',
  'Forbidden',
]);

/**
 * An S3 error in the tracker's vocabulary: a missing bucket is `noBucket`, a refusal (403 and
 * other client errors: the bucket exists but will not take our writes) is `bucketPolicyError`,
 * and network failures and 5xx are `unavailable` (worth retrying unchanged).
 */
export function toBucketError(error: unknown, what: string): BucketError {
  if (error instanceof BucketError) return error;
  const failure = (error ?? {}) as S3Failure;
  const name = failure.name ?? failure.Code ?? '';
  const status = failure.$metadata?.httpStatusCode;
  const message = `${what}: ${name || 'error'}${failure.message ? ` (${failure.message})` : ''}`;
  if (NO_BUCKET.has(name)) return new BucketError('noBucket', message, { cause: error });
  if (POLICY.has(name) || status === 403)
    return new BucketError('bucketPolicyError', message, { cause: error });
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)
    return new BucketError('bucketPolicyError', message, { cause: error });
  return new BucketError('unavailable', message, { cause: error });
}

const isNotFound = (error: unknown) => {
  const failure = error as S3Failure;
  return failure?.name === 'NotFound' || failure?.$metadata?.httpStatusCode === 404;
};

/**
 * Buckets on any S3-compatible endpoint through `@aws-sdk/client-s3`. Uses only what every
 * runtime has (fetch-based on Workers): no Node-only API here.
 */
export function createS3BucketStore(options: S3BucketStoreOptions): BucketStore {
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle ?? true,
    maxAttempts: options.maxAttempts,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // The SDK's default streams bodies aws-chunked with a checksum trailer, which some
    // S3-compatible stores keep with the framing (s3rver) or reject: send plain bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  return {
    bucket: (name) => s3Bucket(client, name),
    async exists(name) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: name }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        const mapped = toBucketError(error, `HeadBucket ${name}`);
        // 403: the bucket exists, it is just not ours to read.
        if (mapped.failure === 'bucketPolicyError') return true;
        throw mapped;
      }
    },
    async create(name) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        throw toBucketError(error, `CreateBucket ${name}`);
      }
    },
  };
}

function s3Bucket(client: S3Client, name: string): Bucket {
  return {
    name,
    async put(key, body, options) {
      try {
        // Single-part PutObject so that the ETag is the MD5 of the stored bytes. No
        // Content-Encoding: a `.json.gz` is an opaque gzip file (inside workerd an object with
        // `Content-Encoding: gzip` would come back already decompressed).
        await client.send(
          new PutObjectCommand({
            Bucket: name,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            ContentType: options.contentType,
            Metadata: options.metadata,
          }),
        );
      } catch (error) {
        throw toBucketError(error, `PutObject ${name}/${key}`);
      }
    },
    async get(key): Promise<StoredObject | null> {
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: name, Key: key }));
        const body = result.Body ? await result.Body.transformToByteArray() : new Uint8Array();
        return { body, metadata: result.Metadata ?? {}, contentType: result.ContentType };
      } catch (error) {
        const failure = error as S3Failure;
        if (failure?.name === 'NoSuchKey') return null;
        throw toBucketError(error, `GetObject ${name}/${key}`);
      }
    },
    async *list(prefix): AsyncIterable<ListedObject> {
      try {
        for await (const page of paginateListObjectsV2({ client }, { Bucket: name, Prefix: prefix })) {
          for (const object of page.Contents ?? []) {
            if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
          }
        }
      } catch (error) {
        throw toBucketError(error, `ListObjectsV2 ${name}/${prefix}`);
      }
    },
    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
      } catch (error) {
        throw toBucketError(error, `DeleteObject ${name}/${key}`);
      }
    },
  };
}
