import assert from 'node:assert/strict';
import pino from 'pino';
import { OutboxRelay } from '../../src/queue/outbox-relay.ts';
import { dispatchQueueName } from '../../src/queue/names.ts';
import { QUEUE_BACKENDS, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { seedOrders } from '../support/seed-orders.ts';

for (const backend of QUEUE_BACKENDS) {
  describe(`the outbox relay (${backend} queues)`, () => {
    let kassa: TestKassa;
    let relay: OutboxRelay;
    let organisationId: string;
    before(async () => {
      kassa = await startTestKassa({ backend, workers: false });
      const { db, queues } = kassa.runtime.context;
      relay = new OutboxRelay(db, queues, { chunkSize: 3, pollMs: 60_000, logger: pino({ level: 'silent' }) });
      organisationId = ((await db('organisations').insert({ name: 'relay-agency' }).returning('id')) as { id: string }[])[0]!.id;
    });
    after(async () => {
      await kassa?.stop();
    });

    /** Orders as the API leaves them: received, each with its outbox row, in the order given. */
    async function accept(railKeys: readonly string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const railKey of railKeys) {
        const [order] = await seedOrders(kassa.runtime.context.db, [{ organisationId, railKey, status: 'received' }]);
        await kassa.runtime.context.db('outbox').insert({ order_id: order!.id, rail: 'sandbox' });
        ids.push(order!.id);
      }
      return ids;
    }

    async function dispatchJobs(): Promise<string[][]> {
      const jobs = await kassa.runtime.context.queues.queue(dispatchQueueName('sandbox')).getJobs(['waiting']);
      return jobs.map((job) => (job.data as { orderIds: string[] }).orderIds).toSorted((a, b) => a[0]!.localeCompare(b[0]!));
    }

    async function statuses(ids: readonly string[]): Promise<string[]> {
      const rows = (await kassa.runtime.context.db('orders').whereIn('id', [...ids]).select('id', 'status')) as { id: string; status: string }[];
      return ids.map((id) => rows.find((row) => row.id === id)!.status);
    }

    it('when more than a chunk waits, then whole chunks go out and the newest rest waits for the next look, where it goes first; less than a chunk goes out at once', async () => {
      const first = await accept(['RELAY00000001', 'RELAY00000002', 'RELAY00000003', 'RELAY00000004', 'RELAY00000005', 'RELAY00000006', 'RELAY00000007']);

      assert.equal(await relay.relayOnce(), 7);
      assert.deepEqual(await dispatchJobs(), [first.slice(0, 3), first.slice(3, 6)].toSorted((a, b) => a[0]!.localeCompare(b[0]!)));
      assert.deepEqual(await statuses(first), ['queued', 'queued', 'queued', 'queued', 'queued', 'queued', 'received']);
      assert.deepEqual((await kassa.runtime.context.db('outbox').pluck('order_id')) as string[], [first[6]]);

      const [later] = await accept(['RELAY00000008']);
      assert.equal(await relay.relayOnce(), 2);
      const jobs = await dispatchJobs();
      assert.equal(jobs.length, 3);
      assert.ok(jobs.some((orderIds) => orderIds.length === 2 && orderIds[0] === first[6] && orderIds[1] === later), `the held order goes first, with the newer one: ${JSON.stringify(jobs)}`);
      assert.deepEqual(await statuses([first[6]!, later!]), ['queued', 'queued']);
      assert.equal(((await kassa.runtime.context.db('outbox').count({ count: '*' })) as { count: string }[])[0]!.count, '0');
    });
  });
}
