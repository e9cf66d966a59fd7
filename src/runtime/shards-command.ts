import type { Deps } from '../domain/deps';
import { addShard, listShards } from '../domain/shards/shards';
import { answers } from '../store/db';
import type { Command } from './cli';
import { migrateShardDatabase } from './node-db';

export const SHARDS_USAGE = `  shards add --url URL [--id ID] [--token-env NAME]
                                              register a libSQL database for projects (migrated
                                              first); its auth token is read from $NAME
  shards list                                 the databases holding projects, and their state`;

/** `cts shards add|list` (docs/adr/0005-scaling-past-one-database.md), on the CLI's deps. */
export function shardCommands(
  withDeps: (run: (d: Deps) => Promise<number>) => Promise<number>,
): Record<string, Command> {
  return {
    async 'shards add'(flags) {
      return withDeps(async (d) => {
        const shard = await addShard(
          d,
          {
            id: flags.id as string | undefined,
            url: typeof flags.url === 'string' ? flags.url : '', // the schema names a missing one
            tokenEnv: flags['token-env'] as string | undefined,
          },
          (ref) => migrateShardDatabase(d.config, ref),
        );
        console.log(`Registered shard ${shard.id} (${shard.url}); new projects may be placed on it.`);
        return 0;
      });
    },
    async 'shards list'() {
      return withDeps(async (d) => {
        for (const shard of await listShards(d)) {
          const up = await answers(await d.shards.dbOfShard(shard.id)).catch(() => false);
          console.log(
            `${shard.id.padEnd(12)}  ${String(shard.projects).padStart(6)} projects  ${up ? 'up  ' : 'DOWN'}  ${shard.url}`,
          );
        }
        return 0;
      });
    },
  };
}
