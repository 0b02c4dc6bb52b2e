import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { assertProblem } from './helpers.ts';

describe('operations endpoints and cross-cutting HTTP behaviour (e2e, postgres queues)', () => {
  let kassa: TestKassa;
  let anonymous: ReturnType<typeof apiClient>;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres' });
    anonymous = apiClient(kassa.url);
  });
  after(async () => kassa?.stop());

  it('when /health is asked, then 200 ok without credentials', async () => {
    const response = await anonymous.get('/health');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  it('when /ready and /healthcheck are asked, then 200 with the database and the queues ok', async () => {
    for (const path of ['/ready', '/healthcheck']) {
      const response = await anonymous.get(path);
      assert.equal(response.status, 200, path);
      assert.equal(response.body.status, 'ready');
      assert.equal(response.body.database, 'ok');
      assert.equal(response.body.queues, 'ok');
    }
  });

  it('when an order has completed, then /metrics is Prometheus text with orders by status, queue depth and rail latency', async () => {
    const api = apiClient(kassa.url, await kassa.issueKey('metrics-org', ['benefits:write', 'orders:read']));
    const created = await api.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.status, 201);
    await eventually(async () => ((await api.get(`/v1/orders/${created.body.id}`)).body.status === 'completed' ? true : undefined), { what: 'the order to complete' });

    const response = await anonymous.get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.contentType, /^text\/plain/);
    const text: string = response.body;
    assert.match(text, /^# TYPE kassa_orders gauge$/m);
    assert.match(text, /^kassa_orders\{status="completed"\} [1-9]\d*$/m);
    assert.match(text, /^# TYPE kassa_queue_depth gauge$/m);
    assert.match(text, /^kassa_queue_depth\{queue="[^"]+"\} \d+$/m);
    assert.match(text, /^# TYPE kassa_rail_request_seconds histogram$/m);
    assert.match(text, /^kassa_rail_request_seconds_count\{[^}]*rail="sandbox"[^}]*\} [1-9]\d*$/m);
    assert.match(text, /^kassa_rail_request_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} [1-9]\d*$/m);
  });

  it('when /openapi.json is asked, then it is OpenAPI 3.1 and the POST /v1/orders body schema names the order fields', async () => {
    const response = await anonymous.get('/openapi.json');
    assert.equal(response.status, 200);
    const document = response.body;
    assert.match(document.openapi, /^3\.1\./);
    assert.equal(typeof document.info.title, 'string');
    const post = document.paths['/v1/orders'].post;
    assert.ok(post, 'POST /v1/orders is documented');
    let schema = post.requestBody.content['application/json'].schema;
    if (schema.$ref) {
      const name = (schema.$ref as string).replace('#/components/schemas/', '');
      schema = document.components.schemas[name];
    }
    for (const field of ['kind', 'amount', 'currency', 'payer', 'payee', 'reference']) assert.ok(schema.properties[field], `${field} is in the schema`);
    for (const field of ['kind', 'amount', 'currency', 'payer', 'payee']) assert.ok(schema.required.includes(field), `${field} is required`);
    assert.deepEqual([...schema.properties.kind.enum].sort(), ['benefit', 'fee']);
    assert.equal(schema.additionalProperties, false, 'unknown fields are refused, as the validator does');
    assert.ok(post.parameters.some((parameter: { name: string; in: string; required: boolean }) => parameter.name === 'Idempotency-Key' && parameter.in === 'header' && parameter.required));
    for (const path of ['/v1/orders/{id}', '/v1/orders/{id}/cancel', '/v1/audit', '/v1/clients', '/v1/webhook-endpoint', '/health', '/ready', '/metrics']) {
      assert.ok(document.paths[path], `${path} is documented`);
    }
  });

  it('when a sane X-Request-Id is sent, then the same id is echoed and carried by problems', async () => {
    const id = `req-${randomUUID()}`;
    const health = await anonymous.get('/health', { 'x-request-id': id });
    assert.equal(health.headers.get('x-request-id'), id);
    const problem = await anonymous.get('/v1/orders', { 'x-request-id': id });
    assert.equal(problem.status, 401);
    assert.equal(problem.headers.get('x-request-id'), id);
    assert.equal(problem.body.request_id, id);
  });

  it('when no or an unacceptable X-Request-Id is sent, then a fresh one is generated', async () => {
    const none = await anonymous.get('/health');
    const generated = none.headers.get('x-request-id');
    assert.match(generated ?? '', /^[0-9a-f-]{36}$/);
    const again = await anonymous.get('/health');
    assert.notEqual(again.headers.get('x-request-id'), generated);
    for (const bad of ['has spaces in it', 'x'.repeat(200), '<script>']) {
      const response = await anonymous.get('/health', { 'x-request-id': bad });
      const echoed = response.headers.get('x-request-id');
      assert.notEqual(echoed, bad);
      assert.match(echoed ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  it('when any endpoint answers, then helmet security headers are present and x-powered-by is not', async () => {
    for (const path of ['/health', '/v1/orders', '/nope']) {
      const response = await anonymous.get(path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
      assert.ok(response.headers.get('content-security-policy'), path);
      assert.ok(response.headers.get('strict-transport-security'), path);
      assert.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(response.headers.get('x-powered-by'), null, path);
    }
  });

  it('when an unknown route is asked, then 404 route_not_found problem', async () => {
    const response = await anonymous.get('/definitely/not/here');
    assertProblem(response, 404, 'route_not_found');
    assert.equal(response.body.instance, '/definitely/not/here');
    const authed = apiClient(kassa.url, await kassa.issueKey('metrics-org', ['orders:read']));
    assertProblem(await authed.get('/v1/nothing-here'), 404, 'route_not_found');
    assertProblem(await authed.call('DELETE', `/v1/orders/${randomUUID()}`), 404, 'route_not_found');
  });
});
