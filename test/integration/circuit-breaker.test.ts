import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiClient, benefitOrder } from '../support/http.ts';
import { QUEUE_BACKENDS, eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';

for (const backend of QUEUE_BACKENDS) {
  describe(`the circuit breaker of a rail (${backend} queues)`, () => {
    let kassa: TestKassa;
    before(async () => {
      kassa = await startTestKassa({ backend, env: { CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_COOLDOWN_MS: '1500', SWEEPER_STALE_AFTER_MS: '60000' } });
    });
    after(async () => kassa?.stop());

    const circuit = async () => kassa.runtime.context.db('rail_circuits').where({ rail: 'sandbox' }).first();
    const statuses = async () =>
      Object.fromEntries(((await kassa.runtime.context.db('orders').select('status').count({ count: '*' }).groupBy('status')) as { status: string; count: string }[]).map((row) => [row.status, Number(row.count)]));

    it('when the rail stays down, then its circuit opens and orders wait; when it is back, every order completes exactly once and the circuit closes', async () => {
      const api = apiClient(kassa.url, await kassa.issueKey('social-agency', ['benefits:write', 'orders:read']));
      kassa.simulator.setBehaviour({ mode: 'down' });
      const ids: string[] = [];
      for (let index = 0; index < 30; index += 1) {
        const answer = await api.post('/v1/orders', benefitOrder({ reference: `held ${index}` }), randomUUID());
        assert.equal(answer.status, 201);
        ids.push(answer.body.id);
      }
      const opened = await eventually(async () => ((await circuit())?.state === 'open' ? circuit() : undefined), { what: 'the circuit to open' });
      assert.ok(opened.consecutive_failures >= 2);
      const held = await statuses();
      assert.equal(held.completed ?? 0, 0);
      assert.equal(held.failed ?? 0, 0, 'an unreachable rail never fails an order');

      kassa.simulator.setBehaviour({ mode: 'normal' });
      await eventually(async () => ((await statuses()).completed === ids.length ? true : undefined), { timeoutMs: 30_000, what: 'every order to complete after the rail came back' });
      const keys = (await kassa.runtime.context.db('orders').pluck('rail_key')) as string[];
      for (const key of keys) assert.equal(kassa.simulator.executions(key), 1, `rail key ${key} executed once`);
      assert.equal([...kassa.simulator.executionCounts().values()].reduce((sum, n) => sum + n, 0), ids.length);
      assert.equal((await circuit()).state, 'closed');
    });
  });
}
