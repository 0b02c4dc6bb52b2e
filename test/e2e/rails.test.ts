import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startFakeStripe, type FakeStripe } from '../../adapters/stripe/fake-server.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { orderReaching, railKeyOf, startTestKassa, type TestKassa } from '../support/kassa.ts';

const ROUTES = JSON.stringify([{ rail: 'stripe', partyType: 'card', direction: 'collection' }, { rail: 'sandbox' }]);

function cardFee(cardValue: string) {
  return {
    kind: 'fee',
    amount: '1500.00',
    currency: 'KES',
    payer: { type: 'card', value: cardValue },
    payee: { type: 'bank_account', value: '0099887766' },
    reference: 'passport renewal fee',
  };
}

describe('orders over HTTP through the configured rails', () => {
  let kassa: TestKassa;
  let stripe: FakeStripe;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    stripe = await startFakeStripe({ webhookSecret: 'whsec_kassa_e2e_secret' });
    kassa = await startTestKassa({
      backend: 'postgres',
      env: {
        RAILS: 'sandbox,stripe',
        RAIL_ROUTES: ROUTES,
        RAIL_STRIPE_API_KEY: 'sk_test_kassa_e2e',
        RAIL_STRIPE_WEBHOOK_SECRET: 'whsec_kassa_e2e_secret',
        RAIL_STRIPE_API_BASE: stripe.url,
        RAIL_STRIPE_SUCCESS_URL: 'https://eservice.example.gov/paid',
        RAIL_STRIPE_CANCEL_URL: 'https://eservice.example.gov/cancelled',
      },
    });
    stripe.setWebhookUrl(`${kassa.url}/v1/rails/stripe/callbacks`);
    api = apiClient(kassa.url, await kassa.issueKey('immigration-department', ['fees:write', 'benefits:write', 'orders:read']));
  });
  after(async () => {
    await kassa?.stop();
    await stripe?.close();
  });

  const orderWhen = (id: string, status: string) => orderReaching(api, id, status);

  it('when a fee is paid by card on the Checkout page, then the order waits for the payer with the link and completes on the Stripe webhook', async () => {
    const created = await api.post('/v1/orders', cardFee('citizen-4471'), randomUUID());
    assert.equal(created.status, 201);
    assert.equal(created.body.rail, 'stripe');
    const waiting = await orderWhen(created.body.id, 'requires_action');
    assert.equal(waiting.next_action.type, 'redirect');
    assert.match(waiting.next_action.url, /^https?:\/\//);

    const railKey = await railKeyOf(kassa, created.body.id);
    await stripe.pay(railKey);
    const done = await orderWhen(created.body.id, 'completed');
    assert.deepEqual(done.events.map((event: { to: string }) => event.to), ['received', 'queued', 'submitted', 'requires_action', 'completed']);
    assert.match(done.rail_reference, /^pi_/);
    assert.equal(stripe.executions(railKey), 1);
  });

  it('when a fee is paid with a saved card, then it completes without waiting on the payer', async () => {
    const created = await api.post('/v1/orders', cardFee('pm_card_visa'), randomUUID());
    const done = await orderWhen(created.body.id, 'completed');
    assert.equal(done.rail, 'stripe');
    assert.match(done.rail_reference, /^pi_/);
  });

  it('when a saved card is declined for insufficient funds, then the order fails with AM04', async () => {
    const created = await api.post('/v1/orders', cardFee('pm_card_chargeDeclinedInsufficientFunds'), randomUUID());
    const failed = await orderWhen(created.body.id, 'failed');
    assert.equal(failed.failure.code, 'AM04');
  });

  it('when a webhook arrives with a forged signature, then it is refused with 401 and no order changes', async () => {
    const created = await api.post('/v1/orders', cardFee('citizen-9001'), randomUUID());
    await orderWhen(created.body.id, 'requires_action');
    const before = await kassa.runtime.context.db('order_events').count({ count: '*' }).first();
    const forged = await fetch(`${kassa.url}/v1/rails/stripe/callbacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
      body: JSON.stringify({ id: 'evt_forged', type: 'payment_intent.succeeded', data: { object: { id: 'pi_forged', metadata: {} } } }),
    });
    assert.equal(forged.status, 401);
    assert.equal((await forged.json()).code, 'callback_rejected');
    const after = await kassa.runtime.context.db('order_events').count({ count: '*' }).first();
    assert.deepEqual(after, before);
    assert.equal((await api.get(`/v1/orders/${created.body.id}`)).body.status, 'requires_action');
  });

  it('when a sandbox payment settles later, then its signed callback completes the order', async () => {
    kassa.simulator.setCallbackBehaviour({ mode: 'normal' });
    const created = await api.post('/v1/orders', benefitOrder({ payee: { type: 'msisdn', value: '+254700000002' } }), randomUUID());
    const done = await orderWhen(created.body.id, 'completed');
    const railKey = await railKeyOf(kassa, created.body.id);
    assert.equal(kassa.simulator.callbacksSent(railKey), 1);
    assert.equal(done.rail, 'sandbox');
  });

  it('when a callback names an unknown rail, then it is 404 and nothing is read', async () => {
    const answer = await fetch(`${kassa.url}/v1/rails/no-such-rail/callbacks`, { method: 'POST', body: '{}' });
    assert.equal(answer.status, 404);
  });

  it('when no route carries an order, then it is refused before anything is stored', async () => {
    const only = await startTestKassa({ backend: 'postgres', workers: false, env: { RAIL_ROUTES: JSON.stringify([{ rail: 'sandbox', currency: 'KES' }]) } });
    try {
      const client = apiClient(only.url, await only.issueKey('agency', ['benefits:write']));
      const refused = await client.post('/v1/orders', benefitOrder({ currency: 'USD' }), randomUUID());
      assert.equal(refused.status, 422);
      assert.equal(refused.body.errors[0].field, 'body.payee');
      assert.match(refused.body.errors[0].reason, /no route carries a benefit/);
      assert.equal(Number((await only.runtime.context.db('orders').count({ count: '*' }).first())!.count), 0);
    } finally {
      await only.stop();
    }
  });
});
