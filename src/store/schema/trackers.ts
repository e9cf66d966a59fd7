import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** The v3 tracker, plus its transfer cursor and digest-chain state. */
export const trackers = sqliteTable(
  'trackers',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    trackerName: text('tracker_name').notNull(),
    trackerType: text('tracker_type').notNull(),
    status: text('status', { enum: ['enabled', 'disabled', 'error'] }).notNull(),
    detail: text('detail'),
    isSupportValidate: integer('is_support_validate', { mode: 'boolean' }).notNull().default(false),
    isLtsEnabled: integer('is_lts_enabled', { mode: 'boolean' }).notNull().default(false),
    bucketName: text('bucket_name'),
    filePrefixName: text('file_prefix_name').notNull().default(''),
    isObsCreated: integer('is_obs_created', { mode: 'boolean' }).notNull().default(false),
    compressType: text('compress_type', { enum: ['gzip', 'json'] })
      .notNull()
      .default('gzip'),
    isSortByService: integer('is_sort_by_service', { mode: 'boolean' }).notNull().default(true),
    /** Settings the SDK sends that are stored and returned as they are (CTS keeps them on the tracker). */
    bucketLifecycle: integer('bucket_lifecycle'),
    agencyName: text('agency_name'),
    isOrganizationTracker: integer('is_organization_tracker', { mode: 'boolean' }).notNull().default(false),
    isSupportTraceFilesEncryption: integer('is_support_trace_files_encryption', { mode: 'boolean' })
      .notNull()
      .default(false),
    kmsId: text('kms_id'),
    /** `management_event_selector.exclude_service`: these services' traces are not transferred. */
    excludeServices: text('exclude_services', { mode: 'json' }).$type<string[]>(),
    /** Data trackers: the bucket whose object events they record, and which (READ, WRITE). */
    dataBucketName: text('data_bucket_name'),
    dataEvents: text('data_events', { mode: 'json' }).$type<string[]>(),
    /** Resource tags (`BatchCreateResourceTags`), `[{ key, value }]`. */
    tags: text('tags', { mode: 'json' }).$type<Array<{ key: string; value: string }>>(),
    createTime: integer('create_time').notNull(),
    /** Last transferred `traces.seq`; transfer reads strictly after it. */
    transferCursor: integer('transfer_cursor').notNull().default(0),
    /**
     * The page being transferred: traces (transfer_cursor, transfer_plan_end] named with upload
     * time transfer_plan_at. Fixed before the first upload so that a retry after a crash writes
     * the same files under the same keys; cleared when the cursor reaches the end.
     */
    transferPlanEnd: integer('transfer_plan_end'),
    transferPlanAt: integer('transfer_plan_at'),
    lastTransferAt: integer('last_transfer_at'),
    lastError: text('last_error'),
    /** Digest chain: when the current chain's next digest window starts (epoch ms), NULL = no chain. */
    digestWindowStart: integer('digest_window_start'),
    /** When the current chain began: files uploaded earlier (verification off) are not covered. */
    digestChainStart: integer('digest_chain_start'),
    /** The current chain's bucket; `last_digest_*` is the digest the next one links to. */
    lastDigestBucket: text('last_digest_bucket'),
    lastDigestKey: text('last_digest_key'),
    lastDigestHash: text('last_digest_hash'),
    lastDigestSignature: text('last_digest_signature'),
    lastDigestEnd: integer('last_digest_end', { mode: 'boolean' }),
  },
  (t) => [uniqueIndex('trackers_project_name').on(t.projectId, t.trackerName)],
);

/** Every trace file written to a bucket; the cursor moves in the same transaction. */
export const transferredFiles = sqliteTable(
  'transferred_files',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    projectId: text('project_id').notNull(),
    trackerName: text('tracker_name').notNull(),
    bucket: text('bucket').notNull(),
    objectKey: text('object_key').notNull(),
    serviceType: text('service_type'),
    sha256: text('sha256').notNull(),
    size: integer('size').notNull(),
    traceCount: integer('trace_count').notNull(),
    firstSeq: integer('first_seq').notNull(),
    lastSeq: integer('last_seq').notNull(),
    oldestTime: integer('oldest_time').notNull(),
    newestTime: integer('newest_time').notNull(),
    uploadedAt: integer('uploaded_at').notNull(),
    /** Key of the digest that covers this file, once one does. */
    digestKey: text('digest_key'),
  },
  (t) => [
    uniqueIndex('transferred_files_key').on(t.bucket, t.objectKey),
    // The files the next digest must cover, without scanning the covered history.
    index('transferred_files_undigested')
      .on(t.projectId, t.trackerName, t.uploadedAt)
      .where(sql`${t.digestKey} IS NULL`),
    index('transferred_files_tracker_uploaded').on(t.projectId, t.trackerName, t.uploadedAt),
  ],
);

/** Digest files written, newest last. */
export const digests = sqliteTable(
  'digests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    projectId: text('project_id').notNull(),
    trackerName: text('tracker_name').notNull(),
    bucket: text('bucket').notNull(),
    objectKey: text('object_key').notNull(),
    startTime: integer('start_time').notNull(),
    endTime: integer('end_time').notNull(),
    sha256: text('sha256').notNull(),
    signature: text('signature').notNull(),
    isEnd: integer('is_end', { mode: 'boolean' }).notNull(),
    /** Start of the chain this digest belongs to (an orphaned chain is ended from it). */
    chainStart: integer('chain_start'),
    /** The newest digest of its tracker: an open head without a tracker is an orphaned chain. */
    isHead: integer('is_head', { mode: 'boolean' }).notNull().default(false),
    fileCount: integer('file_count').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('digests_tracker_end').on(t.projectId, t.trackerName, t.endTime),
    index('digests_open_heads').on(t.projectId, t.trackerName).where(sql`${t.isHead} = 1 AND ${t.isEnd} = 0`),
  ],
);

/** Digest signing keys: the newest active one signs; retired ones stay published. */
export const signingKeys = sqliteTable('signing_keys', {
  fingerprint: text('fingerprint').primaryKey(),
  publicKeyPem: text('public_key_pem').notNull(),
  /** PKCS#8 PEM, only for keys generated and kept by the service itself. */
  privateKeyPem: text('private_key_pem'),
  createdAt: integer('created_at').notNull(),
  retiredAt: integer('retired_at'),
});

/**
 * Who is writing a tracker's digests right now. Digest runs may overlap (several Workers fired by
 * the same cron, `cts jobs run` beside the server): only the holder of an unexpired lease writes,
 * so one hour never gets two digests.
 */
export const digestLeases = sqliteTable(
  'digest_leases',
  {
    projectId: text('project_id').notNull(),
    trackerName: text('tracker_name').notNull(),
    holder: text('holder').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.trackerName] })],
);
