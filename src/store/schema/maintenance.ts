import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Progress of one-off repairs of data written by earlier versions, so each row is looked at
 * once: `done_through` is the last `traces.seq` a repair has checked.
 */
export const maintenance = sqliteTable('maintenance', {
  task: text('task').primaryKey(),
  doneThrough: integer('done_through').notNull(),
});
