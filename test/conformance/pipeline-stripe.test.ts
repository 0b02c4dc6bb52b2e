import Stripe from 'stripe';
import { startFakeStripe, type FakeStripeBehaviour } from '../../adapters/stripe/fake-server.ts';
import { eventually } from '../support/kassa.ts';
import { describePipelineContract, ordinarySuffix, startPipelineKassa, type PipelineCallbackMode, type PipelineOutcome, type PipelineRailMode } from './pipeline-contract.ts';

const WEBHOOK_SECRET = 'whsec_kassa_pipeline_secret';
/**
 * The fake has no callback modes; Stripe sends webhooks on every state change whatever becomes of the API answer.
 * The early scenario is built from that: `timeout` with a hold shorter than RAIL_TIMEOUT_MS (1000 ms) answers the
 * PaymentIntent create after EARLY_HOLD_MS, while payment_intent.succeeded was emitted when it executed — so the
 * webhook reaches Kassa first (the suite checks that it found the order still waiting: applied 1).
 */
const EARLY_HOLD_MS = 850;

function cardFee(card: string) {
  return { kind: 'fee', amount: '1500.00', currency: 'KES', payer: { type: 'card', value: card }, payee: { type: 'bank_account', value: '0099887766' } };
}

/**
 * Stripe card fees through the whole of Kassa, the real SDK against the local fake. `completed` is a saved card
 * (pm_card_visa: a PaymentIntent confirmed at once), `declined` a card declined for insufficient funds (AM04),
 * `late` a Checkout Session the citizen pays later (`settle` = the fake's pay), confirmed by webhooks.
 * Timeout: the fake's `timeout` holds POST answers (60 s) like the other simulators, but its webhooks still
 * announce the payment at once, so with webhooks switched off (`never`: no webhook URL) the order goes unknown and
 * the inquiry (a PaymentIntent search, a GET the fake answers) completes it. Duplicates: the fake has no duplicate
 * mode, so in `duplicate` the fixture has the fake redeliver every event the citizen's payment produced (Stripe's
 * own "resend"). No bulk: one PaymentIntent or Checkout Session per payment, so the burst scenario skips.
 */
describePipelineContract('stripe', async () => {
  const stripe = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  const harness = await startPipelineKassa({
    RAILS: 'stripe',
    RAIL_STRIPE_API_KEY: 'sk_test_kassa_pipeline',
    RAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    RAIL_STRIPE_API_BASE: stripe.url,
    RAIL_STRIPE_SUCCESS_URL: 'https://eservice.example.gov/paid',
    RAIL_STRIPE_CANCEL_URL: 'https://eservice.example.gov/cancelled',
  }).catch(async (error: unknown) => {
    await stripe.close();
    throw error;
  });
  const webhookUrl = `${harness.callbacks.url}/v1/rails/stripe/callbacks`;
  stripe.setWebhookUrl(webhookUrl);
  let railMode: PipelineRailMode = 'normal';
  let callbackMode: PipelineCallbackMode = 'normal';
  const apply = () => {
    const behaviour: FakeStripeBehaviour = callbackMode === 'early' && railMode === 'normal' ? { mode: 'timeout', delayMs: EARLY_HOLD_MS } : { mode: railMode };
    stripe.setBehaviour(behaviour);
    stripe.setWebhookUrl(callbackMode === 'never' ? undefined : webhookUrl);
  };
  const cards: Record<PipelineOutcome, () => string> = {
    completed: () => 'pm_card_visa',
    declined: () => 'pm_card_chargeDeclinedInsufficientFunds',
    late: () => `citizen-${ordinarySuffix()}`,
  };
  return {
    rail: 'stripe',
    kassa: harness.kassa,
    api: harness.api,
    harness,
    orderBody: (outcome) => cardFee(cards[outcome]()),
    declineReasonCode: 'AM04',
    async settle(railKey) {
      const events = await eventually(() => stripe.pay(railKey).catch(() => undefined), { what: `the Checkout Session of ${railKey} to await the citizen` });
      if (callbackMode === 'duplicate') for (const event of events) await stripe.redeliver(event.id);
    },
    setRail(mode) {
      railMode = mode;
      apply();
    },
    setCallbacks(mode) {
      callbackMode = mode;
      apply();
    },
    callbackModes: { duplicate: 'late', early: 'completed', never: true },
    executions: (railKey) => stripe.executions(railKey),
    requests: (railKey) => stripe.requestCount(railKey),
    forgeCallback(railKey) {
      const railReference = 'pi_forged000000000000000';
      const body = JSON.stringify({
        id: 'evt_forged000000000000000',
        object: 'event',
        api_version: Stripe.API_VERSION,
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'payment_intent.succeeded',
        data: { object: { id: railReference, object: 'payment_intent', status: 'succeeded', amount: 150_000, currency: 'kes', metadata: { kassa_rail_key: railKey } } },
      });
      return {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_an_attacker' }) },
        body,
        railReference,
      };
    },
    async teardown() {
      await harness.stop();
      await stripe.close();
    },
  };
});
