import assert from 'node:assert/strict';
import type { QueueBackendName, TestKassa } from './kassa.ts';

/** Empties the queue datastore: Redis FLUSHALL, or every BullMQ table but the schema-version ledger. */
export async function wipeQueues(kassa: TestKassa, backend: QueueBackendName): Promise<void> {
  if (backend === 'redis') {
    await kassa.redis!.flushAll();
    return;
  }
  const db = kassa.runtime.context.db;
  const schema = kassa.config.QUEUE_SCHEMA;
  const { rows } = (await db.raw(`SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'`, [schema])) as { rows: { table_name: string }[] };
  const tables = rows.map((row) => row.table_name).filter((name) => !/migration/i.test(name));
  assert.ok(tables.includes('job'), `BullMQ's job table in schema ${schema} (found ${tables.join(', ')})`);
  assert.ok(rows.some((row) => /migration/i.test(row.table_name)), 'the migration ledger is kept');
  // Busy workers hold row locks across these tables, so the TRUNCATE may lose a deadlock: then it tries again, a
  // little later each time, until the workers' locks let it through.
  for (let attempt = 1; ; attempt++) {
    try {
      await db.raw(`TRUNCATE ${tables.map((name) => `"${schema}"."${name}"`).join(', ')}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}
