import { eq } from 'drizzle-orm';
import type { Db } from './db';
import { maintenance } from './schema/maintenance';

/** The number a maintenance task last recorded (how far it got), if any. */
export async function readMaintenanceMark(db: Db, task: string): Promise<number | undefined> {
  const [row] = await db.select().from(maintenance).where(eq(maintenance.task, task));
  return row?.doneThrough;
}

export async function writeMaintenanceMark(db: Db, task: string, mark: number): Promise<void> {
  await db
    .insert(maintenance)
    .values({ task, doneThrough: mark })
    .onConflictDoUpdate({ target: maintenance.task, set: { doneThrough: mark } });
}
