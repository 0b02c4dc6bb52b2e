import assert from 'node:assert/strict';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/domain/webhook-signature.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { assertProblem } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly at: number;
}

/** A local webhook receiver that records every raw body and header and answers what each path is told to. */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server: Server | undefined;
  url = '';

  /** The statuses to answer on `path`, in turn; after the list runs out, 200. */
  script(path: string, statuses: number[]): void {
    this.scripts.set(path, [...statuses]);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const status = this.scripts.get(path)?.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try again');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string): Received[] {
    return this.received.filter((entry) => entry.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The documented algorithm, written out independently of Kassa's code. */
function independentlyVerified(secret: string, rawBody: string, header: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

async function configureEndpoint(kassa: TestKassa, organisation: string, url: string): Promise<{ admin: Api; writer: Api; secret: string }> {
  const admin = apiClient(kassa.url, await kassa.issueKey(organisation, ['admin']));
  const writer = apiClient(kassa.url, await kassa.issueKey(organisation, ['benefits:write', 'orders:read']));
  const set = await admin.post('/v1/webhook-endpoint', { url }, randomUUID());
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.url, url);
  assert.match(set.body.secret, /^\S{24,}$/);
  return { admin, writer, secret: set.body.secret };
}

function assertSignedEvent(entry: Received, secret: string, type: string, orderId: string) {
  const header = entry.headers['kassa-signature'];
  assert.equal(typeof header, 'string', 'Kassa-Signature is present');
  assert.match(header as string, /^t=\d+,v1=[0-9a-f]{64}$/);
  const t = Number(/^t=(\d+)/.exec(header as string)![1]);
  assert.ok(Math.abs(Math.floor(entry.at / 1000) - t) <= 5, 'the timestamp is the time of sending');
  assert.ok(verifyWebhook(secret, entry.rawBody, header as string, Math.floor(Date.now() / 1000)), 'verifyWebhook accepts it');
  assert.ok(independentlyVerified(secret, entry.rawBody, header as string), 'HMAC-SHA256 over "<t>.<raw body>" matches');
  assert.ok(!verifyWebhook(`${secret}x`, entry.rawBody, header as string, Math.floor(Date.now() / 1000)), 'another secret does not verify');
  assert.ok(!independentlyVerified(secret, `${entry.rawBody} `, header as string), 'a changed body does not verify');
  assert.match(String(entry.headers['content-type']), /^application\/json/);
  const event = JSON.parse(entry.rawBody);
  assert.equal(event.type, type);
  assert.equal(entry.headers['kassa-event'], type);
  assert.equal(event.data.id, orderId);
  return event;
}

describe('webhooks (e2e, postgres queues, workers running)', () => {
  let kassa: TestKassa;
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    kassa = await startTestKassa({ backend: 'postgres' });
  });
  after(async () => {
    await kassa?.stop();
    await receiver.stop();
  });

  it('when an order completes, then the endpoint gets order.completed signed with the documented algorithm', async () => {
    const { writer, secret } = await configureEndpoint(kassa, 'hooked-completed', `${receiver.url}/completed`);
    const created = await writer.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.status, 201);
    const [entry] = await eventually(async () => (receiver.on('/completed').length > 0 ? receiver.on('/completed') : undefined), { what: 'the order.completed webhook' });
    const event = assertSignedEvent(entry!, secret, 'order.completed', created.body.id);
    assert.equal(event.data.status, 'completed');
    assert.match(event.data.rail_reference, /^SBX-\d+$/);
    assert.equal(event.data.amount_minor, '2500');
    assert.equal(entry!.headers['kassa-delivery'], event.id);

    const delivery = await eventually(async () => {
      const row = await kassa.runtime.context.db('webhook_deliveries').where({ order_id: created.body.id }).first();
      return row?.status === 'delivered' ? row : undefined;
    }, { what: 'the delivery to be recorded as delivered' });
    assert.equal(delivery.event_type, 'order.completed');
    assert.equal(delivery.attempts, 1);
    const attempts = await kassa.runtime.context.db('webhook_attempts').where({ delivery_id: delivery.id });
    assert.deepEqual(attempts.map((attempt: { response_status: number }) => attempt.response_status), [200]);
  });

  it('when the rail declines an order (payee ending 0000), then the endpoint gets order.failed with failure code AC04', async () => {
    const { writer, secret } = await configureEndpoint(kassa, 'hooked-failed', `${receiver.url}/failed`);
    const created = await writer.post('/v1/orders', benefitOrder({ payee: { type: 'msisdn', value: '+254712340000' } }), randomUUID());
    assert.equal(created.status, 201);
    const [entry] = await eventually(async () => (receiver.on('/failed').length > 0 ? receiver.on('/failed') : undefined), { what: 'the order.failed webhook' });
    const event = assertSignedEvent(entry!, secret, 'order.failed', created.body.id);
    assert.equal(event.data.status, 'failed');
    assert.equal(event.data.failure.code, 'AC04');
    assert.equal(typeof event.data.failure.reason, 'string');
    assert.equal(receiver.on('/failed').filter((e) => e.headers['kassa-event'] === 'order.completed').length, 0);
  });

  it('when the endpoint answers 500 twice and then 200, then it is retried and three attempts are recorded before it is delivered', async () => {
    receiver.script('/flaky', [500, 500]);
    const { writer, secret } = await configureEndpoint(kassa, 'hooked-flaky', `${receiver.url}/flaky`);
    const created = await writer.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.status, 201);
    const db = kassa.runtime.context.db;
    const delivery = await eventually(async () => {
      const row = await db('webhook_deliveries').where({ order_id: created.body.id }).first();
      return row?.status === 'delivered' ? row : undefined;
    }, { what: 'the flaky delivery to succeed', timeoutMs: 20_000 });
    assert.equal(delivery.attempts, 3);
    const attempts = await db('webhook_attempts').where({ delivery_id: delivery.id }).orderBy('id');
    assert.deepEqual(attempts.map((attempt: { response_status: number }) => attempt.response_status), [500, 500, 200]);
    for (const attempt of attempts) assert.ok(attempt.attempted_at instanceof Date && Number.isInteger(attempt.duration_ms));

    const arrivals = receiver.on('/flaky');
    assert.equal(arrivals.length, 3);
    for (const arrival of arrivals) assertSignedEvent(arrival, secret, 'order.completed', created.body.id);
    assert.equal(new Set(arrivals.map((a) => a.headers['kassa-delivery'])).size, 1, 'every retry is the same delivery');
    assert.ok(arrivals[1]!.at - arrivals[0]!.at >= 90, 'the retry backs off (base 200 ms, jitter 0.5x–1.5x)');
    assert.ok(arrivals[2]!.at - arrivals[1]!.at >= 180, 'and backs off further on the next attempt');
  });

  it('when the endpoint is read back, then the url is shown and the secret never again', async () => {
    const { admin, secret } = await configureEndpoint(kassa, 'hooked-readback', `${receiver.url}/readback`);
    const read = await admin.get('/v1/webhook-endpoint');
    assert.equal(read.status, 200);
    assert.equal(read.body.url, `${receiver.url}/readback`);
    assert.ok(!JSON.stringify(read.body).includes(secret));
  });

  it('when the endpoint url is not http(s), then 422 names body.url', async () => {
    const admin = apiClient(kassa.url, await kassa.issueKey('hooked-bad', ['admin']));
    const response = await admin.post('/v1/webhook-endpoint', { url: 'ftp://example.org/hook' }, randomUUID());
    assertProblem(response, 422, 'validation_failed');
    assert.deepEqual(response.body.errors.map((error: { field: string }) => error.field), ['body.url']);
  });
});

describe('webhook for a cancelled order (e2e, postgres queues, workers started after the cancel)', () => {
  let kassa: TestKassa;
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    kassa = await startTestKassa({ backend: 'postgres', workers: false });
  });
  after(async () => {
    await kassa?.stop();
    await receiver.stop();
  });

  it('when an order is cancelled before submission, then the endpoint gets order.cancelled and the rail never executes it', async () => {
    const { writer, secret } = await configureEndpoint(kassa, 'hooked-cancelled', `${receiver.url}/cancelled`);
    const created = await writer.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.status, 201);
    const cancelled = await writer.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID());
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');

    await kassa.startWorkers();
    const [entry] = await eventually(async () => (receiver.on('/cancelled').length > 0 ? receiver.on('/cancelled') : undefined), { what: 'the order.cancelled webhook' });
    const event = assertSignedEvent(entry!, secret, 'order.cancelled', created.body.id);
    assert.equal(event.data.status, 'cancelled');

    // Give the outbox relay and dispatch worker time to pick the order up, and prove they leave it alone.
    await eventually(async () => ((await kassa.runtime.context.db('outbox').where({ order_id: created.body.id })).length === 0 ? true : undefined), { what: 'the outbox row to be relayed' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(kassa.simulator.executions(created.body.id.replaceAll('-', '')), 0);
    const read = await writer.get(`/v1/orders/${created.body.id}`);
    assert.equal(read.body.status, 'cancelled');
    assert.deepEqual(read.body.events.map((e: { to: string }) => e.to), ['received', 'cancelled']);
  });
});
