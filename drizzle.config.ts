import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'turso',
  schema: [
    './src/store/schema/traces.ts',
    './src/store/schema/projects.ts',
    './src/store/schema/trackers.ts',
    './src/store/schema/notifications.ts',
    './src/store/schema/maintenance.ts',
    './src/store/schema/shards.ts',
  ],
  out: './drizzle',
  dbCredentials: { url: process.env.CTS_DATABASE_URL ?? 'file:./data/cts.db' },
});
