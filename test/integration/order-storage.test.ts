import assert from 'node:assert/strict';
import { createDatabase, type Database } from '../../src/db/knex.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { findOverdueOrders, scheduleChecks, transitionOrders } from '../../src/db/repositories/orders.ts';
import { createTestDatabase } from '../support/database.ts';
import { seedOrders } from '../support/seed-orders.ts';

describe('how orders are stored', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let organisationId: string;
  before(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url, 2);
    await migrateToLatest(db);
    organisationId = ((await db('organisations').insert({ name: 'storage-agency' }).returning('id')) as { id: string }[])[0]!.id;
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('when an order moves through the statuses before its last, then every change is made in place on its page, touching no index', async () => {
    const [order] = await seedOrders(db, [{ organisationId, railKey: 'HOT0000000001', status: 'received' }]);
    const hotUpdates = await db.transaction(async (trx) => {
      const updatesBefore = await updateCounts(trx);
      await transitionOrders(trx, 'submitted', [{ id: order!.id }], { countDispatch: true });
      await scheduleChecks(trx, [{ id: order!.id, at: new Date(Date.now() + 60_000) }]);
      await transitionOrders(trx, 'unknown', [{ id: order!.id, failureCode: 'TIMEOUT', failureReason: 'the rail did not answer' }]);
      const updatesAfter = await updateCounts(trx);
      return { all: updatesAfter.all - updatesBefore.all, hot: updatesAfter.hot - updatesBefore.hot };
    });
    assert.deepEqual(hotUpdates, { all: 3, hot: 3 });
    const [stored] = await db('orders').where({ id: order!.id }).select('status', 'finished', 'dispatch_attempts') as { status: string; finished: boolean; dispatch_attempts: number }[];
    assert.deepEqual(stored, { status: 'unknown', finished: false, dispatch_attempts: 1 });
  });

  it('when an order becomes final, then it is marked finished; a return after completion keeps the mark and is made in place', async () => {
    const [order] = await seedOrders(db, [{ organisationId, railKey: 'HOT0000000002', status: 'submitted' }]);
    await transitionOrders(db, 'completed', [{ id: order!.id, railReference: 'R-2' }]);
    const finished = async () => ((await db('orders').where({ id: order!.id }).select('finished')) as { finished: boolean }[])[0]!.finished;
    assert.equal(await finished(), true);
    const hotUpdates = await db.transaction(async (trx) => {
      const before = await updateCounts(trx);
      await transitionOrders(trx, 'returned', [{ id: order!.id, failureCode: 'AC04', failureReason: 'account closed' }]);
      const after = await updateCounts(trx);
      return { all: after.all - before.all, hot: after.hot - before.hot };
    });
    assert.deepEqual(hotUpdates, { all: 1, hot: 1 });
    assert.equal(await finished(), true);
  });

  it('when the sweeper looks for overdue orders, then it finds the unfinished ones untouched since the cutoff, and not those due later, recently changed or final', async () => {
    const longAgo = new Date(Date.now() - 10 * 60_000);
    const [stale, final, dueLater, touched] = await seedOrders(db, [
      { organisationId, railKey: 'SWEEP00000001', status: 'queued', at: longAgo },
      { organisationId, railKey: 'SWEEP00000002', status: 'failed', at: longAgo },
      { organisationId, railKey: 'SWEEP00000003', status: 'submitted', at: longAgo },
      { organisationId, railKey: 'SWEEP00000004', status: 'queued', at: longAgo },
    ]);
    await scheduleChecks(db, [{ id: dueLater!.id, at: new Date(Date.now() + 60 * 60_000) }]);
    await transitionOrders(db, 'submitted', [{ id: touched!.id }]);

    const overdue = await findOverdueOrders(db, new Date(Date.now() - 60_000), 100);
    const ids = new Set(overdue.map((order) => order.id));
    assert.ok(ids.has(stale!.id), 'an order untouched for ten minutes is overdue');
    for (const [what, id] of [['final', final!.id], ['due later', dueLater!.id], ['just changed', touched!.id]] as const) {
      assert.ok(!ids.has(id), `an order ${what} is not overdue`);
    }
  });
});

/** Row updates of `orders` made so far by this transaction: all of them, and those made in place (HOT). */
async function updateCounts(trx: Database): Promise<{ all: number; hot: number }> {
  const { rows } = (await trx.raw(
    `SELECT pg_stat_get_xact_tuples_updated('orders'::regclass)::int AS all, pg_stat_get_xact_tuples_hot_updated('orders'::regclass)::int AS hot`,
  )) as { rows: { all: number; hot: number }[] };
  return rows[0]!;
}
