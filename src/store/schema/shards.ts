import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The libSQL databases projects are spread over (docs/adr/0005-scaling-past-one-database.md),
 * kept in the control database. None registered: the control database holds everything.
 * `token_env` names the environment variable (Worker: the secret binding) that holds the
 * database's auth token: a token is never stored in a database.
 */
export const shards = sqliteTable('shards', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  tokenEnv: text('token_env'),
  createdAt: integer('created_at').notNull(),
});

/**
 * Where a project's data lives. A project with no row lives in the control database (every
 * project made before a shard was registered). Rows never change: the placement cache of each
 * process keeps them for good.
 */
export const placements = sqliteTable(
  'placements',
  {
    projectId: text('project_id').primaryKey(),
    shardId: text('shard_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('placements_shard').on(t.shardId)],
);
