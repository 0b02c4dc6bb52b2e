import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { assertProblem } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

// Headers every answer carries whichever part of the API gives it; the values must not depend on that part.
const SHARED_HEADERS = [
  'content-security-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'referrer-policy',
  'strict-transport-security', 'x-content-type-options', 'x-dns-prefetch-control', 'x-download-options', 'x-frame-options',
  'x-permitted-cross-domain-policies', 'x-xss-protection', 'ratelimit-policy',
];

describe('POST /v1/orders is served outside express, with the same answers (e2e, postgres queues, workers stopped)', () => {
  let kassa: TestKassa;
  let benefits: Api;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false });
    benefits = apiClient(kassa.url, await kassa.issueKey('social-protection', ['benefits:write', 'orders:read']));
  });
  after(async () => kassa?.stop());

  it('when an order is created and a list is read, then both answers carry the same security and rate-limit headers', async () => {
    const created = await benefits.post('/v1/orders', benefitOrder(), randomUUID());
    const listed = await benefits.get('/v1/orders');
    assert.equal(created.status, 201);
    assert.equal(listed.status, 200);
    for (const name of SHARED_HEADERS) {
      assert.ok(created.headers.get(name), `POST /v1/orders answers ${name}`);
      assert.equal(created.headers.get(name), listed.headers.get(name), name);
    }
    assert.match(created.headers.get('ratelimit') ?? '', /^limit=\d+, remaining=\d+, reset=\d+$/);
    assert.equal(created.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(created.headers.get('x-powered-by'), null);
    assert.match(created.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('when the path is spelt /v1/orders/ or /V1/Orders, then it is the same endpoint and one key replays across the spellings', async () => {
    const key = randomUUID();
    const order = benefitOrder({ reference: `spellings ${key}` });
    const first = await benefits.post('/v1/orders', order, key);
    const slash = await benefits.post('/v1/orders/', order, key);
    const upper = await benefits.post('/V1/Orders?source=test', order, key);
    assert.equal(first.status, 201);
    for (const again of [slash, upper]) {
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.id, first.body.id);
    }
    const stored = await kassa.runtime.context.db('orders').where({ reference: `spellings ${key}` });
    assert.equal(stored.length, 1);
  });

  it('when an order is stored, then its request hash is the one express computed, so keys sent before this intake still replay', async () => {
    const key = randomUUID();
    const order = benefitOrder({ reference: `hash ${key}` });
    assert.equal((await benefits.post('/v1/orders', order, key)).status, 201);
    const stored = await kassa.runtime.context.db('idempotency_keys').where({ key }).first();
    const expected = createHash('sha256').update(`POST /v1/orders/\n${JSON.stringify(order)}`).digest('hex');
    assert.equal(stored.request_hash, expected);
  });

  it('when a loopback proxy forwards for a client, then the audit log records the client address, as express reports it', async () => {
    const key = randomUUID();
    const created = await benefits.post('/v1/orders', benefitOrder(), key, { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(created.status, 201);
    const audit = await kassa.runtime.context.db('audit_log').where({ action: 'order.create', target: created.body.id }).first();
    assert.equal(audit.source_ip, '203.0.113.7');
    assert.equal(audit.request_id, created.headers.get('x-request-id'));
  });

  it('when a request is refused before the handler (no key), then the problem names the path asked, query included, and the request id', async () => {
    const anonymous = apiClient(kassa.url);
    const refused = await anonymous.call('POST', '/v1/orders?from=portal', { body: benefitOrder(), idempotencyKey: randomUUID(), headers: { 'x-request-id': 'portal-42' } });
    assertProblem(refused, 401, 'unauthorised');
    assert.equal(refused.body.instance, '/v1/orders?from=portal');
    assert.equal(refused.body.request_id, 'portal-42');
    assert.equal(refused.headers.get('x-request-id'), 'portal-42');
    assert.equal(refused.headers.get('x-frame-options'), 'SAMEORIGIN');
  });

  it('when the body is gzip-compressed JSON, then it is read as express reads it and the order is accepted', async () => {
    const { gzipSync } = await import('node:zlib');
    const key = randomUUID();
    const response = await fetch(`${kassa.url}/v1/orders`, {
      method: 'POST',
      headers: { authorization: (await keyHeader()), 'idempotency-key': key, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(benefitOrder({ reference: `gzip ${key}` }))),
    });
    assert.equal(response.status, 201);
    assert.equal(((await response.json()) as { reference: string }).reference, `gzip ${key}`);
  });

  async function keyHeader(): Promise<string> {
    return `Bearer ${await kassa.issueKey('social-protection', ['benefits:write'])}`;
  }
});
