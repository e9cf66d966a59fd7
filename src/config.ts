import { z } from 'zod';
import { canonicalCidr } from './api/client-ip';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** What CTS_DATABASE_THREAD was before `auto`: a boolean. */
const LEGACY_THREAD_VALUES: Record<string, string> = {
  true: 'all',
  1: 'all',
  yes: 'all',
  false: 'off',
  0: 'off',
  no: 'off',
};
const projectId = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Comma-separated IPv4/IPv6 CIDRs (or single addresses), as canonical CIDR strings. */
const cidrList = z.string().transform((value, ctx) => {
  const cidrs: string[] = [];
  for (const entry of value.split(',').filter((part) => part.trim() !== '')) {
    try {
      cidrs.push(canonicalCidr(entry));
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }
  return cidrs;
});

/**
 * Configuration from environment variables (Node) or bindings (Worker), parsed once at the
 * boundary. Empty strings count as unset so that `FOO=` in a shell behaves like no `FOO`.
 */
export const ConfigSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  CTS_DATA_DIR: z.string().min(1).default('./data'),
  CTS_DATABASE_URL: z
    .string()
    .regex(/^(file:|libsql:|https?:|wss?:)/, 'must start with file:, libsql:, http(s): or ws(s):')
    .optional(),
  CTS_DATABASE_AUTH_TOKEN: z.string().optional(),
  /** Page cache for an embedded database, MiB (see docs/adr/0001-trace-storage.md). */
  CTS_DATABASE_CACHE_MB: int(2, 65536).default(32),
  /**
   * Node, embedded database: `auto` runs large writes (reports of many traces) and checkpoints on
   * a database thread and everything else on the server's; `all` runs every call on the thread;
   * `off` none (docs/adr/0001-trace-storage.md, issue 16). Ignored by Deno, Bun and remote databases.
   */
  CTS_DATABASE_THREAD: z
    .preprocess(
      (value) => (typeof value === 'string' ? (LEGACY_THREAD_VALUES[value] ?? value) : value),
      z.enum(['auto', 'all', 'off']),
    )
    .default('auto'),
  /**
   * Embedded database: `on` lets small trace writes (single-trace reports) stage their slotted
   * index entries for a batched index pass, `off` indexes every row as it is written
   * (docs/adr/0001-trace-storage.md §12, issue 16). Ignored by remote databases.
   */
  CTS_STAGED_INDEX: z.enum(['on', 'off']).default('on'),
  CTS_REGION: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and hyphens')
    .default('local-1'),
  CTS_RETENTION_DAYS: int(1, 3650).default(7),
  CTS_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Server secret the AK/SK secret keys are derived from (docs/adr/0003-access-keys.md). The Node
   * server generates one in the data directory when unset; a Worker needs it as a secret.
   */
  CTS_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  CTS_PROJECT_ID: projectId.optional(),
  CTS_S3_ENDPOINT: z.url().optional(),
  CTS_S3_REGION: z.string().min(1).default('us-east-1'),
  CTS_S3_ACCESS_KEY_ID: z.string().optional(),
  CTS_S3_SECRET_ACCESS_KEY: z.string().optional(),
  CTS_S3_FORCE_PATH_STYLE: bool.default(true),
  CTS_JOBS_INTERVAL_SECONDS: int(1, 86400).default(60),
  /** Databases (the control one and the shards) whose jobs one run covers; the rest go next run. */
  CTS_JOBS_SHARDS_PER_RUN: int(1, 1000).default(16),
  CTS_TRANSFER_MAX_TRACES_PER_FILE: int(1, 1_000_000).default(10_000),
  CTS_TRANSFER_MAX_TRACES_PER_RUN: int(1, 10_000_000).default(50_000),
  CTS_RETENTION_MAX_DELETES_PER_RUN: int(1, 10_000_000).default(100_000),
  CTS_SIGNING_KEY: z.string().includes('BEGIN PRIVATE KEY', { message: 'must be a PKCS#8 PEM' }).optional(),
  /** Digest files written per job run at most (catching up missed hours spreads over runs). */
  CTS_DIGESTS_MAX_PER_RUN: int(1, 100_000).default(200),
  /** Key event notifications: how long one webhook POST may take before it counts as failed. */
  CTS_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Whether webhook URLs may name loopback/private IP addresses (link-local never). */
  CTS_WEBHOOK_ALLOW_PRIVATE: bool.default(true),
  /**
   * Proxies whose forwarding headers (X-Forwarded-For, X-Real-IP, CF-Connecting-IP) are believed
   * when they are the TCP peer (see api/client-ip.ts). Empty: the peer is the client.
   */
  CTS_TRUSTED_PROXIES: cidrList.default([]),
});

export type Config = z.infer<typeof ConfigSchema>;

/** One bad setting: its name (e.g. `CTS_DATABASE_URL`) and what is wrong with it. */
export interface ConfigIssue {
  setting: string;
  message: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: ConfigIssue[] = [],
  ) {
    super(message);
  }
}

/** A ConfigError naming every bad setting, one per line. */
export function configError(issues: ConfigIssue[]): ConfigError {
  const lines = issues.map((issue) => `  ${issue.setting}: ${issue.message}`);
  return new ConfigError(`Invalid configuration:\n${lines.join('\n')}`, issues);
}

/** Parses raw settings; throws a ConfigError naming every bad setting. */
export function parseConfig(raw: Record<string, unknown>): Config {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => key in ConfigSchema.shape && value !== '' && value != null),
  );
  const result = ConfigSchema.safeParse(present);
  if (!result.success) {
    throw configError(
      result.error.issues.map((issue) => ({ setting: issue.path.join('.'), message: issue.message })),
    );
  }
  return result.data;
}
