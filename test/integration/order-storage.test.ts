import assert from 'node:assert/strict';
import { createDatabase, type Database } from '../../src/db/knex.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { findOverdueOrders, moveOrders, scheduleChecks, transitionOrders } from '../../src/db/repositories/orders.ts';
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

  it('when orders are moved without asking for them back, then each answer names the move and its webhook delivery, an event records each move and only the final one is reported by webhook', async () => {
    const reporting = ((await db('organisations').insert({ name: 'storage-reporting-agency' }).returning('id')) as { id: string }[])[0]!.id;
    await db('webhook_endpoints').insert({ organisation_id: reporting, url: 'https://agency.example/hooks', secret: 'whsec_test' });
    const [queued, submitted] = await seedOrders(db, [
      { organisationId: reporting, railKey: 'MOVE000000001', status: 'received' },
      { organisationId: reporting, railKey: 'MOVE000000002', status: 'submitted' },
    ]);

    const intoQueued = await moveOrders(db, 'queued', [{ id: queued!.id }, { id: submitted!.id }]);
    assert.deepEqual(intoQueued, [{ orderId: queued!.id, fromStatus: 'received', toStatus: 'queued', webhookDeliveryId: null }]);
    const intoCompleted = await moveOrders(db, 'completed', [{ id: submitted!.id, railReference: 'R-MOVE-2', detail: { rail_reference: 'R-MOVE-2' } }]);
    const deliveries = (await db('webhook_deliveries').where({ order_id: submitted!.id }).select('id', 'event_type')) as { id: string; event_type: string }[];
    assert.deepEqual(deliveries.map((delivery) => delivery.event_type), ['order.completed']);
    assert.deepEqual(intoCompleted, [{ orderId: submitted!.id, fromStatus: 'submitted', toStatus: 'completed', webhookDeliveryId: deliveries[0]!.id }]);

    const events = (await db('order_events').whereIn('order_id', [queued!.id, submitted!.id]).orderBy('id').select('order_id', 'from_status', 'to_status', 'detail')) as Record<string, unknown>[];
    assert.deepEqual(events, [
      { order_id: queued!.id, from_status: 'received', to_status: 'queued', detail: {} },
      { order_id: submitted!.id, from_status: 'submitted', to_status: 'completed', detail: { rail_reference: 'R-MOVE-2' } },
    ]);
    assert.equal(((await db('webhook_deliveries').where({ order_id: queued!.id }).count({ count: '*' })) as { count: string }[])[0]!.count, '0');
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
