import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** A project (CTS `project_id`, 32 lowercase hex) inside a domain (account). */
export const projects = sqliteTable('projects', {
  id: text('id').primaryKey(),
  domainId: text('domain_id').notNull(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
});

/** API keys: only the SHA-256 of the secret is stored. */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id').notNull(),
    role: text('role', { enum: ['reporter', 'reader', 'admin'] }).notNull(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_keys_project').on(t.projectId)],
);

/** Console sign-in sessions; the cookie holds the random id, the table its SHA-256. */
export const consoleSessions = sqliteTable(
  'console_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    keyId: text('key_id').notNull(),
    projectId: text('project_id').notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('console_sessions_expires').on(t.expiresAt)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type Role = ApiKeyRow['role'];
