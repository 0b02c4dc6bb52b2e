import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { INQUIRY_QUEUE, dispatchQueueName } from '../../src/queue/names.ts';
import { childWorkersPerTest } from '../support/child-worker.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { QUEUE_BACKENDS, eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { wipeQueues } from '../support/wipe-queues.ts';

/**
 * Fault injection on the whole pipeline (HTTP → outbox → queues → workers → sandbox rail → back), on both
 * queue backends. Whatever breaks, two things must hold (DESIGN.md invariants 2–4): every accepted order
 * ends final, and the rail executed each order's one rail key exactly once — so a retry under a new key,
 * a lost order or a double dispatch all fail these tests.
 */

type Api = ReturnType<typeof apiClient>;
type StatusCounts = Record<string, number>;

const SUBMIT_BATCH = 25;
const RECOVERY_TIMEOUT_MS = 30_000;

async function clientFor(kassa: TestKassa): Promise<Api> {
  return apiClient(kassa.url, await kassa.issueKey('ministry-of-social-welfare', ['benefits:write', 'orders:read']));
}

/** Submits `count` benefit orders over HTTP, a small batch at a time, each under its own Idempotency-Key. */
async function submitOrders(api: Api, count: number, overrides: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += SUBMIT_BATCH) {
    const size = Math.min(SUBMIT_BATCH, count - start);
    const answers = await Promise.all(
      Array.from({ length: size }, (_, i) => api.post('/v1/orders', benefitOrder({ reference: `fault test ${start + i}`, ...overrides }), randomUUID())),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 201, `order not accepted: ${JSON.stringify(answer.body)}`);
      ids.push(answer.body.id as string);
    }
  }
  return ids;
}

async function statusCounts(kassa: TestKassa): Promise<StatusCounts> {
  const rows = (await kassa.runtime.context.db('orders').select('status').count({ count: '*' }).groupBy('status')) as { status: string; count: string }[];
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

const count = (counts: StatusCounts, ...statuses: string[]) => statuses.reduce((sum, status) => sum + (counts[status] ?? 0), 0);

/** Polls the orders table until `check` holds; on timeout the error says where the orders were. */
async function waitForOrders(kassa: TestKassa, check: (counts: StatusCounts) => boolean, what: string, timeoutMs = RECOVERY_TIMEOUT_MS): Promise<StatusCounts> {
  let last: StatusCounts = {};
  try {
    return await eventually(
      async () => {
        last = await statusCounts(kassa);
        return check(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 100, what },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; orders by status: ${JSON.stringify(last)}; ${await diagnose(kassa)}`, { cause: error });
  }
}

/**
 * Waits until the workers hold dispatch jobs and inquiry jobs active at once — the moment a fault does the
 * most damage: requests are in flight at the rail and their jobs are locked by a worker. With
 * `inquiriesScheduled`, inquiry jobs must also be waiting for their next round (what a wipe loses outright).
 */
async function waitForWorkInFlight(kassa: TestKassa, options: { inquiriesScheduled?: boolean } = {}): Promise<void> {
  const { queues } = kassa.runtime.context;
  const inquiry = queues.queue(INQUIRY_QUEUE);
  await eventually(
    async () => {
      const [dispatching, inquiring, scheduled] = await Promise.all([
        queues.queue(dispatchQueueName('sandbox')).getActiveCount(),
        inquiry.getActiveCount(),
        options.inquiriesScheduled ? inquiry.getDelayedCount() : Promise.resolve(1),
      ]);
      return dispatching > 0 && inquiring > 0 && scheduled > 0 ? true : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: 'dispatch and inquiry jobs in flight at once' },
  );
}

/** For failure messages only: a few unfinished orders and what the queues hold for them. */
async function diagnose(kassa: TestKassa): Promise<string> {
  try {
    const stuck = (await kassa.runtime.context.db('orders').whereNotIn('status', ['completed', 'failed', 'cancelled']).select('id', 'status').limit(3)) as { id: string; status: string }[];
    const { queues } = kassa.runtime.context;
    const seen = [];
    for (const order of stuck) {
      const inquiry = await queues.queue(INQUIRY_QUEUE).getJob(`inquire-${order.id}`);
      seen.push(`${order.id} ${order.status}, its inquiry job: ${inquiry ? await inquiry.getState() : 'none'}`);
    }
    const overdue = await kassa.runtime.context.db('orders').whereNotIn('status', ['completed', 'failed', 'cancelled']).select('next_check_at').limit(3);
    return `e.g. ${seen.join('; ') || 'none'}; next checks due: ${overdue.map((row) => row.next_check_at?.toISOString() ?? 'unset').join(', ')}`;
  } catch (error) {
    return `(no diagnosis: ${(error as Error).message})`;
  }
}

const allCompleted = (kassa: TestKassa, total: number) =>
  waitForOrders(kassa, (counts) => count(counts, 'completed') === total, `all ${total} orders to complete`);

/**
 * The exactly-once invariant: the rail executed precisely the orders' rail keys, each once, and nothing
 * else (a resend under a new key would add a key; a double execution would count 2).
 */
async function assertExecutedExactlyOnce(kassa: TestKassa, expectedOrders: number, options: { requestedOnce?: boolean } = {}): Promise<void> {
  const orders = (await kassa.runtime.context.db('orders').select('id', 'status', 'rail_key')) as { id: string; status: string; rail_key: string }[];
  assert.equal(orders.length, expectedOrders, 'orders in the database');
  const railKeys = orders.map((order) => order.rail_key).sort();
  assert.equal(new Set(railKeys).size, railKeys.length, 'each order has a rail key of its own');
  const executions = kassa.simulator.executionCounts();
  assert.deepEqual([...executions.keys()].sort(), railKeys, 'the rail executed exactly the orders’ rail keys');
  assert.deepEqual([...executions].filter(([, times]) => times !== 1), [], 'keys executed other than once');
  assert.equal([...executions.values()].reduce((sum, times) => sum + times, 0), orders.length, 'total executions');
  if (options.requestedOnce) {
    const resent = railKeys.map((key) => [key, kassa.simulator.requestCount(key)] as const).filter(([, requests]) => requests !== 1);
    assert.deepEqual(resent, [], 'rail keys sent to the rail more than once (key, requests)');
  }
}


async function timelines(api: Api, ids: readonly string[]): Promise<{ id: string; status: string; failure: { code: string; reason: string } | null; events: { from: string | null; to: string }[] }[]> {
  const orders = [];
  for (let start = 0; start < ids.length; start += SUBMIT_BATCH) {
    const answers = await Promise.all(ids.slice(start, start + SUBMIT_BATCH).map((id) => api.get(`/v1/orders/${id}`)));
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      orders.push(answer.body);
    }
  }
  return orders;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of QUEUE_BACKENDS) {
  describe(`pipeline faults (${backend} queues)`, function () {
    this.timeout(60_000);
    let kassa: TestKassa | undefined;
    const children = childWorkersPerTest();

    const launch = async (options: { workers?: boolean; env?: Record<string, string> } = {}) => {
      kassa = await startTestKassa({ backend, ...options });
      return kassa;
    };

    afterEach(async function () {
      await children.stop(this.currentTest);
      await kassa?.stop();
      kassa = undefined;
    });

    it('when a worker process is killed with SIGKILL mid-dispatch and a fresh one starts, then every order completes and the rail executed each key exactly once', async () => {
      const k = await launch({ workers: false });
      const api = await clientFor(k);
      k.simulator.setBehaviour({ mode: 'slow', delayMs: 1500 });
      const doomed = await children.start(k);

      // 1500 ms is beyond the 1000 ms rail timeout: dispatches time out into `unknown` and their inquiries
      // time out too, so the kill lands on dispatches and inquiries in flight.
      const ids = await submitOrders(api, 300);
      await waitForWorkInFlight(k);
      await doomed.kill('SIGKILL');

      const atKill = await statusCounts(k);
      assert.ok(count(atKill, 'submitted', 'unknown') > 0, `orders left in flight by the killed worker: ${JSON.stringify(atKill)}`);
      assert.ok(count(atKill, 'completed') < ids.length, 'the worker was killed before it finished');
      k.simulator.setBehaviour({ mode: 'normal' });
      await children.start(k);

      await allCompleted(k, ids.length);
      await assertExecutedExactlyOnce(k, ids.length);
    });

    it('when the queue datastore is wiped mid-run, then every order still completes and the rail executed each key exactly once', async () => {
      const k = await launch();
      const api = await clientFor(k);
      k.simulator.setBehaviour({ mode: 'slow', delayMs: 1500 });

      const ids = await submitOrders(api, 300);
      await waitForWorkInFlight(k, { inquiriesScheduled: true });
      const beforeWipe = await statusCounts(k);
      await wipeQueues(k, backend);
      assert.ok(count(beforeWipe, 'completed') < ids.length, `orders unfinished when the queues were wiped: ${JSON.stringify(beforeWipe)}`);
      k.simulator.setBehaviour({ mode: 'normal' });

      await allCompleted(k, ids.length);
      await assertExecutedExactlyOnce(k, ids.length);
    });

    it('when the rail times out, then the orders go unknown, complete after inquiry, and were executed exactly once', async () => {
      // Orders first, workers after: the relay then sends them in one chunk, so every one meets the timeout.
      // The sweeper's staleness is raised for this test only: the orders have aged while being submitted, and a
      // sweeper re-dispatch racing the relay's job would inquire (and may learn the completion) before the
      // held request times out, so such an order would complete without passing through `unknown`.
      const k = await launch({ workers: false, env: { SWEEPER_STALE_AFTER_MS: '10000' } });
      const api = await clientFor(k);
      k.simulator.setBehaviour({ mode: 'timeout', delayMs: 5000 });
      const ids = await submitOrders(api, 200);
      await k.startWorkers();

      // Inquiries (answered at once in this mode) may complete some before the switch; their timelines tell.
      await waitForOrders(k, (counts) => count(counts, 'received', 'queued', 'submitted') === 0, 'every order to have met the timeout', 20_000);
      k.simulator.setBehaviour({ mode: 'normal' });

      await allCompleted(k, ids.length);
      for (const order of await timelines(api, ids)) {
        assert.equal(order.status, 'completed');
        assert.deepEqual(order.events.map((event) => event.to), ['received', 'queued', 'submitted', 'unknown', 'completed'], `timeline of ${order.id}`);
      }
      await assertExecutedExactlyOnce(k, ids.length);
    });

    it('when the rail is down and comes back, then orders wait unexecuted and not failed, then all complete exactly once', async () => {
      const k = await launch();
      const api = await clientFor(k);
      k.simulator.setBehaviour({ mode: 'down' });

      const ids = await submitOrders(api, 200);
      await eventually(async () => ((await k.runtime.context.db('rail_circuits').where({ rail: 'sandbox', state: 'open' }).first()) ? true : undefined), {
        timeoutMs: 20_000,
        what: "the rail's circuit to open",
      });
      await sleep(3000); // several probe, inquiry and sweeper rounds against the down rail
      const whileDown = await statusCounts(k);
      assert.equal(count(whileDown, 'completed', 'failed', 'cancelled'), 0, `no order is final while the rail is down: ${JSON.stringify(whileDown)}`);
      assert.equal(count(whileDown, 'received', 'queued', 'submitted', 'unknown'), ids.length);
      assert.equal(k.simulator.executionCounts().size, 0, 'nothing executed while the rail is down');

      k.simulator.setBehaviour({ mode: 'normal' });
      await allCompleted(k, ids.length);
      await assertExecutedExactlyOnce(k, ids.length);
    });

    it('when two worker processes share the queues, then no order is dispatched twice and each key is executed exactly once', async () => {
      const k = await launch({ workers: false });
      const api = await clientFor(k);
      await Promise.all([children.start(k), children.start(k)]);

      const ids = await submitOrders(api, 500);
      await allCompleted(k, ids.length);
      await assertExecutedExactlyOnce(k, ids.length, { requestedOnce: true });
      assert.ok(children.started.every((started) => !started.exited), 'both worker processes ran to the end');
    });

    it('when the rail declines, then the order fails at once with the rail’s reason code and is never retried', async () => {
      const k = await launch();
      const api = await clientFor(k);
      const declined = await submitOrders(api, 100, { payee: { type: 'msisdn', value: '+254712340000' } });
      const accepted = await submitOrders(api, 100);

      await waitForOrders(k, (counts) => count(counts, 'failed') === declined.length && count(counts, 'completed') === accepted.length, 'declines to fail and the rest to complete');
      await sleep(2500); // longer than the sweeper's staleness: a final order must not be picked up again
      for (const order of await timelines(api, declined)) {
        assert.equal(order.status, 'failed');
        assert.deepEqual(order.failure, { code: 'AC04', reason: 'closed account' });
        assert.deepEqual(order.events.map((event) => event.to), ['received', 'queued', 'submitted', 'failed'], `timeline of ${order.id}`);
      }
      assert.deepEqual(await statusCounts(k), { failed: declined.length, completed: accepted.length });
      await assertExecutedExactlyOnce(k, declined.length + accepted.length, { requestedOnce: true });
    });
  });
}
