import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { isRailError, RailCallbackRejected, type RailPayment } from '../../adapters/contract.ts';
import { startFakeStripe, type FakeStripe } from '../../adapters/stripe/fake-server.ts';
import { StripeRailAdapter, stripeRail, type StripeOptionsInput } from '../../adapters/stripe/index.ts';
import { describeRailAdapterContract } from './rail-adapter-contract.ts';
import { outcomeOf, rejection, railErrorFrom } from '../support/rail-assertions.ts';

const SUCCESS_URL = 'https://eservice.example.gov/paid';
const CANCEL_URL = 'https://eservice.example.gov/cancelled';
const PAYER = { completed: 'pm_card_visa', failed: 'pm_card_chargeDeclinedInsufficientFunds', pending: 'citizen-checkout' } as const;

function railKey(): string {
  return `k${randomUUID().replace(/-/g, '').slice(0, 30)}`;
}

function fee(payerValue: string, overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: railKey(),
    kind: 'fee',
    amount: { minor: 1_250n, currency: 'EUR' },
    payer: { type: 'card', value: payerValue },
    payee: { type: 'iban', value: 'EE382200221020145685', institution: 'HABAEE2X' },
    reference: 'Passport renewal fee',
    callbackUrl: 'http://127.0.0.1:1/callbacks/stripe',
    ...overrides,
  };
}

function adapterFor(fake: FakeStripe, overrides: Partial<StripeOptionsInput> = {}): StripeRailAdapter {
  return new StripeRailAdapter({
    apiKey: 'sk_test_kassa',
    webhookSecret: fake.webhookSecret,
    apiBase: fake.url,
    successUrl: SUCCESS_URL,
    cancelUrl: CANCEL_URL,
    timeoutMs: 3_000,
    ...overrides,
  });
}

/** Kassa's webhook endpoint, as Stripe sees it: records the raw bytes and headers of every delivery. */
interface WebhookReceiver {
  readonly url: string;
  readonly received: { headers: IncomingHttpHeaders; rawBody: Buffer; type: string }[];
  ofType(type: string): { headers: IncomingHttpHeaders; rawBody: Buffer };
  close(): Promise<void>;
}

async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      received.push({ headers: req.headers, rawBody, type: (JSON.parse(rawBody.toString('utf8')) as { type: string }).type });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callbacks/stripe`,
    received,
    ofType(type) {
      const found = received.filter((r) => r.type === type);
      assert.equal(found.length, 1, `expected one ${type} webhook, got ${found.length}`);
      return found[0]!;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Final-outcome events Stripe pushes about a payment. */
const FINAL_EVENTS = new Set(['payment_intent.succeeded', 'payment_intent.payment_failed', 'checkout.session.completed', 'checkout.session.expired']);

function isAbout(delivery: WebhookReceiver['received'][number], key: string): boolean {
  const event = JSON.parse(delivery.rawBody.toString('utf8')) as { data: { object: { client_reference_id?: string; metadata?: Record<string, string> } } };
  const object = event.data.object;
  return FINAL_EVENTS.has(delivery.type) && (object.client_reference_id === key || object.metadata?.kassa_rail_key === key);
}

describeRailAdapterContract('stripe', async () => {
  // Stripe pushes webhooks to one endpoint configured on the account, not to a per-payment URL:
  // the fixture's receiver is that endpoint (and every payment's callbackUrl names it too).
  const receiver = await startWebhookReceiver();
  // The simulated citizen pays every Checkout link 150 ms after it is made: that is how a
  // `pending` card payment resolves (a real one waits for the citizen, for up to 24 hours).
  const fake = await startFakeStripe({ autoPayCheckoutAfterMs: 150, webhookUrl: receiver.url });
  const adapter = adapterFor(fake);
  return {
    adapter,
    paymentFor: (outcome) => fee(PAYER[outcome], { callbackUrl: receiver.url }),
    forgeCallback() {
      const payload = JSON.stringify({
        id: 'evt_forged',
        object: 'event',
        api_version: Stripe.API_VERSION,
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'payment_intent.succeeded',
        data: { object: { id: 'pi_forged', object: 'payment_intent', status: 'succeeded', amount: 1_250, currency: 'eur', metadata: { kassa_rail_key: railKey() } } },
      });
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_the_endpoint_secret' });
      return { headers: { 'content-type': 'application/json', 'stripe-signature': signature }, rawBody: Buffer.from(payload) };
    },
    async validCallbackFor(payment) {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const delivery = receiver.received.find((r) => isAbout(r, payment.railKey));
        if (delivery) return { headers: delivery.headers, rawBody: delivery.rawBody };
        if (Date.now() > deadline) assert.fail(`Stripe pushed no final webhook about ${payment.railKey}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async teardown() {
      await adapter.close();
      await fake.close();
      await receiver.close();
    },
  };
});

describe('stripe rail', function () {
  this.timeout(10_000);
  let fake: FakeStripe;
  let receiver: WebhookReceiver;
  let adapter: StripeRailAdapter;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    fake = await startFakeStripe({ webhookUrl: receiver.url });
    adapter = adapterFor(fake);
  });
  afterEach(async () => {
    await adapter.close();
    await fake.close();
    await receiver.close();
  });

  describe('Checkout', () => {
    it('when a fee is initiated without a PaymentMethod, then a Checkout Session carries the amount and rail key and the outcome is a redirect to it', async () => {
      const p = fee('citizen-42');

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);

      const session = fake.checkoutSession(p.railKey);
      assert.ok(session);
      assert.equal(outcome.status, 'pending');
      assert.deepEqual(outcome, { status: 'pending', railReference: session.id, nextAction: { type: 'redirect', url: session.url } });
      assert.match(session.url ?? '', new RegExp(`^${fake.url}/c/pay/cs_test_`));
      assert.equal(session.mode, 'payment');
      assert.equal(session.amount_total, 1_250);
      assert.equal(session.currency, 'eur');
      assert.equal(session.client_reference_id, p.railKey);
      assert.equal(session.metadata?.kassa_rail_key, p.railKey);
      assert.equal(session.success_url, SUCCESS_URL);
      assert.equal(session.cancel_url, CANCEL_URL);
    });

    it('when the same key is initiated twice, then Stripe keeps one session and both answers carry the same link', async () => {
      const p = fee('citizen-42');

      const first = outcomeOf(await adapter.initiateChunk([p]), p);
      const second = outcomeOf(await adapter.initiateChunk([p]), p);

      assert.deepEqual(second, first);
      assert.equal(fake.executions(p.railKey), 1);
      assert.equal(fake.requestCount(p.railKey), 2);
    });

    it('when the same key comes back after a setting changed, then the adapter answers the existing session instead of failing or paying twice', async () => {
      const p = fee('citizen-42');
      const first = outcomeOf(await adapter.initiateChunk([p]), p);
      const redeployed = adapterFor(fake, { successUrl: 'https://eservice.example.gov/thank-you' });
      try {
        const again = outcomeOf(await redeployed.initiateChunk([p]), p);

        assert.deepEqual(again, first);
        assert.equal(fake.executions(p.railKey), 1);
      } finally {
        await redeployed.close();
      }
    });

    it('when the citizen pays, then the signed payment_intent.succeeded and checkout.session.completed webhooks parse to completed and getStatus agrees', async () => {
      const p = fee('citizen-42');
      await adapter.initiateChunk([p]);

      await fake.pay(p.railKey);

      const pi = fake.paymentIntent(p.railKey);
      assert.ok(pi);
      assert.equal(pi.metadata.kassa_rail_key, p.railKey, 'payment_intent_data.metadata reaches the PaymentIntent');
      const status = await adapter.getStatus(p.railKey);
      assert.ok(status.status === 'completed');
      assert.equal(status.railReference, pi.id);
      assert.deepEqual(status.fee, { minor: 66n, currency: 'EUR' }, 'the Stripe fee is reported');
      const succeeded = await adapter.parseCallback(receiver.ofType('payment_intent.succeeded'));
      assert.deepEqual(succeeded, [{ railKey: p.railKey, outcome: status }]);
      const completed = await adapter.parseCallback(receiver.ofType('checkout.session.completed'));
      assert.deepEqual(completed, [{ railKey: p.railKey, outcome: status }]);
    });

    it('when the card is declined on the Checkout page, then the payment stays pending; when the link expires, then it fails with the decline as AM04', async () => {
      const p = fee('citizen-42');
      await adapter.initiateChunk([p]);

      await fake.decline(p.railKey, 'insufficient_funds');

      const afterDecline = await adapter.parseCallback(receiver.ofType('payment_intent.payment_failed'));
      assert.equal(afterDecline.length, 1);
      assert.equal(afterDecline[0]!.outcome.status, 'pending', 'the citizen may still pay with another card');
      assert.equal((await adapter.getStatus(p.railKey)).status, 'pending');

      await fake.expire(p.railKey);

      const [expired] = await adapter.parseCallback(receiver.ofType('checkout.session.expired'));
      assert.ok(expired && expired.railKey === p.railKey && expired.outcome.status === 'failed');
      assert.equal(expired.outcome.reasonCode, 'AM04');
      assert.match(expired.outcome.reason, /insufficient funds/);
      const status = await adapter.getStatus(p.railKey);
      assert.ok(status.status === 'failed');
      assert.equal(status.reasonCode, 'AM04');
    });

    it('when the link expires without any attempt, then the payment fails NOAS', async () => {
      const p = fee('citizen-42');
      await adapter.initiateChunk([p]);

      await fake.expire(p.railKey);

      const [expired] = await adapter.parseCallback(receiver.ofType('checkout.session.expired'));
      assert.ok(expired?.outcome.status === 'failed');
      assert.equal(expired.outcome.reasonCode, 'NOAS');
      assert.deepEqual(await adapter.getStatus(p.railKey), expired.outcome);
    });
  });

  describe('PaymentIntents', () => {
    it('when the payer gives pm_card_visa, then a confirmed PaymentIntent completes with its fee and a fresh adapter finds it through search', async () => {
      const p = fee('pm_card_visa');

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);

      const pi = fake.paymentIntent(p.railKey);
      assert.ok(pi && outcome.status === 'completed');
      assert.equal(outcome.railReference, pi.id);
      assert.equal(pi.amount, 1_250);
      assert.equal(pi.metadata.kassa_rail_key, p.railKey);
      assert.deepEqual(outcome.fee, { minor: 66n, currency: 'EUR' }, 'the fake charges 2.9 % + 30');
      const otherProcess = adapterFor(fake);
      try {
        assert.deepEqual(await otherProcess.getStatus(p.railKey), outcome);
      } finally {
        await otherProcess.close();
      }
      await fake.flushWebhooks();
      assert.deepEqual(await adapter.parseCallback(receiver.ofType('payment_intent.succeeded')), [{ railKey: p.railKey, outcome }]);
    });

    it('when a PaymentMethod is declined for insufficient funds, then the outcome and the payment_intent.payment_failed webhook are failed AM04', async () => {
      const p = fee('pm_card_chargeDeclinedInsufficientFunds');

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);

      assert.ok(outcome.status === 'failed');
      assert.equal(outcome.reasonCode, 'AM04');
      assert.equal(outcome.railReference, fake.paymentIntent(p.railKey)?.id);
      await fake.flushWebhooks();
      const notifications = await adapter.parseCallback(receiver.ofType('payment_intent.payment_failed'));
      assert.deepEqual(notifications, [{ railKey: p.railKey, outcome }]);
      assert.equal(fake.executions(p.railKey), 1);
    });

    it('when a PaymentMethod needs 3-D Secure, then the outcome is a redirect; when the payer authenticates, then it completes', async () => {
      const p = fee('pm_card_threeDSecure2Required');

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);

      assert.ok(outcome.status === 'pending' && outcome.nextAction?.type === 'redirect');
      await fake.pay(p.railKey);
      assert.equal((await adapter.getStatus(p.railKey)).status, 'completed');
    });

    it('when a PaymentMethod is unknown to Stripe, then only that payment fails AC02 and the rest of the chunk goes through', async () => {
      const good = fee('pm_card_visa');
      const bad = fee('pm_doesNotExist');

      const outcomes = await adapter.initiateChunk([good, bad]);

      assert.equal(outcomeOf(outcomes, good).status, 'completed');
      const failed = outcomeOf(outcomes, bad);
      assert.ok(failed.status === 'failed' && failed.reasonCode === 'AC02');
    });

    it('when a chunk is larger than the concurrency, then every key gets its own outcome and Stripe executes each once', async () => {
      const payments = Array.from({ length: 25 }, (_, i) => fee(i % 5 === 0 ? 'pm_card_chargeDeclinedInsufficientFunds' : i % 5 === 1 ? 'citizen' : 'pm_card_visa'));

      const outcomes = await adapter.initiateChunk(payments);

      assert.equal(outcomes.size, 25);
      payments.forEach((p, i) => assert.equal(outcomeOf(outcomes, p).status, i % 5 === 0 ? 'failed' : i % 5 === 1 ? 'pending' : 'completed'));
      assert.deepEqual([...fake.executionCounts().values()], Array(25).fill(1));
    });
  });

  describe('amounts', () => {
    it('when a fee is in JPY or ISK, then Stripe gets its own units (JPY as is, ISK times 100) and an amount Stripe cannot take fails AM12 without a request', async () => {
      const yen = fee('pm_card_visa', { amount: { minor: 3_000n, currency: 'JPY' } });
      const krona = fee('pm_card_visa', { amount: { minor: 5_000n, currency: 'ISK' } });
      const fils = fee('pm_card_visa', { amount: { minor: 5_125n, currency: 'KWD' } });

      const outcomes = await adapter.initiateChunk([yen, krona, fils]);

      assert.equal(fake.paymentIntent(yen.railKey)?.amount, 3_000);
      assert.equal(fake.paymentIntent(yen.railKey)?.currency, 'jpy');
      assert.equal(fake.paymentIntent(krona.railKey)?.amount, 500_000);
      const rejected = outcomeOf(outcomes, fils);
      assert.ok(rejected.status === 'failed' && rejected.reasonCode === 'AM12');
      assert.equal(fake.requestCount(fils.railKey), 0);
    });
  });

  describe('webhooks', () => {
    it('when a webhook is forged, altered, unsigned or signed with another secret, then parseCallback throws RailCallbackRejected', async () => {
      const p = fee('citizen-42');
      await adapter.initiateChunk([p]);
      await fake.pay(p.railKey);
      const genuine = receiver.ofType('payment_intent.succeeded');
      const signature = String(genuine.headers['stripe-signature']);
      const altered = Buffer.from(genuine.rawBody.toString('utf8').replace('"succeeded"', '"canceled"'));
      const forged = Stripe.webhooks.generateTestHeaderString({ payload: genuine.rawBody.toString('utf8'), secret: 'whsec_attacker' });
      const stale = Stripe.webhooks.generateTestHeaderString({ payload: genuine.rawBody.toString('utf8'), secret: fake.webhookSecret, timestamp: Math.floor(Date.now() / 1000) - 3_600 });

      for (const request of [
        { headers: { 'stripe-signature': signature }, rawBody: altered },
        { headers: { 'stripe-signature': forged }, rawBody: genuine.rawBody },
        { headers: { 'stripe-signature': stale }, rawBody: genuine.rawBody },
        { headers: { 'stripe-signature': 't=1,v1=deadbeef' }, rawBody: genuine.rawBody },
        { headers: {}, rawBody: genuine.rawBody },
      ]) {
        const error = await rejection(adapter.parseCallback(request));
        assert.ok(error instanceof RailCallbackRejected, `expected RailCallbackRejected, got ${String(error)}`);
      }
      const otherSecret = adapterFor(fake, { webhookSecret: 'whsec_someone_else' });
      try {
        assert.ok((await rejection(otherSecret.parseCallback(genuine))) instanceof RailCallbackRejected);
      } finally {
        await otherSecret.close();
      }
      assert.equal((await adapter.parseCallback(genuine)).length, 1, 'the genuine delivery still parses');
    });

    it('when an event Kassa does not use, or about an object Kassa did not create, arrives, then parseCallback returns nothing', async () => {
      const sign = (event: object) => {
        const payload = JSON.stringify(event);
        return { headers: { 'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: fake.webhookSecret }) }, rawBody: Buffer.from(payload) };
      };
      const base = { object: 'event', api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null } };

      assert.deepEqual(await adapter.parseCallback(sign({ ...base, id: 'evt_1', type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } })), []);
      assert.deepEqual(
        await adapter.parseCallback(sign({ ...base, id: 'evt_2', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', object: 'payment_intent', status: 'succeeded', metadata: {} } } })),
        [],
      );
    });

    it('when a webhook is delivered twice, then both deliveries parse to the same notification', async () => {
      const p = fee('citizen-42');
      await adapter.initiateChunk([p]);
      const [succeeded] = await fake.pay(p.railKey);
      assert.ok(succeeded);

      await fake.redeliver(succeeded.id);

      const deliveries = receiver.received.filter((r) => r.type === 'payment_intent.succeeded');
      assert.equal(deliveries.length, 2);
      assert.deepEqual(await adapter.parseCallback(deliveries[1]!), await adapter.parseCallback(deliveries[0]!));
    });
  });

  describe('refunds and statements', () => {
    it('when a refund is sent twice under one refund key, then Stripe refunds once and charge.refunded notifies the refund by its key', async () => {
      const p = fee('pm_card_visa');
      await adapter.initiateChunk([p]);
      const refundKey = railKey();

      const first = await adapter.refund(p.railKey, { minor: 500n, currency: 'EUR' }, refundKey);
      const second = await adapter.refund(p.railKey, { minor: 500n, currency: 'EUR' }, refundKey);

      assert.ok(first.status === 'completed' && /^re_/.test(first.railReference));
      assert.deepEqual(second, first);
      assert.equal(fake.refundExecutions(refundKey), 1);
      await fake.flushWebhooks();
      assert.deepEqual(await adapter.parseCallback(receiver.ofType('charge.refunded')), [{ railKey: refundKey, outcome: first }]);
      assert.deepEqual(await adapter.parseCallback(receiver.ofType('refund.created')), [{ railKey: refundKey, outcome: first }]);
    });

    it('when a refund exceeds what is left, then it fails; when the currency differs, then it is a plain Error', async () => {
      const p = fee('pm_card_visa');
      await adapter.initiateChunk([p]);

      const tooMuch = await adapter.refund(p.railKey, { minor: 5_000n, currency: 'EUR' }, railKey());
      assert.ok(tooMuch.status === 'failed' && tooMuch.reasonCode === 'AM02');
      const wrongCurrency = await rejection(adapter.refund(p.railKey, { minor: 500n, currency: 'USD' }, railKey()));
      assert.ok(wrongCurrency instanceof Error && !isRailError(wrongCurrency));
    });

    it("when today's statement is fetched, then it has the gross credit with the rail key, the Stripe fee as a separate debit and the refund as a reversal", async () => {
      const paid = fee('pm_card_visa');
      const declined = fee('pm_card_chargeDeclinedInsufficientFunds');
      await adapter.initiateChunk([paid, declined]);
      const refund = await adapter.refund(paid.railKey, { minor: 250n, currency: 'EUR' }, railKey());
      const piId = fake.paymentIntent(paid.railKey)!.id;
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

      const entries = await adapter.fetchStatement({ from: yesterday, to: today });

      assert.equal(entries.length, 3, 'a declined payment books nothing');
      const [credit, feeEntry, reversal] = entries;
      assert.deepEqual(
        { ...credit, bookingDate: undefined, valueDate: undefined },
        { railKey: paid.railKey, railReference: piId, amount: { minor: 1_250n, currency: 'EUR' }, direction: 'credit', reversal: false, bookingDate: undefined, valueDate: undefined },
      );
      assert.equal(credit!.bookingDate, today);
      assert.ok(feeEntry && feeEntry.railKey === undefined && feeEntry.direction === 'debit' && /^txn_/.test(feeEntry.railReference));
      assert.deepEqual(feeEntry.amount, { minor: 66n, currency: 'EUR' });
      assert.ok(reversal && reversal.reversal && reversal.direction === 'debit' && reversal.railKey === paid.railKey);
      assert.equal(reversal.railReference, refund.status === 'completed' ? refund.railReference : '');
      const net = entries.reduce((sum, e) => sum + (e.direction === 'credit' ? e.amount.minor : -e.amount.minor), 0n);
      assert.equal(net, 1_250n - 66n - 250n);
      assert.deepEqual(await adapter.fetchStatement({ from: '2020-01-01', to: '2020-01-31' }), []);
    });
  });

  describe('failures', () => {
    it('when Stripe does not answer in time, then initiateChunk throws RailError unknown; Stripe executed it once and getStatus finds it completed', async () => {
      const impatient = adapterFor(fake, { timeoutMs: 300 });
      try {
        fake.setBehaviour({ mode: 'timeout' });
        const p = fee('pm_card_visa');

        const error = await railErrorFrom(impatient.initiateChunk([p]));

        assert.equal(error.decision, 'unknown');
        assert.equal(fake.executions(p.railKey), 1);
        assert.equal((await impatient.getStatus(p.railKey)).status, 'completed');
      } finally {
        await impatient.close();
      }
    });

    it('when Stripe is down, then the adapter throws RailError unavailable and nothing executes; when it is back, the same key goes through once', async () => {
      const p = fee('pm_card_visa');
      fake.setBehaviour({ mode: 'down' });

      assert.equal((await railErrorFrom(adapter.initiateChunk([p]))).decision, 'unavailable');
      assert.equal((await railErrorFrom(adapter.getStatus(p.railKey))).decision, 'unavailable');
      assert.equal(fake.executions(p.railKey), 0);

      fake.setBehaviour({ mode: 'normal' });
      assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');
      assert.equal(fake.executions(p.railKey), 1);
    });

    it('when Stripe cannot be reached at all, then the adapter throws RailError unavailable', async () => {
      const p = fee('pm_card_visa');
      await fake.close();

      assert.equal((await railErrorFrom(adapter.initiateChunk([p]))).decision, 'unavailable');
    });

    it('when Stripe throttles, then the adapter throws RailError retry and sends nothing more of the chunk', async () => {
      fake.setBehaviour({ mode: 'rate_limited' });
      const payments = [fee('pm_card_visa'), fee('citizen')];

      const error = await railErrorFrom(adapter.initiateChunk(payments));

      assert.equal(error.decision, 'retry');
      assert.equal(fake.executionCounts().size, 0);
    });

    it('when the API key is wrong, then the adapter throws a plain Error (a configuration bug), not a RailError', async () => {
      const strict = await startFakeStripe({ apiKey: 'sk_test_kassa' });
      const pointed = adapterFor(strict, { apiKey: 'sk_test_revoked' });
      try {
        const error = await rejection(pointed.initiateChunk([fee('pm_card_visa')]));
        assert.ok(error instanceof Error && !isRailError(error));
        assert.match(error.message, /StripeAuthenticationError/);
      } finally {
        await pointed.close();
        await strict.close();
      }
    });

    it('when the adapter is closed, then further calls are refused', async () => {
      await adapter.close();
      await assert.rejects(adapter.getStatus('kanything'), /closed/);
    });
  });

  describe('definition', () => {
    it('when the rail is created from RAIL_STRIPE_* strings, then the options are coerced and the adapter talks to the configured API base', async () => {
      const options = stripeRail.optionsSchema.parse({
        apiKey: 'sk_test_kassa',
        webhookSecret: fake.webhookSecret,
        apiBase: fake.url,
        successUrl: SUCCESS_URL,
        cancelUrl: CANCEL_URL,
        timeoutMs: '2500',
        requestConcurrency: '3',
        maxNetworkRetries: '',
      });
      assert.equal(options.timeoutMs, 2_500);
      assert.equal(options.maxNetworkRetries, 0);
      const fromEnv = stripeRail.create(options);
      try {
        assert.equal(fromEnv.id, 'stripe');
        assert.deepEqual(fromEnv.capabilities.directions, ['collection']);
        assert.deepEqual(fromEnv.capabilities.partyTypes, ['card']);
        const p = fee('pm_card_visa');
        assert.equal(outcomeOf(await fromEnv.initiateChunk([p]), p).status, 'completed');
      } finally {
        await fromEnv.close();
      }
    });
  });
});
