import type { Database } from './knex.ts';

/**
 * Runs `work` only if no other process holds the named lock, holding it until `work` ends; answers whether
 * it ran. The lock lives in PostgreSQL, so it holds across every Kassa process on the same database.
 */
export async function withAdvisoryLock<T>(db: Database, name: string, work: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }> {
  return db.transaction(async (trx) => {
    const { rows } = (await trx.raw('SELECT pg_try_advisory_xact_lock(hashtext(?)) AS locked', [name])) as { rows: { locked: boolean }[] };
    if (!rows[0]?.locked) return { ran: false as const };
    return { ran: true as const, result: await work() };
  });
}
