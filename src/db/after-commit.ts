import type { Database } from './knex.ts';

/**
 * Runs `work` once what `db` wrote is visible to other connections: at once outside a transaction, after the
 * outermost COMMIT inside one, never if it rolls back. Work handed to another process (a queue job) must not
 * go out before the rows it names exist for that process. Inside a transaction nobody awaits the work, so
 * its failure goes to `onFailure` in both cases.
 */
export async function afterCommit(db: Database, work: () => Promise<void>, onFailure: (error: unknown) => void): Promise<void> {
  const run = () => work().catch(onFailure);
  if (!db.isTransaction) return run();
  let outermost = db as Database & { executionPromise: Promise<unknown>; parentTransaction?: unknown };
  while (outermost.parentTransaction) outermost = outermost.parentTransaction as typeof outermost;
  void outermost.executionPromise.then(run, () => undefined);
}
