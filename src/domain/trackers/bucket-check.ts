import { BucketError } from '../../transfer/bucket';
import { randomHex } from '../crypto';
import type { Deps } from '../deps';
import { isValidBucketName } from './schema';

export interface BucketToCheck {
  bucket_name: string;
  bucket_location?: string;
  kms_id?: string;
  is_support_trace_files_encryption?: boolean;
}

/** The SDK's `CheckBucketResponse`: `success`, or why a transfer to the bucket would fail. */
export interface BucketCheck {
  success: boolean;
  response_code: number;
  error_code?: string;
  error_message?: string;
}

const failed = (response_code: number, error_code: string, error_message: string): BucketCheck => ({
  success: false,
  response_code,
  error_code,
  error_message,
});

/** Where the probe object goes: under the transfer prefix, named so nobody mistakes it for traces. */
const PROBE_PREFIX = 'CloudTraces/.cts-bucket-check-';

/**
 * `CheckObsBuckets`: whether a transfer to the bucket would succeed, checked for real through the
 * bucket store — the bucket exists, and an object can be written there and removed again (the
 * probe is deleted at once). The failures use the tracker `detail` vocabulary.
 */
export async function checkBucket(deps: Pick<Deps, 'buckets'>, input: BucketToCheck): Promise<BucketCheck> {
  if (!isValidBucketName(input.bucket_name)) return failed(400, 'CTS.0231', 'Invalid bucket name.');
  if (input.is_support_trace_files_encryption) return failed(400, 'CTS.0220', 'KMS is not supported.');
  try {
    if (!(await deps.buckets.exists(input.bucket_name)))
      return failed(404, 'noBucket', 'The bucket does not exist.');
    const bucket = deps.buckets.bucket(input.bucket_name);
    const probe = `${PROBE_PREFIX}${randomHex(8)}`;
    await bucket.put(probe, new TextEncoder().encode('{}'), { contentType: 'application/json' });
    await bucket.delete(probe);
    return { success: true, response_code: 200 };
  } catch (error) {
    if (!(error instanceof BucketError)) throw error;
    if (error.failure === 'unavailable') return failed(503, 'CTS.0001', 'The OBS service is abnormal.');
    if (error.failure === 'noBucket') return failed(404, 'noBucket', 'The bucket does not exist.');
    return failed(403, 'bucketPolicyError', 'Trace files cannot be written to the bucket (policy or ACL).');
  }
}

/** Checks each bucket in turn (a handful at most: the route bounds the list). */
export async function checkBuckets(deps: Pick<Deps, 'buckets'>, buckets: BucketToCheck[]) {
  const results = [];
  for (const bucket of buckets) {
    results.push({
      bucket_name: bucket.bucket_name,
      bucket_location: bucket.bucket_location ?? '',
      ...(bucket.kms_id !== undefined ? { kms_id: bucket.kms_id } : {}),
      is_support_trace_files_encryption: bucket.is_support_trace_files_encryption ?? false,
      check_bucket_response: await checkBucket(deps, bucket),
    });
  }
  return results;
}
