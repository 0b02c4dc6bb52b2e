import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiClient } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';

/**
 * The pipeline-level conformance suite: the same scenarios run through the whole of Kassa — HTTP API → outbox →
 * queue (postgres backend) → dispatch worker → rail adapter → the rail's simulator → callback or status inquiry →
 * order status and client webhooks — once per rail. Where the adapter-level suite (rail-adapter-contract.ts)
 * checks what an adapter says, this one checks what Kassa does with it.
 *
 * Besides the rail and its simulator, the harness puts two small servers of its own around Kassa:
 * - a callback recorder at Kassa's PUBLIC_URL: every callback or webhook a rail pushes goes through it to Kassa's
 *   /v1/rails/<rail>/callbacks, and it keeps the method, headers, raw body and Kassa's answer
 *   (`{ received, applied }`), so a test can see that a rail really pushed twice, or pushed before Kassa had the
 *   rail's HTTP answer (`applied: 1` means the push found the order still waiting for the rail);
 * - a webhook receiver set as the organisation's webhook endpoint, counting the order.* events Kassa sends.
 */

export type PipelineOutcome = 'completed' | 'declined' | 'late';
export type PipelineRailMode = 'normal' | 'down' | 'timeout';
/** `never`: the rail pushes nothing, so only a status inquiry can settle an order. */
export type PipelineCallbackMode = 'normal' | 'duplicate' | 'early' | 'never';
export type PipelineApi = ReturnType<typeof apiClient>;

export interface ForgedCallback {
  /** The method the rail uses for its pushes (GSMA operators PUT); the suite also tries POST. */
  readonly method: 'POST' | 'PUT';
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The rail reference the forgery claims, which must never end up on the order. */
  readonly railReference: string;
}

export interface PipelineFixture {
  /** The rail id, as in RAILS and /v1/rails/<rail>/callbacks. */
  readonly rail: string;
  readonly kassa: TestKassa;
  readonly api: PipelineApi;
  readonly harness: PipelineHarness;
  /**
   * A POST /v1/orders body routed to this rail that the rail will answer so: `completed` at once (or within the
   * adapter's own follow-up), `declined` with `declineReasonCode`, `late` pending and settled later by a callback
   * (after `settle` where the rail needs the payer). The suite overrides `reference`.
   */
  orderBody(outcome: PipelineOutcome): Record<string, unknown>;
  /** The ISO 20022-style reason code the rail's decline of `orderBody('declined')` maps to. */
  readonly declineReasonCode: string;
  /** For `late` orders where the rail waits for the payer: act as the payer (waits until the rail holds the payment). */
  settle?(railKey: string): Promise<void>;
  setRail(mode: PipelineRailMode): void;
  setCallbacks?(mode: PipelineCallbackMode): void;
  /**
   * What the rail's simulator can do with callbacks; a scenario it cannot do is skipped for this rail.
   * `duplicate` / `early` name the outcome whose push the mode applies to.
   */
  readonly callbackModes: {
    readonly duplicate?: PipelineOutcome;
    readonly early?: PipelineOutcome;
    readonly never?: boolean;
  };
  /** How many times the rail executed the key (the simulator's own counter). */
  executions(railKey: string): number;
  /** How many initiation requests (items) named the key at the rail, repeats included. */
  requests(railKey: string): number;
  /** A well-formed push about `railKey` claiming it completed, signed with a secret that is not the rail's. */
  forgeCallback(railKey: string): ForgedCallback;
  teardown(): Promise<void>;
}

// ── harness ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface RecordedCallback {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** Kassa's answer. */
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kassa's JSON answer ({ received, applied } or a problem)
  readonly answer: any;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** Sits at Kassa's PUBLIC_URL: forwards every push to Kassa unchanged and records it with Kassa's answer. */
export class CallbackRecorder {
  readonly received: RecordedCallback[] = [];
  target = '';
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const method = req.method ?? 'GET';
        fetch(`${this.target}${req.url ?? '/'}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : rawBody })
          .then(async (response) => {
            const text = await response.text();
            let answer: unknown = text;
            try {
              answer = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            this.received.push({ method, path: req.url ?? '/', headers: req.headers, rawBody: rawBody.toString('utf8'), status: response.status, answer });
            res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'text/plain' }).end(text);
          })
          .catch((error: unknown) => {
            this.received.push({ method, path: req.url ?? '/', headers: req.headers, rawBody: rawBody.toString('utf8'), status: 502, answer: String(error) });
            res.writeHead(502).end();
          });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * The pushes that name the payment: its rail key, or the order id it was made from (GSMA's X-CorrelationID),
   * in the body or a header. A batch push that names none of its items is not attributed.
   */
  about(railKey: string): RecordedCallback[] {
    const names = [railKey.toLowerCase()];
    if (/^[0-9a-f]{32}$/i.test(railKey)) names.push(railKey.toLowerCase().replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'));
    return this.received.filter((entry) => {
      const text = `${entry.rawBody}\n${Object.values(entry.headers).join('\n')}`.toLowerCase();
      return names.some((name) => text.includes(name));
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface ReceivedWebhook {
  readonly type: string;
  readonly orderId: string;
  readonly deliveryId: string;
}

/** The organisation's webhook endpoint: records every order.* event Kassa sends, answering 200. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string; data?: { id?: string } };
          this.received.push({ type: String(event.type), orderId: String(event.data?.id), deliveryId: String(req.headers['kassa-delivery']) });
        } catch {
          this.received.push({ type: 'unreadable', orderId: '', deliveryId: '' });
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  of(orderId: string): ReceivedWebhook[] {
    return this.received.filter((entry) => entry.orderId === orderId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface PipelineHarness {
  readonly kassa: TestKassa;
  /** Places and reads the organisation's orders. */
  readonly api: PipelineApi;
  readonly organisation: string;
  readonly callbacks: CallbackRecorder;
  readonly webhooks: WebhookReceiver;
  stop(): Promise<void>;
}

/** Circuit settings of every pipeline Kassa: opens after two unavailable answers, probes again after a second. */
/**
 * A small circuit so the down-and-back scenario is quick, and a sweeper that waits well past the rail timeout:
 * on a busy machine a 1.5 s sweeper can inquire about an order whose timed-out call has not yet returned, and
 * settle it before it could show `unknown` — allowed behaviour, but not the scenario under test.
 */
export const PIPELINE_CIRCUIT = { CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_COOLDOWN_MS: '1000', SWEEPER_STALE_AFTER_MS: '10000' } as const;

/**
 * One Kassa for a rail file: postgres queues, workers in process, the harness RAIL_TIMEOUT_MS (1000 ms) and fast
 * recovery settings, a small circuit threshold, PUBLIC_URL at the callback recorder, and an organisation whose
 * webhook endpoint is the receiver. `env` adds the rail's own settings (RAILS, RAIL_<ID>_*).
 */
export async function startPipelineKassa(env: Record<string, string>): Promise<PipelineHarness> {
  const callbacks = new CallbackRecorder();
  const webhooks = new WebhookReceiver();
  await callbacks.start();
  await webhooks.start();
  let kassa: TestKassa | undefined;
  try {
    kassa = await startTestKassa({ backend: 'postgres', env: { ...PIPELINE_CIRCUIT, PUBLIC_URL: callbacks.url, ...env } });
    callbacks.target = kassa.url;
    const organisation = `pipeline-${randomBytes(4).toString('hex')}`;
    const admin = apiClient(kassa.url, await kassa.issueKey(organisation, ['admin']));
    const endpoint = await admin.post('/v1/webhook-endpoint', { url: webhooks.url }, randomUUID());
    assert.equal(endpoint.status, 200, `the webhook endpoint could not be set: ${JSON.stringify(endpoint.body)}`);
    const api = apiClient(kassa.url, await kassa.issueKey(organisation, ['fees:write', 'benefits:write', 'orders:read']));
    const started = kassa;
    return {
      kassa: started,
      api,
      organisation,
      callbacks,
      webhooks,
      async stop() {
        await started.stop();
        await callbacks.stop();
        await webhooks.stop();
      },
    };
  } catch (error) {
    await kassa?.stop();
    await callbacks.stop();
    await webhooks.stop();
    throw error;
  }
}

/** Four random digits that none of the simulators gives a special meaning (their rules use 0000–0003 and 9999). */
export function ordinarySuffix(): string {
  return String(1000 + Math.floor(Math.random() * 8000));
}

// ── the suite ───────────────────────────────────────────────────────────────────────────────────────────────

/** Long enough for a wrongly repeated dispatch, inquiry or sweep to show (inquiries start at 200 ms, sweeps every 500 ms). */
const QUIET_MS = 1_200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PlacedOrder {
  readonly id: string;
  readonly railKey: string;
  readonly reference: string;
}

interface OrderEventRow {
  readonly from_status: string | null;
  readonly to_status: string;
  readonly detail: Record<string, unknown>;
}

export function describePipelineContract(name: string, setup: () => Promise<PipelineFixture>): void {
  describe(`pipeline contract: ${name} (HTTP → queue → worker → adapter → simulator → callback/inquiry → order)`, function () {
    this.timeout(40_000);
    let fixture: PipelineFixture;

    before(async function () {
      this.timeout(60_000);
      fixture = await setup();
    });
    after(async () => {
      await fixture?.teardown();
    });
    afterEach(() => {
      fixture?.setRail('normal');
      fixture?.setCallbacks?.('normal');
    });

    const db = () => fixture.kassa.runtime.context.db;

    async function place(outcome: PipelineOutcome, label: string): Promise<PlacedOrder> {
      const reference = `pipeline ${label} ${randomBytes(4).toString('hex')}`;
      const created = await fixture.api.post('/v1/orders', { ...fixture.orderBody(outcome), reference }, randomUUID());
      assert.equal(created.status, 201, `the order was not accepted: ${JSON.stringify(created.body)}`);
      assert.equal(created.body.rail, fixture.rail, 'the order is routed to the rail under test');
      const row = await db()('orders').where({ id: created.body.id }).first();
      return { id: created.body.id as string, railKey: row.rail_key as string, reference };
    }

    /** Polls the API until the order is final; fails at once, with the order, if it ends otherwise than `status`. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's order JSON
    async function settled(order: PlacedOrder, status: 'completed' | 'failed', timeoutMs = 20_000): Promise<any> {
      const body = await eventually(
        async () => {
          const answer = await fixture.api.get(`/v1/orders/${order.id}`);
          assert.equal(answer.status, 200);
          return ['completed', 'failed', 'cancelled'].includes(answer.body.status) ? answer.body : undefined;
        },
        { timeoutMs, intervalMs: 50, what: `order ${order.id} (${order.reference}) to be ${status}` },
      );
      assert.equal(body.status, status, `order ${order.id} ended ${body.status}: ${JSON.stringify(body)}`);
      const row = await db()('orders').where({ id: order.id }).first();
      assert.equal(row.status, status, 'the database agrees with the API');
      return body;
    }

    async function eventsOf(order: PlacedOrder): Promise<OrderEventRow[]> {
      return (await db()('order_events').where({ order_id: order.id }).orderBy('id')) as OrderEventRow[];
    }

    async function totalEvents(): Promise<number> {
      const [row] = (await db()('order_events').count({ count: '*' })) as { count: string | number }[];
      return Number(row!.count);
    }

    /** The order's timeline has each status at most once, starts with received and ends with `last`. */
    function assertTimeline(events: readonly OrderEventRow[], last: string): string[] {
      const statuses = events.map((event) => event.to_status);
      assert.equal(statuses[0], 'received', `timeline ${statuses.join(' → ')}`);
      assert.equal(statuses.at(-1), last, `timeline ${statuses.join(' → ')}`);
      assert.equal(new Set(statuses).size, statuses.length, `no status is entered twice: ${statuses.join(' → ')}`);
      return statuses;
    }

    /** Kassa sent the organisation exactly one `type` webhook for the order, and nothing twice. */
    async function assertWebhookOnce(order: PlacedOrder, type: string): Promise<void> {
      const rows = await eventually(
        async () => {
          const found = (await db()('webhook_deliveries').where({ order_id: order.id })) as { event_type: string; status: string }[];
          return found.some((delivery) => delivery.event_type === type) && found.every((delivery) => delivery.status === 'delivered') ? found : undefined;
        },
        { what: `the ${type} webhook of ${order.id} to be delivered` },
      );
      assert.deepEqual(rows.map((delivery) => delivery.event_type), [type], 'one webhook delivery for the order');
      const arrived = fixture.harness.webhooks.of(order.id);
      assert.deepEqual(arrived.map((hook) => hook.type), [type], `the endpoint got ${type} once: ${JSON.stringify(arrived)}`);
    }

    async function circuitState(): Promise<string | undefined> {
      const row = await db()('rail_circuits').where({ rail: fixture.rail }).first();
      return row?.state as string | undefined;
    }

    async function circuitClosed(): Promise<void> {
      await eventually(async () => ((await circuitState()) ?? 'closed') === 'closed' || undefined, { timeoutMs: 15_000, what: `the ${fixture.rail} circuit to close` });
    }

    it('when an order is placed, then it completes through the rail, which executes it once', async () => {
      const order = await place('completed', 'happy');

      const done = await settled(order, 'completed');

      assert.match(String(done.rail_reference), /\S/, 'a completed order carries the rail reference');
      assert.equal(done.failure, null);
      const statuses = assertTimeline(await eventsOf(order), 'completed');
      assert.ok(!statuses.includes('failed') && !statuses.includes('unknown'), statuses.join(' → '));
      assert.deepEqual(done.events.map((event: { to: string }) => event.to), statuses, 'the API shows the same timeline');
      await assertWebhookOnce(order, 'order.completed');
      assert.equal(fixture.executions(order.railKey), 1, 'the rail executed it once');
    });

    it("when the rail declines an order, then it fails with the rail's ISO reason code and is never sent again", async () => {
      const order = await place('declined', 'decline');

      const failed = await settled(order, 'failed');

      assert.equal(failed.failure?.code, fixture.declineReasonCode);
      assert.match(String(failed.failure?.reason), /\S/);
      await assertWebhookOnce(order, 'order.failed');
      await sleep(QUIET_MS);
      const row = await db()('orders').where({ id: order.id }).first();
      assert.equal(row.status, 'failed');
      assert.equal(row.failure_code, fixture.declineReasonCode);
      assert.equal(row.dispatch_attempts, 1, 'dispatched once');
      assertTimeline(await eventsOf(order), 'failed');
      assert.ok(fixture.executions(order.railKey) <= 1, `executed at most once, got ${fixture.executions(order.railKey)}`);
      assert.equal(fixture.requests(order.railKey), 1, 'a decline is final: the rail was asked once');
    });

    it('when the same body is posted twice under one Idempotency-Key, then there is one order and one execution', async () => {
      const key = randomUUID();
      const reference = `pipeline idem ${randomBytes(4).toString('hex')}`;
      const body = { ...fixture.orderBody('completed'), reference };

      const first = await fixture.api.post('/v1/orders', body, key);
      const second = await fixture.api.post('/v1/orders', body, key);

      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(second.status, first.status);
      assert.equal(second.body.id, first.body.id, 'the second answer is the first order');
      const rows = await db()('orders').where({ reference });
      assert.equal(rows.length, 1, 'one order row');
      const order: PlacedOrder = { id: first.body.id, railKey: rows[0].rail_key, reference };
      await settled(order, 'completed');
      await sleep(QUIET_MS);
      assert.equal(fixture.executions(order.railKey), 1, 'the rail executed it once');
      assertTimeline(await eventsOf(order), 'completed');
    });

    it('when the rail executes an order but answers after the timeout, then the order goes unknown and an inquiry completes it, executed once', async function () {
      // Every simulator's `timeout` mode executes the initiation and holds its HTTP answer (60 s by default in all
      // four) while status reads answer at once; the harness RAIL_TIMEOUT_MS of 1000 ms makes the adapter give up
      // first: outcome unknown. Rails also push outcomes on their own (GSMA calls back every request; Stripe sends
      // payment_intent.succeeded webhooks whether or not its API answer arrives), which would settle the order
      // before it could go unknown, so pushes are switched off: only a status inquiry can settle it here.
      if (!fixture.callbackModes.never || !fixture.setCallbacks) this.skip();
      fixture.setCallbacks!('never');
      fixture.setRail('timeout');

      const order = await place('completed', 'timeout');
      await eventually(async () => ((await eventsOf(order)).some((event) => event.to_status === 'unknown') ? true : undefined), {
        timeoutMs: 15_000,
        what: `order ${order.id} to become unknown`,
      });
      const done = await settled(order, 'completed');

      const statuses = assertTimeline(await eventsOf(order), 'completed');
      assert.deepEqual(statuses.slice(-2), ['unknown', 'completed'], statuses.join(' → '));
      assert.ok(done.events.some((event: { to: string }) => event.to === 'unknown'), 'the API timeline shows unknown');
      assert.deepEqual(fixture.harness.callbacks.about(order.railKey), [], 'nothing was pushed: an inquiry settled it');
      await assertWebhookOnce(order, 'order.completed');
      assert.equal(fixture.executions(order.railKey), 1, 'the rail executed it once: the inquiry never resent under a new key');
    });

    it('when the rail pushes the same callback twice, then the order completes once and its webhook is sent once', async function () {
      const outcome = fixture.callbackModes.duplicate;
      if (!outcome || !fixture.setCallbacks) this.skip();
      fixture.setCallbacks!('duplicate');

      const order = await place(outcome!, 'duplicate');
      if (outcome === 'late') await fixture.settle?.(order.railKey);
      await settled(order, 'completed');
      const pushes = await eventually(
        async () => {
          const about = fixture.harness.callbacks.about(order.railKey);
          const copies = new Map<string, number>();
          for (const push of about) copies.set(push.rawBody, (copies.get(push.rawBody) ?? 0) + 1);
          return [...copies.values()].some((count) => count >= 2) ? about : undefined;
        },
        { what: `the rail to push a callback about ${order.id} twice` },
      );
      await sleep(QUIET_MS);

      for (const push of pushes) assert.equal(push.status, 200, `Kassa accepted every copy: ${push.method} ${push.path} → ${push.status} ${JSON.stringify(push.answer)}`);
      const statuses = assertTimeline(await eventsOf(order), 'completed');
      assert.equal(statuses.filter((status) => status === 'completed').length, 1);
      await assertWebhookOnce(order, 'order.completed');
      assert.equal(fixture.executions(order.railKey), 1);
    });

    it("when the rail's callback arrives before its HTTP answer, then the callback completes the order, once", async function () {
      const outcome = fixture.callbackModes.early;
      if (!outcome || !fixture.setCallbacks) this.skip();
      fixture.setCallbacks!('early');

      const order = await place(outcome!, 'early');
      if (outcome === 'late') await fixture.settle?.(order.railKey);
      await settled(order, 'completed');
      const pushesOf = () => JSON.stringify(fixture.harness.callbacks.about(order.railKey).map((push) => ({ method: push.method, status: push.status, answer: push.answer })));
      const applied = await eventually(async () => fixture.harness.callbacks.about(order.railKey).find((push) => push.status === 200 && push.answer?.applied === 1), {
        timeoutMs: 5_000,
        what: `a callback about ${order.id} that found the order still waiting for the rail (applied: 1)`,
      }).catch((error: Error) => assert.fail(`${error.message}; the pushes about it: ${pushesOf()}`));
      await sleep(QUIET_MS); // the rail's held answer arrives meanwhile and must change nothing

      assert.ok(applied);
      const statuses = assertTimeline(await eventsOf(order), 'completed');
      assert.equal(statuses.filter((status) => status === 'completed').length, 1);
      await assertWebhookOnce(order, 'order.completed');
      assert.equal(fixture.executions(order.railKey), 1);
    });

    it('when a callback with a forged signature is posted, then it is refused 401 callback_rejected and nothing changes', async () => {
      // The target must be an order that only the rail can move on and that is not moving by itself while the
      // events are counted: an order submitted to a rail that is down is exactly that.
      fixture.setRail('down');
      const order = await place('completed', 'forged');
      await eventually(async () => ((await db()('orders').where({ id: order.id }).first()).status === 'submitted' ? true : undefined), {
        what: `order ${order.id} to be submitted`,
      });
      const forgery = fixture.forgeCallback(order.railKey);
      const eventsBefore = await totalEvents();
      // What a callback could change; next_check_at moves with the inquiries of a rail that is down.
      const stateOf = async () => db()('orders').where({ id: order.id }).first('status', 'rail_reference', 'failure_code', 'failure_reason', 'next_action', 'updated_at');
      const orderBefore = await stateOf();

      for (const method of [...new Set(['POST', forgery.method])]) {
        const answer = await fetch(`${fixture.kassa.url}/v1/rails/${fixture.rail}/callbacks`, { method, headers: forgery.headers, body: forgery.body });
        const text = await answer.text();
        assert.equal(answer.status, 401, `${method}: expected 401, got ${answer.status} ${text}`);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const problem = JSON.parse(text);
        assert.equal(problem.status, 401);
        assert.equal(problem.code, 'callback_rejected');
      }

      assert.equal(await totalEvents(), eventsBefore, 'no order event was written');
      assert.deepEqual(await stateOf(), orderBefore, 'the order is untouched');
      assert.equal(fixture.executions(order.railKey), 0, 'a rail that is down executes nothing');

      fixture.setRail('normal');
      const done = await settled(order, 'completed', 30_000);
      assert.notEqual(done.rail_reference, forgery.railReference);
      assertTimeline(await eventsOf(order), 'completed');
      assert.equal(fixture.executions(order.railKey), 1);
      await circuitClosed();
    });

    it('when the rail is down, then its circuit opens and orders wait; when it is back, every order completes and none is executed twice', async () => {
      fixture.setRail('down');
      const orders: PlacedOrder[] = [];
      for (let index = 0; index < 5; index += 1) orders.push(await place('completed', `down ${index}`));

      await eventually(async () => ((await circuitState()) === 'open' ? true : undefined), { timeoutMs: 15_000, what: `the ${fixture.rail} circuit to open` });
      const circuit = await db()('rail_circuits').where({ rail: fixture.rail }).first();
      assert.ok(circuit.consecutive_failures >= Number(PIPELINE_CIRCUIT.CIRCUIT_FAILURE_THRESHOLD));
      const held = await db()('orders').whereIn('id', orders.map((order) => order.id));
      for (const row of held) assert.ok(!['completed', 'failed'].includes(row.status), `order ${row.id} is ${row.status} while the rail is down`);
      for (const order of orders) assert.equal(fixture.executions(order.railKey), 0, 'a rail that is down executes nothing');

      fixture.setRail('normal');
      for (const order of orders) await settled(order, 'completed', 30_000);

      for (const order of orders) {
        assert.equal(fixture.executions(order.railKey), 1, `order ${order.id} executed once`);
        const statuses = assertTimeline(await eventsOf(order), 'completed');
        assert.ok(!statuses.includes('failed'), statuses.join(' → '));
      }
      await circuitClosed();
      for (const order of orders) await assertWebhookOnce(order, 'order.completed');
    });

    it('when many orders arrive together for a rail that takes chunks, then every one completes and is executed once', async function () {
      // Rails without bulk (Stripe: one PaymentIntent or Checkout Session per payment) skip this.
      if (!fixture.kassa.runtime.context.rails.get(fixture.rail).capabilities.bulk) this.skip();
      const orders = await Promise.all(Array.from({ length: 20 }, (_, index) => place('completed', `burst ${index}`)));

      for (const order of orders) await settled(order, 'completed', 30_000);

      for (const order of orders) {
        assert.equal(fixture.executions(order.railKey), 1, `order ${order.id} executed once`);
        assertTimeline(await eventsOf(order), 'completed');
      }
    });
  });
}
