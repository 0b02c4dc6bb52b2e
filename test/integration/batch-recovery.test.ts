import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lockRowsToPay, orderRows } from '../../src/db/repositories/batch-rows.ts';
import { loadBatch } from '../../src/db/repositories/batches.ts';
import { newOrderId } from '../../src/domain/order.ts';
import { BATCH_CHUNK_QUEUE } from '../../src/queue/names.ts';
import { executeBatch, orderBatchChunk } from '../../src/services/execute-batch.ts';
import { validateBatch } from '../../src/services/validate-batch.ts';
import { childWorkersPerTest } from '../support/child-worker.ts';
import { apiClient } from '../support/http.ts';
import { QUEUE_BACKENDS, eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { wipeQueues } from '../support/wipe-queues.ts';

type Api = ReturnType<typeof apiClient>;

const PAYMENTS = 1200;
const FUNDING = { type: 'bank_account' as const, value: '0011223344' };
const BATCH_ENV = { BATCH_CHUNK_ROWS: '100', BATCH_MONITOR_MS: '200', DISPATCH_CHUNK_SIZE: '50' };

function batchCsv(): { body: string; total: string } {
  const lines = Array.from({ length: PAYMENTS }, (_, index) => `${index + 1},R-${index},,,,MSISDN,+2547${String(index).padStart(7, '0')}5,3.00,KES,relief`);
  return { body: `id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note\n${lines.join('\n')}\n`, total: (PAYMENTS * 3).toFixed(2) };
}

async function submitBatch(kassa: TestKassa): Promise<{ api: Api; admin: Api; batchId: string }> {
  const admin = apiClient(kassa.url, await kassa.issueKey('relief-agency', ['admin']));
  const api = apiClient(kassa.url, await kassa.issueKey('relief-agency', ['benefits:write', 'orders:read']));
  const program = await admin.post('/v1/programs', { code: 'RELIEF', name: 'Flood relief', currency: 'KES', funding_account: FUNDING, budget: '100000.00', approval_threshold: '100000.00', default: true }, randomUUID());
  assert.equal(program.status, 201, JSON.stringify(program.body));
  const file = batchCsv();
  const submitted = await api.call('POST', `/v1/batches?control_count=${PAYMENTS}&control_total=KES:${file.total}`, { rawBody: file.body, idempotencyKey: randomUUID(), headers: { 'content-type': 'text/csv' } });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  return { api, admin, batchId: submitted.body.id as string };
}

async function batchCompleted(api: Api, batchId: string) {
  return eventually(async () => {
    const batch = await api.get(`/v1/batches/${batchId}`);
    return batch.body.status === 'completed' ? batch.body : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250, what: `batch ${batchId} to complete` });
}

/** Every payment of the batch paid once, the batch's figures and the program's budget agreeing with it. */
async function assertPaidExactlyOnce(kassa: TestKassa, api: Api, admin: Api, batchId: string): Promise<void> {
  const done = await batchCompleted(api, batchId);
  assert.equal(done.payments.completed.count, PAYMENTS);
  assert.equal(done.payments.completed.amount, (PAYMENTS * 3).toFixed(2));
  const orders = (await kassa.runtime.context.db('orders').where('batch_id', batchId).select('rail_key')) as { rail_key: string }[];
  assert.equal(orders.length, PAYMENTS, 'one order per row, none created twice');
  const executions = kassa.simulator.executionCounts();
  assert.deepEqual(orders.map((order) => executions.get(order.rail_key) ?? 0).filter((times) => times !== 1), [], 'payments executed other than once');
  const program = (await admin.get('/v1/programs')).body.data[0];
  assert.equal(program.disbursed, (PAYMENTS * 3).toFixed(2));
  assert.equal(program.blocked, '0.00');
}

for (const backend of QUEUE_BACKENDS) {
  describe(`batch recovery (${backend} queues)`, function () {
    this.timeout(150_000);
    let kassa: TestKassa | undefined;
    const children = childWorkersPerTest();

    afterEach(async function () {
      await children.stop(this.currentTest);
      await kassa?.stop();
      kassa = undefined;
    });

    it('when the worker process is killed with SIGKILL while the batch is being paid and a fresh one starts, then every payment is made exactly once', async () => {
      kassa = await startTestKassa({ backend, workers: false, env: BATCH_ENV });
      // Slower than the rail timeout: chunks hang on the rail, so the kill lands on chunk jobs in flight.
      kassa.simulator.setBehaviour({ mode: 'slow', delayMs: 1500 });
      const doomed = await children.start(kassa);
      const { api, admin, batchId } = await submitBatch(kassa);
      const batches = kassa.runtime.context.queues.queue(BATCH_CHUNK_QUEUE);
      await eventually(async () => {
        const [active, orders] = await Promise.all([batches.getActiveCount(), kassa!.runtime.context.db('orders').where('batch_id', batchId).count({ n: '*' })]);
        return active > 0 && Number(orders[0]!.n) > 0 ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 50, what: 'chunk jobs in flight with payments created' });
      await doomed.kill('SIGKILL');
      const atKill = await api.get(`/v1/batches/${batchId}`);
      assert.ok(atKill.body.payments.completed.count < PAYMENTS, 'the worker was killed before the batch was paid');

      kassa.simulator.setBehaviour({ mode: 'normal' });
      await children.start(kassa);
      await assertPaidExactlyOnce(kassa, api, admin, batchId);
    });

    it('when the queue datastore is wiped while the batch is being paid, then the batch is revived and every payment is made exactly once', async () => {
      kassa = await startTestKassa({ backend, env: BATCH_ENV });
      kassa.simulator.setBehaviour({ mode: 'slow', delayMs: 300 });
      const { api, admin, batchId } = await submitBatch(kassa);
      await eventually(async () => {
        const batch = await api.get(`/v1/batches/${batchId}`);
        return batch.body.status === 'processing' && batch.body.payments.not_sent.count > 0 && batch.body.payments.completed.count > 0 ? true : undefined;
      }, { timeoutMs: 30_000, intervalMs: 50, what: 'the batch part paid, part not yet sent' });
      await wipeQueues(kassa, backend);
      kassa.simulator.setBehaviour({ mode: 'normal' });
      await assertPaidExactlyOnce(kassa, api, admin, batchId);
    });
  });
}

describe('a chunk of a batch run again', function () {
  this.timeout(60_000);
  let kassa: TestKassa | undefined;
  after(async () => {
    await kassa?.stop();
  });

  it('when an earlier run wrote the chunk\'s orders and ended before sending them, then the next run sends each of them once and writes none again', async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false, env: BATCH_ENV });
    const context = kassa.runtime.context;
    const { batchId } = await submitBatch(kassa);
    await validateBatch(context, batchId);
    await executeBatch(context, batchId);
    assert.equal((await loadBatch(context.db, batchId))!.status, 'processing');

    const chunk = { batchId, fromRow: 1, toRow: 100 };
    const written = await context.db.transaction(async (trx) => {
      const rows = await lockRowsToPay(trx, batchId, chunk.fromRow, chunk.toRow);
      const orders = rows.valid.map((row) => ({ rowNumber: row.rowNumber, orderId: newOrderId(), rail: 'sandbox', payer: FUNDING, reference: row.instructionId }));
      return (await orderRows(trx, batchId, orders, 'already paid')).orderIds;
    });
    assert.equal(written.length, 100);

    const ordersOfBatch = async () => (await context.db('orders').where('batch_id', batchId).select('id', 'status', 'rail_key')) as { id: string; status: string; rail_key: string }[];
    await orderBatchChunk(context, chunk);
    const afterRerun = await ordersOfBatch();
    assert.deepEqual(afterRerun.map((order) => order.id).sort(), [...written].sort(), 'the rerun wrote no order of its own');
    assert.deepEqual(afterRerun.filter((order) => ['received', 'queued'].includes(order.status)), [], 'every order the earlier run wrote was sent');

    await orderBatchChunk(context, chunk);
    const executions = kassa.simulator.executionCounts();
    assert.deepEqual((await ordersOfBatch()).map((order) => executions.get(order.rail_key) ?? 0).filter((times) => times !== 1), [], 'payments executed other than once');
  });
});
