import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { assertNothingWritten, assertProblem, feeOrder, rowCounts } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

describe('Idempotency-Key on POST (e2e, postgres queues)', () => {
  let kassa: TestKassa;
  let welfare: Api;
  let registry: Api;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false });
    welfare = apiClient(kassa.url, await kassa.issueKey('ministry-of-social-welfare', ['benefits:write', 'fees:write', 'orders:read']));
    registry = apiClient(kassa.url, await kassa.issueKey('civil-registry', ['benefits:write', 'orders:read']));
  });
  after(async () => kassa?.stop());

  const ordersWithKey = async (key: string) =>
    kassa.runtime.context.db('idempotency_keys as i')
      .join('orders as o', 'o.organisation_id', 'i.organisation_id')
      .where('i.key', key)
      .whereRaw("o.id::text = i.response_body->>'id'")
      .select('o.id', 'o.organisation_id');

  it('when the same key and body are sent again, then the first answer comes back marked as replayed and one order exists', async () => {
    const key = randomUUID();
    const body = benefitOrder({ reference: 'replay me' });
    const first = await welfare.post('/v1/orders', body, key);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);

    const db = kassa.runtime.context.db;
    const second = await assertNothingWritten(db, () => welfare.post('/v1/orders', body, key));
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    assert.deepEqual(second.body, first.body);

    assert.equal((await db('orders').where({ reference: 'replay me' })).length, 1);
    assert.equal((await db('idempotency_keys').where({ key })).length, 1);
  });

  it('when the same key comes with a different body, then 409 idempotency_key_reused and nothing is written', async () => {
    const key = randomUUID();
    const first = await welfare.post('/v1/orders', benefitOrder({ amount: '10.00' }), key);
    assert.equal(first.status, 201);
    const conflicting = await assertNothingWritten(kassa.runtime.context.db, () => welfare.post('/v1/orders', benefitOrder({ amount: '10.01' }), key));
    assertProblem(conflicting, 409, 'idempotency_key_reused');
    const stillOne = await welfare.get(`/v1/orders/${first.body.id}`);
    assert.equal(stillOne.body.amount, '10.00');
  });

  it('when an order key is reused for a cancel, then 409 idempotency_key_reused and the order is not cancelled', async () => {
    const key = randomUUID();
    const created = await welfare.post('/v1/orders', benefitOrder(), key);
    const cancel = await assertNothingWritten(kassa.runtime.context.db, () => welfare.post(`/v1/orders/${created.body.id}/cancel`, undefined, key));
    assertProblem(cancel, 409, 'idempotency_key_reused');
    assert.equal((await welfare.get(`/v1/orders/${created.body.id}`)).body.status, 'received');
  });

  it('when a request was refused as invalid, then the same key can still be used for a valid request', async () => {
    const key = randomUUID();
    const invalid = await welfare.post('/v1/orders', benefitOrder({ amount: '-1' }), key);
    assert.equal(invalid.status, 422);
    const valid = await welfare.post('/v1/orders', benefitOrder(), key);
    assert.equal(valid.status, 201);
    assert.equal(valid.headers.get('idempotent-replayed'), null);
  });

  it('when two organisations use the same key, then each gets an independent order of its own', async () => {
    const key = `shared-${randomUUID()}`;
    const body = benefitOrder({ reference: 'same key, two tenants' });
    const a = await welfare.post('/v1/orders', body, key);
    const b = await registry.post('/v1/orders', body, key);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(b.headers.get('idempotent-replayed'), null);
    assert.notEqual(a.body.id, b.body.id);
    const rows = await ordersWithKey(key);
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0].organisation_id, rows[1].organisation_id);
    assertProblem(await registry.get(`/v1/orders/${a.body.id}`), 404, 'not_found');
    assert.equal((await registry.get(`/v1/orders/${b.body.id}`)).status, 200);
  });

  it('when 10 identical requests with one key arrive at once, then exactly one order is created and every answer names it', async () => {
    const key = randomUUID();
    const body = feeOrder({ reference: `concurrent ${key}` });
    const db = kassa.runtime.context.db;
    const before = await rowCounts(db);
    const responses = await Promise.all(Array.from({ length: 10 }, () => welfare.post('/v1/orders', body, key)));

    const created = responses.filter((response) => response.status === 201);
    const others = responses.filter((response) => response.status !== 201);
    for (const other of others) assertProblem(other, 409, 'idempotency_key_in_use');
    assert.ok(created.length >= 1);
    const ids = new Set(created.map((response) => response.body.id));
    assert.equal(ids.size, 1, `all accepted answers name the same order, got ${[...ids].join(', ')}`);
    assert.equal(created.filter((response) => response.headers.get('idempotent-replayed') === null).length, 1, 'exactly one answer is the original');

    const after = await rowCounts(db);
    for (const table of ['orders', 'order_events', 'outbox', 'idempotency_keys', 'audit_log']) {
      assert.equal(after[table]! - before[table]!, 1, `${table} gained exactly one row`);
    }
    assert.equal((await db('orders').where({ reference: body.reference })).length, 1);
  });

  it('when 10 concurrent requests share a key but differ in body, then one order is created and the rest are refused with 409', async () => {
    const key = randomUUID();
    const db = kassa.runtime.context.db;
    const responses = await Promise.all(Array.from({ length: 10 }, (_, index) => welfare.post('/v1/orders', benefitOrder({ reference: `racer ${index} ${key}` }), key)));
    const created = responses.filter((response) => response.status === 201);
    assert.equal(created.length, 1);
    for (const response of responses.filter((r) => r.status !== 201)) {
      assert.equal(response.status, 409);
      assert.ok(['idempotency_key_reused', 'idempotency_key_in_use'].includes(response.body.code), response.body.code);
    }
    assert.equal(await db('orders').where('reference', 'like', `racer % ${key}`).count({ count: '*' }).then((rows) => Number(rows[0]!.count)), 1);
  });

  it('when a client is created twice with the same key, then the second answer is a replay and one client exists', async () => {
    const admin = apiClient(kassa.url, await kassa.issueKey('idem-admin-org', ['admin']));
    const key = randomUUID();
    const first = await admin.post('/v1/clients', { name: 'cashier', scopes: ['fees:write'] }, key);
    assert.equal(first.status, 201);
    const second = await admin.post('/v1/clients', { name: 'cashier', scopes: ['fees:write'] }, key);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    assert.equal((await kassa.runtime.context.db('api_clients').where({ name: 'cashier' })).length, 1);
    const different = await admin.post('/v1/clients', { name: 'cashier 2', scopes: ['fees:write'] }, key);
    assertProblem(different, 409, 'idempotency_key_reused');
  });
  // The key is claimed before the work starts, so racing requests cannot each do the work.
  it('when 10 identical client-create requests race with one key, then exactly one client is created and every answer names it', async () => {
    const admin = apiClient(kassa.url, await kassa.issueKey('idem-race-org', ['admin']));
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 10 }, () => admin.post('/v1/clients', { name: 'race clerk', scopes: ['orders:read'] }, key)));
    for (const response of responses.filter((r) => r.status !== 201)) assertProblem(response, 409, 'idempotency_key_in_use');
    const ids = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.id));
    assert.equal(ids.size, 1, `every accepted answer names the same client, got ${ids.size} different clients`);
    const keysShown = responses.filter((r) => r.status === 201 && typeof r.body.api_key === 'string');
    assert.equal(keysShown.length, 1, 'the new key is shown exactly once');
    assert.equal((await kassa.runtime.context.db('api_clients').where({ name: 'race clerk' })).length, 1);
  });
  // The request hash covers the full path, so a key reused on another endpoint with the same body is refused.
  it("when an order's key and body are sent to another endpoint, then 409 idempotency_key_reused, never the order's answer", async () => {
    const admin = apiClient(kassa.url, await kassa.issueKey('idem-cross-endpoint', ['admin']));
    const key = randomUUID();
    const body = benefitOrder({ reference: `cross endpoint ${key}` });
    const order = await admin.post('/v1/orders', body, key);
    assert.equal(order.status, 201);
    for (const path of ['/v1/clients', '/v1/webhook-endpoint']) {
      const response = await assertNothingWritten(kassa.runtime.context.db, () => admin.post(path, body, key), ['api_clients', 'webhook_endpoints', 'audit_log', 'idempotency_keys']);
      assert.notEqual(response.body?.id, order.body.id, `${path} must not answer with the order`);
      assertProblem(response, 409, 'idempotency_key_reused');
    }
  });
});
