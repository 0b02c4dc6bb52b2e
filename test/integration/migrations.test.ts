import assert from 'node:assert/strict';
import { createDatabase, type Database } from '../../src/db/knex.ts';
import { migrateToLatest, rollbackAll } from '../../src/db/migrate.ts';
import { createTestDatabase } from '../support/database.ts';

describe('migrations', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url, 2);
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  const tables = async () =>
    ((await db.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kassa_migrations%' ORDER BY 1")).rows as { tablename: string }[]).map((row) => row.tablename);

  it('when migrated, rolled back and migrated again, then the schema comes back whole and the rollback leaves nothing', async () => {
    const applied = await migrateToLatest(db);
    assert.ok(applied.length >= 6);
    const created = await tables();
    for (const table of ['organisations', 'api_clients', 'orders', 'order_events', 'outbox', 'idempotency_keys', 'webhook_endpoints', 'webhook_deliveries', 'webhook_attempts', 'audit_log']) {
      assert.ok(created.includes(table), `${table} exists`);
    }
    await rollbackAll(db);
    assert.deepEqual(await tables(), []);
    await migrateToLatest(db);
    assert.deepEqual(await tables(), created);
    assert.deepEqual(await migrateToLatest(db), []);
  });
});
