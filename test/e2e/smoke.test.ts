import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { QUEUE_BACKENDS, eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';

for (const backend of QUEUE_BACKENDS) {
  describe(`an order from HTTP to the sandbox rail and back (${backend} queues)`, () => {
    let kassa: TestKassa;
    before(async () => {
      kassa = await startTestKassa({ backend });
    });
    after(async () => kassa?.stop());

    it('when a benefit order is accepted, then it ends completed with its whole timeline', async () => {
      const api = apiClient(kassa.url, await kassa.issueKey('ministry-of-social-welfare', ['benefits:write', 'orders:read']));
      const created = await api.post('/v1/orders', benefitOrder(), randomUUID());
      assert.equal(created.status, 201);
      assert.equal(created.body.status, 'received');
      const done = await eventually(async () => {
        const order = await api.get(`/v1/orders/${created.body.id}`);
        return order.body.status === 'completed' ? order.body : undefined;
      }, { what: 'the order to complete' });
      assert.deepEqual(done.events.map((event: { to: string }) => event.to), ['received', 'queued', 'submitted', 'completed']);
      assert.match(done.rail_reference, /^SBX-\d+$/);
    });
  });
}
