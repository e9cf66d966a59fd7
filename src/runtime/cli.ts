import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../config';
import type { Deps } from '../domain/deps';
import { publicSigningKeys, rotateSigningKey } from '../domain/digests/signing-keys';
import {
  createApiKey,
  createProject,
  listApiKeys,
  listProjects,
  ROLES,
  revokeApiKey,
} from '../domain/projects/projects';
import { runScheduledJobs } from '../jobs';
import type { Role } from '../store/schema/projects';
import { ARCHIVE_USAGE, archiveQueryCommand, FILTER_FLAGS } from './archive-command';
import { recordCliAudit } from './cli-audit';
import { databaseThreadsClosed } from './db-thread';
import { buildNodeDeps, migrateShards } from './node';
import { SHARDS_USAGE, shardCommands } from './shards-command';
import { stderrProgress, VERIFY_USAGE, verifyCommand } from './verify-command';

const USAGE = `Usage: cts <command> [options]

Commands:
  serve                                       start the server (same as npm start)
  migrate                                     apply database migrations to CTS_DATABASE_URL and to
                                              every registered shard
  projects create [--id HEX32] [--name NAME] [--shard ID]
                                              create a project (with its system tracker), on the
                                              given shard or the one with the fewest projects
  projects list
${SHARDS_USAGE}
  keys create --project ID --role reporter|reader|admin [--name NAME]
  keys list --project ID
  keys revoke --project ID --key KEY_ID
  jobs run [--now ISO_TIME]                   run the scheduled jobs once (transfer, retention, ...)
                                              and print their summary; safe while the server runs
${VERIFY_USAGE}
${ARCHIVE_USAGE}
  signing-keys list | rotate                  the keys that sign digests; rotate replaces a generated key

Configuration comes from the same environment variables as the server (see README).`;

/** A command: gets parsed flags, prints its result, returns the exit code. */
export type Command = (flags: Record<string, string | boolean | undefined>) => Promise<number>;

async function deps() {
  return buildNodeDeps(parseConfig(process.env));
}

function closeDeps(d: Deps): void {
  d.shards.close();
  d.control.$client.close();
}

/** Runs a command on the deps, closing every database client it opened afterwards. */
async function withDeps(run: (d: Deps) => Promise<number>): Promise<number> {
  const d = await deps();
  try {
    return await run(d);
  } finally {
    closeDeps(d);
  }
}

function need(flags: Record<string, unknown>, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

class UsageError extends Error {}

/** Every flag any command takes; all take a value except `--help`. */
const OPTIONS = Object.fromEntries([
  ...[
    'id',
    'name',
    'project',
    'role',
    'key',
    'now',
    'tracker',
    'bucket',
    'dir',
    'from',
    'to',
    'shard',
    'url',
  ].map((n) => [n, { type: 'string' }] as const),
  ...['region', 'public-key', 'format', 'token-env', ...FILTER_FLAGS].map(
    (n) => [n, { type: 'string' }] as const,
  ),
  ['require-proof', { type: 'boolean' }] as const,
  ['help', { type: 'boolean' }] as const,
  ['progress', { type: 'boolean' }] as const,
  ['json', { type: 'boolean' }] as const,
]);

/** Standard output with its backpressure: a slow reader slows the query, memory stays flat. */
const stdoutSink = {
  write: (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (process.stdout.write(text)) resolve();
      else process.stdout.once('drain', resolve).once('error', reject);
    }),
};

const commands: Record<string, Command> = {
  'archive query': (flags) =>
    archiveQueryCommand(
      flags,
      {
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        // Long runs report progress even when stderr is a file: a silent hour-long run looks hung.
        progress: stderrProgress('archive query', flags.progress ? 0 : 2000),
        records: stdoutSink,
      },
      process.env,
    ),
  verify: (flags) =>
    verifyCommand(
      flags,
      {
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        progress: flags.progress || process.stderr.isTTY ? stderrProgress() : undefined,
      },
      process.env,
    ),
  async serve() {
    await import('./main');
    return -1; // keeps running
  },
  async migrate() {
    return withDeps(async (d) => {
      console.log('Migrations applied.');
      const shards = await migrateShards(d);
      for (const shard of shards)
        console.log(
          `shard ${shard.id}: ${shard.error ? `NOT MIGRATED: ${shard.error}` : 'migrations applied.'}`,
        );
      return shards.some((shard) => shard.error) ? 1 : 0;
    });
  },
  async 'projects create'(flags) {
    return withDeps(async (d) => {
      const project = await createProject(d, {
        id: flags.id as string | undefined,
        name: flags.name as string | undefined,
        shard: flags.shard as string | undefined,
      });
      console.log(JSON.stringify({ ...project, shard: await d.shards.shardOf(project.id) }, null, 2));
      return 0;
    });
  },
  async 'projects list'() {
    return withDeps(async (d) => {
      for (const p of await listProjects(d))
        console.log(`${p.id}  ${p.name}  (shard ${await d.shards.shardOf(p.id)})`);
      return 0;
    });
  },
  ...shardCommands(withDeps),
  async 'keys create'(flags) {
    const role = need(flags, 'role');
    if (!ROLES.includes(role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const d = await deps();
    const key = await createApiKey(d, {
      projectId: need(flags, 'project'),
      role: role as Role,
      name: flags.name as string | undefined,
    });
    await recordCliAudit(d, key.projectId, {
      traceName: 'createKey',
      resourceType: 'key',
      resourceId: key.id,
      resourceName: key.name,
      response: { id: key.id, role: key.role, name: key.name },
      code: 201,
    });
    console.log(
      `Created ${key.role} key ${key.id} for project ${key.projectId}. Keep it safe, it is shown only now:\n${key.token}`,
    );
    // The same key as an AK/SK pair, for the official CTS SDKs and tools (README).
    if (key.accessKey)
      console.log(`access key id: ${key.accessKey.id}\nsecret access key: ${key.accessKey.secret}`);
    else console.error('No AK/SK pair: set CTS_SECRET (the server secret of ADR 0003) to print one.');
    return 0;
  },
  async 'keys list'(flags) {
    const d = await deps();
    for (const k of await listApiKeys(d, need(flags, 'project'))) {
      console.log(`${k.id}  ${k.role.padEnd(8)}  ${k.name}${k.revokedAt ? '  (revoked)' : ''}`);
    }
    return 0;
  },
  async 'signing-keys list'() {
    const d = await deps();
    for (const k of await publicSigningKeys(d))
      console.log(
        `${k.fingerprint}  ${k.status.padEnd(7)}  from ${k.valid_from}${k.valid_to ? ` to ${k.valid_to}` : ''}`,
      );
    return 0;
  },
  async 'signing-keys rotate'() {
    const d = await deps();
    const signer = await rotateSigningKey(d);
    console.log(
      `New digest signing key ${signer.fingerprint}; the previous one is retired and stays published.`,
    );
    return 0;
  },
  async 'jobs run'(flags) {
    const now = flags.now === undefined ? Date.now() : Date.parse(String(flags.now));
    if (Number.isNaN(now)) throw new UsageError('--now must be an ISO 8601 time, e.g. 2026-11-24T12:00:00Z');
    const d = await buildNodeDeps(parseConfig(process.env), { clock: () => now });
    try {
      const summary = await runScheduledJobs(d, { now });
      console.log(JSON.stringify(summary, null, 2));
      return summary.ok ? 0 : 1;
    } finally {
      closeDeps(d);
    }
  },
  async 'keys revoke'(flags) {
    const d = await deps();
    const [project, keyId] = [need(flags, 'project'), need(flags, 'key')];
    const name = (await listApiKeys(d, project)).find((k) => k.id === keyId)?.name;
    const done = await revokeApiKey(d, project, keyId);
    await recordCliAudit(d, project, {
      traceName: 'revokeKey',
      resourceType: 'key',
      resourceId: keyId,
      resourceName: name,
      ...(done ? { code: 200 } : { rating: 'warning', code: 404 }),
    });
    console.log(done ? 'Revoked.' : 'No such active key.');
    return done ? 0 : 1;
  },
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: OPTIONS,
  });
  const name = [positionals.slice(0, 2).join(' '), positionals[0] ?? ''].find((n) => n in commands);
  if (!name || values.help) {
    console.log(USAGE);
    return name || values.help ? 0 : 2;
  }
  try {
    return await commands[name]!(values);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof Error && error.name === 'CtsError') {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

const code = await main(process.argv.slice(2)).finally(databaseThreadsClosed);
if (code >= 0) process.exit(code);
