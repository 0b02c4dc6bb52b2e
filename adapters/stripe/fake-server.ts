/**
 * A local fake of the Stripe API for development and tests: the REAL `stripe` SDK talks to it
 * (point the SDK's host/port/protocol at `url`, or set RAIL_STRIPE_API_BASE=<url>). In memory,
 * nothing logged per request.
 *
 * Protocol (the subset Kassa uses, in Stripe's own shapes):
 * - Requests are form-encoded (`a[b][0][c]=…`, also in GET query strings) with
 *   `Authorization: Bearer sk_test_…` (401 otherwise; when `apiKey` is given only that key).
 * - `POST /v1/checkout/sessions` (mode payment, line_items[0].price_data, client_reference_id,
 *   metadata, payment_intent_data.metadata, success_url, cancel_url) → `checkout.session`, status
 *   open, url `<fake>/c/pay/<id>`; `GET /v1/checkout/sessions/:id`; `GET /v1/checkout/sessions`
 *   (created[gte|gt|lte|lt], payment_intent, status, limit, starting_after); `POST …/:id/expire`.
 * - `POST /v1/payment_intents` with payment_method + confirm=true: test PaymentMethods
 *   pm_card_visa / pm_card_mastercard / pm_card_visa_debit succeed; pm_card_chargeDeclined… decline
 *   (InsufficientFunds → insufficient_funds, ExpiredCard, IncorrectCvc, Fraudulent, LostCard,
 *   StolenCard, ProcessingError; plain → generic_decline) with HTTP 402 card_error carrying the
 *   PaymentIntent; pm_card_threeDSecure2Required / pm_card_authenticationRequired → requires_action
 *   (redirect_to_url when return_url is given); any other pm_… → 400 resource_missing.
 *   `GET /v1/payment_intents/:id`; `GET /v1/payment_intents/search?query=metadata['k']:'v'`
 *   (clauses joined by AND; also status:'…'), a search_result with next_page.
 * - `POST /v1/refunds` (payment_intent or charge, amount, metadata) → refund, succeeded at once;
 *   `GET /v1/refunds` (charge, payment_intent), `GET /v1/refunds/:id`, `GET /v1/charges/:id`.
 * - `GET /v1/balance_transactions` (created[…], type, source, limit, starting_after): one per
 *   charge (gross amount, fee = 2.9 % + 30 minor units for two-decimal currencies, net) and per
 *   refund (negative amount, no fee).
 * - `expand[]` works on every retrieve, list (data.…) and create answer.
 * - Lists are `{ object: 'list', data, has_more, url }`, newest first; errors are
 *   `{ error: { type, code?, decline_code?, message, param?, payment_intent? } }` with Stripe's
 *   statuses (400 invalid_request_error / idempotency_error, 401, 402 card_error, 404, 429, 503).
 * - Idempotency-Key on POST: the same key with the same parameters on the same endpoint answers
 *   the stored response again (header Idempotent-Replayed: true) without executing; with other
 *   parameters or another endpoint → 400 idempotency_error. Responses are stored once the request
 *   executed (2xx and 402), as Stripe does; validation errors are not stored.
 * - Webhooks: every state change emits Stripe events (payment_intent.succeeded / .payment_failed /
 *   .requires_action / .canceled, checkout.session.completed / .expired, refund.created,
 *   charge.refunded), POSTed in order to `webhookUrl`, signed with Stripe's real scheme
 *   (`Stripe-Signature: t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>" with webhookSecret>`).
 * - Test controls: `pay(railKey)` / `decline(railKey, code)` / `expire(railKey)` act as the citizen
 *   on a Checkout Session (or a PaymentIntent awaiting authentication); a declined Checkout attempt
 *   leaves the session open, as on Stripe. `autoPayCheckoutAfterMs` makes a simulated citizen pay
 *   every new session. `executions(railKey)` counts sessions and PaymentIntents created for a
 *   kassa_rail_key (replays excluded), `requestCount(railKey)` every create request naming it.
 * - Behaviour: `normal`; `down` → every /v1 request gets 503 api_error and nothing executes;
 *   `timeout` → POSTs execute but their answer is held `delayMs` (default 60 s) so the client
 *   times out, GETs answer normally; `rate_limited` → 429 rate_limit, nothing executes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Stripe from 'stripe';
import { startSimulatorServer } from '../simulator-server.ts';

export type FakeStripeBehaviour = { readonly mode: 'normal' | 'down' | 'timeout' | 'rate_limited'; readonly delayMs?: number };

export interface FakeStripeOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The signing secret for webhooks; default a fresh whsec_… */
  readonly webhookSecret?: string;
  /** Where webhooks are POSTed; none are sent while unset. */
  readonly webhookUrl?: string;
  /** Accept only this API key (default: any sk_test_/rk_test_ key). */
  readonly apiKey?: string;
  /** A simulated citizen pays every new Checkout Session this long after it is created. */
  readonly autoPayCheckoutAfterMs?: number;
  readonly behaviour?: FakeStripeBehaviour;
}

export interface FakeStripeEventRecord {
  readonly event: Stripe.Event;
  /** The webhook answer's HTTP status, 'not_sent' without webhookUrl, or 'error' when delivery failed. */
  delivery: number | 'pending' | 'not_sent' | 'error';
}

export interface FakeStripe {
  /** e.g. http://127.0.0.1:40123 — the SDK's host/port/protocol, or RAIL_STRIPE_API_BASE. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly webhookSecret: string;
  setBehaviour(behaviour: FakeStripeBehaviour): void;
  setWebhookUrl(url: string | undefined): void;
  /** The citizen pays (a Checkout Session, or a PaymentIntent awaiting authentication); resolves once its webhooks were delivered. */
  pay(railKey: string): Promise<readonly Stripe.Event[]>;
  /** The citizen's card is declined with this decline code; a Checkout Session stays open. */
  decline(railKey: string, declineCode?: string): Promise<readonly Stripe.Event[]>;
  /** The Checkout Session expires unpaid (its PaymentIntent, if any, is canceled). */
  expire(railKey: string): Promise<readonly Stripe.Event[]>;
  /** Sends an event's webhook once more (a duplicate delivery). */
  redeliver(eventId: string): Promise<void>;
  /** Waits until every queued webhook was delivered (or failed). */
  flushWebhooks(): Promise<void>;
  events(): readonly FakeStripeEventRecord[];
  checkoutSession(railKey: string): Stripe.Checkout.Session | undefined;
  paymentIntent(railKey: string): Stripe.PaymentIntent | undefined;
  /** Sessions and PaymentIntents created through the API for the key (idempotent replays excluded). */
  executions(railKey: string): number;
  executionCounts(): ReadonlyMap<string, number>;
  /** Create requests naming the key, replays included. */
  requestCount(railKey: string): number;
  /** Refunds created under the refund key (metadata kassa_refund_key). */
  refundExecutions(refundKey: string): number;
  /** Forgets every object, count and event and returns to `normal`. */
  reset(): void;
  /** Closes promptly, dropping held requests, open connections and queued webhooks. */
  close(): Promise<void>;
}

const RAIL_KEY = 'kassa_rail_key';
const REFUND_KEY = 'kassa_refund_key';
const DEFAULT_TIMEOUT_DELAY_MS = 60_000;
const CHECKOUT_LIFETIME_SECONDS = 24 * 3600;
const MAX_BODY_BYTES = 1_000_000;
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

type Params = Record<string, unknown>;
type Obj = Record<string, unknown> & { id: string; object: string };

interface StoredResponse {
  readonly endpoint: string;
  readonly fingerprint: string;
  readonly status: number;
  readonly body: unknown;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** Whether an idempotent request's answer is stored for replay. */
  readonly executed: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: Record<string, unknown>,
  ) {
    super(String(error.message));
  }
}

const TEST_CARDS: Readonly<Record<string, { brand: string; last4: string; funding: string; outcome: 'succeed' | 'authenticate' | { decline: string; code?: string } }>> = {
  pm_card_visa: { brand: 'visa', last4: '4242', funding: 'credit', outcome: 'succeed' },
  pm_card_visa_debit: { brand: 'visa', last4: '5556', funding: 'debit', outcome: 'succeed' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', funding: 'credit', outcome: 'succeed' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', funding: 'credit', outcome: { decline: 'generic_decline' } },
  pm_card_chargeDeclinedInsufficientFunds: { brand: 'visa', last4: '9995', funding: 'credit', outcome: { decline: 'insufficient_funds' } },
  pm_card_chargeDeclinedExpiredCard: { brand: 'visa', last4: '0069', funding: 'credit', outcome: { decline: 'expired_card', code: 'expired_card' } },
  pm_card_chargeDeclinedIncorrectCvc: { brand: 'visa', last4: '0127', funding: 'credit', outcome: { decline: 'incorrect_cvc', code: 'incorrect_cvc' } },
  pm_card_chargeDeclinedFraudulent: { brand: 'visa', last4: '0019', funding: 'credit', outcome: { decline: 'fraudulent' } },
  pm_card_chargeDeclinedLostCard: { brand: 'visa', last4: '9987', funding: 'credit', outcome: { decline: 'lost_card' } },
  pm_card_chargeDeclinedStolenCard: { brand: 'visa', last4: '9979', funding: 'credit', outcome: { decline: 'stolen_card' } },
  pm_card_chargeDeclinedProcessingError: { brand: 'visa', last4: '0119', funding: 'credit', outcome: { decline: '', code: 'processing_error' } },
  pm_card_threeDSecure2Required: { brand: 'visa', last4: '3220', funding: 'credit', outcome: 'authenticate' },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', funding: 'credit', outcome: 'authenticate' },
};

const DECLINE_MESSAGES: Readonly<Record<string, string>> = {
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
  incorrect_cvc: "Your card's security code is incorrect.",
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
};

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const host = options.host ?? '127.0.0.1';
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('hex')}`;
  let webhookUrl = options.webhookUrl;
  let behaviour: FakeStripeBehaviour = options.behaviour ?? { mode: 'normal' };
  let baseUrl = '';

  const objects = new Map<string, Obj>();
  const sessionByKey = new Map<string, string>();
  const intentByKey = new Map<string, string>();
  /** Insertion order of each object, to sort lists newest first when created seconds tie. */
  const sequence = new Map<string, number>();
  let sequenceCounter = 0;
  const idempotency = new Map<string, StoredResponse>();
  const executionCount = new Map<string, number>();
  const requestCounts = new Map<string, number>();
  const refundExecutionCount = new Map<string, number>();
  const eventLog: FakeStripeEventRecord[] = [];

  const heldTimers = new Set<NodeJS.Timeout>();
  const deliveries = new AbortController();
  let webhookQueue: Promise<void> = Promise.resolve();
  let closed = false;

  const now = () => Math.floor(Date.now() / 1000);
  const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

  function store<T extends Obj>(obj: T): T {
    objects.set(obj.id, obj);
    if (!sequence.has(obj.id)) sequence.set(obj.id, ++sequenceCounter);
    return obj;
  }

  function get(id: string, object: string, param: string): Obj {
    const found = objects.get(id);
    if (!found || found.object !== object) {
      throw new HttpError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${object}: '${id}'`, param });
    }
    return found;
  }

  function count(map: Map<string, number>, key: unknown): void {
    if (typeof key === 'string' && key !== '') map.set(key, (map.get(key) ?? 0) + 1);
  }

  // ── objects ───────────────────────────────────────────────────────────────

  function metadataOf(value: unknown): Record<string, string> {
    if (value === undefined || value === '') return {};
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw invalid('Invalid object', 'metadata');
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) out[k] = String(v);
    return out;
  }

  function createPaymentIntent(p: {
    amount: number;
    currency: string;
    metadata: Record<string, string>;
    description: string | null;
    paymentMethod: string | null;
  }): Obj {
    return store({
      id: newId('pi'),
      object: 'payment_intent',
      allowed_payment_method_types: ['card'],
      amount: p.amount,
      amount_capturable: 0,
      amount_received: 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic',
      client_secret: `${newId('pi')}_secret_${randomBytes(8).toString('hex')}`,
      confirmation_method: 'automatic',
      created: now(),
      currency: p.currency,
      customer: null,
      customer_account: null,
      description: p.description,
      excluded_payment_method_types: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      managed_payments: null,
      metadata: p.metadata,
      next_action: null,
      on_behalf_of: null,
      payment_method: p.paymentMethod,
      payment_method_configuration_details: null,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_record: null,
      processing: null,
      receipt_email: null,
      review: null,
      setup_future_usage: null,
      shipping: null,
      source: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: p.paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
      transfer_data: null,
      transfer_group: null,
    });
  }

  function cardDetails(paymentMethod: string) {
    const card = TEST_CARDS[paymentMethod] ?? TEST_CARDS.pm_card_visa!;
    return { type: 'card', card: { brand: card.brand, last4: card.last4, funding: card.funding, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, country: 'US', network: card.brand } };
  }

  function createCharge(pi: Obj, paymentMethod: string, failure?: { code: string; declineCode: string; message: string }): Obj {
    const amount = pi.amount as number;
    const currency = pi.currency as string;
    const charge = store({
      id: newId('ch'),
      object: 'charge',
      amount,
      amount_captured: failure ? 0 : amount,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: null as string | null,
      billing_details: { address: null, email: null, name: null, phone: null },
      calculated_statement_descriptor: 'KASSA',
      captured: !failure,
      created: now(),
      currency,
      customer: null,
      description: pi.description,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: failure?.code ?? null,
      failure_message: failure?.message ?? null,
      fraud_details: {},
      livemode: false,
      metadata: { ...(pi.metadata as Record<string, string>) },
      on_behalf_of: null,
      outcome: failure
        ? { network_status: 'declined_by_network', reason: failure.declineCode || null, risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' }
        : { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
      paid: !failure,
      payment_intent: pi.id,
      payment_method: paymentMethod,
      payment_method_details: cardDetails(paymentMethod),
      receipt_email: null,
      receipt_number: null,
      receipt_url: null,
      refunded: false,
      review: null,
      shipping: null,
      source: null,
      source_transfer: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: failure ? 'failed' : 'succeeded',
      transfer_data: null,
      transfer_group: null,
    });
    if (!failure) {
      const fee = Math.round((amount * 29) / 1000) + (ZERO_DECIMAL.has(currency) ? 0 : 30);
      const bt = createBalanceTransaction({ amount, fee, currency, type: 'charge', reportingCategory: 'charge', source: charge.id, description: pi.description as string | null });
      charge.balance_transaction = bt.id;
    }
    return charge;
  }

  function createBalanceTransaction(p: { amount: number; fee: number; currency: string; type: string; reportingCategory: string; source: string; description: string | null }): Obj {
    const created = now();
    return store({
      id: newId('txn'),
      object: 'balance_transaction',
      amount: p.amount,
      available_on: created + 2 * 86_400,
      balance_type: 'payments',
      created,
      currency: p.currency,
      description: p.description,
      exchange_rate: null,
      fee: p.fee,
      fee_details: p.fee ? [{ amount: p.fee, application: null, currency: p.currency, description: 'Stripe processing fees', type: 'stripe_fee' }] : [],
      net: p.amount - p.fee,
      reporting_category: p.reportingCategory,
      source: p.source,
      status: 'pending',
      type: p.type,
    });
  }

  /** Confirms a PaymentIntent with a test PaymentMethod; returns the card error when it declines. */
  function confirm(pi: Obj, paymentMethod: string, returnUrl: string | undefined): { declined?: Record<string, unknown>; events: string[] } {
    const card = TEST_CARDS[paymentMethod];
    if (!card) throw new HttpError(400, { type: 'invalid_request_error', code: 'resource_missing', message: `No such PaymentMethod: '${paymentMethod}'`, param: 'payment_method' });
    pi.payment_method = paymentMethod;
    if (card.outcome === 'succeed') {
      succeed(pi, paymentMethod);
      return { events: ['payment_intent.succeeded'] };
    }
    if (card.outcome === 'authenticate') {
      pi.status = 'requires_action';
      pi.next_action = returnUrl
        ? { type: 'redirect_to_url', redirect_to_url: { return_url: returnUrl, url: `${baseUrl}/3ds/${pi.id}` } }
        : { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `${baseUrl}/3ds/${pi.id}` } };
      return { events: ['payment_intent.requires_action'] };
    }
    const error = failAttempt(pi, paymentMethod, card.outcome.decline, card.outcome.code);
    return { declined: error, events: ['payment_intent.payment_failed'] };
  }

  function succeed(pi: Obj, paymentMethod: string): void {
    const charge = createCharge(pi, paymentMethod);
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount, latest_charge: charge.id, last_payment_error: null, next_action: null, payment_method: paymentMethod });
  }

  function failAttempt(pi: Obj, paymentMethod: string, declineCode: string, code = 'card_declined'): Record<string, unknown> {
    const message = DECLINE_MESSAGES[declineCode] ?? DECLINE_MESSAGES[code] ?? 'Your card was declined.';
    const charge = createCharge(pi, paymentMethod, { code, declineCode, message });
    const error: Record<string, unknown> = {
      type: 'card_error',
      code,
      ...(declineCode ? { decline_code: declineCode } : {}),
      message,
      charge: charge.id,
      doc_url: `https://stripe.com/docs/error-codes/${code}`,
      payment_method: { id: paymentMethod, object: 'payment_method', type: 'card', card: cardDetails(paymentMethod).card },
    };
    Object.assign(pi, { status: 'requires_payment_method', latest_charge: charge.id, last_payment_error: error, next_action: null, payment_method: null });
    return error;
  }

  /** The PaymentIntent behind a Checkout Session, created on the first attempt as Stripe does. */
  function intentOfSession(session: Obj): Obj {
    if (typeof session.payment_intent === 'string') return objects.get(session.payment_intent)!;
    const data = (session._payment_intent_data ?? {}) as { metadata?: Record<string, string>; description?: string };
    const pi = createPaymentIntent({
      amount: session.amount_total as number,
      currency: session.currency as string,
      metadata: data.metadata ?? {},
      description: data.description ?? null,
      paymentMethod: null,
    });
    session.payment_intent = pi.id;
    const key = (pi.metadata as Record<string, string>)[RAIL_KEY];
    if (key && !intentByKey.has(key)) intentByKey.set(key, pi.id);
    return pi;
  }

  // ── endpoints ─────────────────────────────────────────────────────────────

  function createCheckoutSession(params: Params): Answer {
    if (params.mode !== 'payment') throw invalid('Only mode=payment is supported by the fake', 'mode');
    const items = params.line_items;
    if (!Array.isArray(items) || items.length !== 1) throw invalid('The fake takes exactly one line item', 'line_items');
    const item = items[0] as { quantity?: string; price_data?: { currency?: string; unit_amount?: string; product_data?: { name?: string } } };
    const currency = item.price_data?.currency;
    const unitAmount = Number(item.price_data?.unit_amount);
    const quantity = Number(item.quantity ?? '1');
    if (!currency || !/^[a-z]{3}$/.test(currency)) throw invalid('Invalid currency', 'line_items[0][price_data][currency]');
    if (!Number.isSafeInteger(unitAmount) || unitAmount < 1) throw invalid('Invalid integer', 'line_items[0][price_data][unit_amount]');
    if (!item.price_data?.product_data?.name) throw invalid('Missing required param: line_items[0][price_data][product_data][name].', 'line_items[0][price_data][product_data][name]');
    if (!Number.isSafeInteger(quantity) || quantity < 1) throw invalid('Invalid integer', 'line_items[0][quantity]');
    if (typeof params.success_url !== 'string' || !/^https?:\/\//.test(params.success_url)) throw invalid('Not a valid URL', 'success_url');
    const metadata = metadataOf(params.metadata);
    const piData = (params.payment_intent_data ?? {}) as { metadata?: unknown; description?: string };
    const created = now();
    const id = newId('cs_test');
    const session = store({
      id,
      object: 'checkout.session',
      adaptive_pricing: null,
      after_expiration: null,
      allow_promotion_codes: null,
      allowed_payment_method_types: ['card'],
      amount_subtotal: unitAmount * quantity,
      amount_total: unitAmount * quantity,
      automatic_tax: { enabled: false, liability: null, status: null },
      billing_address_collection: null,
      cancel_url: typeof params.cancel_url === 'string' ? params.cancel_url : null,
      client_reference_id: typeof params.client_reference_id === 'string' ? params.client_reference_id : null,
      client_secret: null,
      collected_information: null,
      consent: null,
      consent_collection: null,
      created,
      currency,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: null,
      customer_account: null,
      customer_creation: 'if_required',
      customer_details: null,
      customer_email: null,
      discounts: [],
      expires_at: created + CHECKOUT_LIFETIME_SECONDS,
      integration_identifier: null,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: null,
      managed_payments: null,
      metadata,
      mode: 'payment',
      origin_context: null,
      payment_intent: null as string | null,
      payment_link: null,
      payment_method_collection: 'if_required',
      payment_method_configuration_details: null,
      payment_method_options: {},
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      permissions: null,
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      submit_type: null,
      subscription: null,
      success_url: params.success_url,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted',
      url: `${baseUrl}/c/pay/${id}`,
      wallet_options: null,
    });
    Object.defineProperty(session, '_payment_intent_data', {
      value: { metadata: metadataOf(piData.metadata), description: typeof piData.description === 'string' ? piData.description : null },
      enumerable: false,
    });
    const key = metadata[RAIL_KEY] ?? (session.client_reference_id as string | null) ?? undefined;
    if (key) {
      count(executionCount, key);
      if (!sessionByKey.has(key)) sessionByKey.set(key, id);
    }
    if (options.autoPayCheckoutAfterMs !== undefined) {
      const timer = setTimeout(() => {
        heldTimers.delete(timer);
        if (!closed && session.status === 'open') void payObject(session);
      }, options.autoPayCheckoutAfterMs);
      heldTimers.add(timer);
    }
    return { status: 200, body: session, executed: true };
  }

  function createPaymentIntentEndpoint(params: Params, requestContext: RequestContext): Answer {
    const amount = Number(params.amount);
    if (!Number.isSafeInteger(amount) || amount < 1) throw invalid('Invalid integer', 'amount');
    const currency = params.currency;
    if (typeof currency !== 'string' || !/^[a-z]{3}$/.test(currency)) throw invalid('Invalid currency', 'currency');
    const paymentMethod = typeof params.payment_method === 'string' ? params.payment_method : null;
    if (paymentMethod !== null && !TEST_CARDS[paymentMethod]) {
      throw new HttpError(400, { type: 'invalid_request_error', code: 'resource_missing', message: `No such PaymentMethod: '${paymentMethod}'`, param: 'payment_method' });
    }
    const pi = createPaymentIntent({
      amount,
      currency,
      metadata: metadataOf(params.metadata),
      description: typeof params.description === 'string' ? params.description : null,
      paymentMethod,
    });
    const key = (pi.metadata as Record<string, string>)[RAIL_KEY];
    if (key) {
      count(executionCount, key);
      if (!intentByKey.has(key)) intentByKey.set(key, pi.id);
    }
    if (params.confirm === 'true' && paymentMethod) {
      const result = confirm(pi, paymentMethod, typeof params.return_url === 'string' ? params.return_url : undefined);
      emit(result.events, pi, requestContext);
      if (result.declined) {
        return { status: 402, body: { error: { ...result.declined, payment_intent: snapshot(pi) } }, executed: true };
      }
    }
    return { status: 200, body: pi, executed: true };
  }

  function createRefund(params: Params, requestContext: RequestContext): Answer {
    let pi: Obj | undefined;
    if (typeof params.payment_intent === 'string') pi = get(params.payment_intent, 'payment_intent', 'payment_intent');
    else if (typeof params.charge === 'string') {
      const ch = get(params.charge, 'charge', 'charge');
      pi = objects.get(ch.payment_intent as string);
    } else throw invalid('Must provide one of charge or payment_intent.', 'payment_intent');
    if (!pi || pi.status !== 'succeeded' || typeof pi.latest_charge !== 'string') {
      throw new HttpError(400, { type: 'invalid_request_error', code: 'charge_not_refundable', message: `This PaymentIntent (${pi?.id}) does not have a successful charge to refund.` });
    }
    const charge = objects.get(pi.latest_charge)!;
    const remaining = (charge.amount as number) - (charge.amount_refunded as number);
    if (remaining <= 0) {
      throw new HttpError(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${charge.id} has already been refunded.` });
    }
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (!Number.isSafeInteger(amount) || amount < 1) throw invalid('Invalid integer', 'amount');
    if (amount > remaining) {
      throw new HttpError(400, { type: 'invalid_request_error', code: 'amount_too_large', message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, param: 'amount' });
    }
    const metadata = metadataOf(params.metadata);
    const refund = store({
      id: newId('re'),
      object: 'refund',
      amount,
      balance_transaction: null as string | null,
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      customer: null,
      customer_account: null,
      destination_details: { type: 'card', card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } },
      metadata,
      payment_intent: pi.id,
      payment_method: charge.payment_method,
      reason: typeof params.reason === 'string' ? params.reason : null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    });
    const bt = createBalanceTransaction({ amount: -amount, fee: 0, currency: charge.currency as string, type: 'refund', reportingCategory: 'refund', source: refund.id, description: 'REFUND FOR CHARGE' });
    refund.balance_transaction = bt.id;
    charge.amount_refunded = (charge.amount_refunded as number) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    count(refundExecutionCount, metadata[REFUND_KEY]);
    emit(['refund.created'], refund, requestContext);
    emit(['charge.refunded'], charge, requestContext);
    return { status: 200, body: refund, executed: true };
  }

  function list(items: Obj[], params: Params, url: string): Record<string, unknown> {
    const limit = params.limit === undefined ? 10 : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('Invalid integer: limit must be between 1 and 100', 'limit');
    const sorted = items.sort((a, b) => (b.created as number) - (a.created as number) || sequence.get(b.id)! - sequence.get(a.id)!);
    let start = 0;
    if (typeof params.starting_after === 'string') {
      const index = sorted.findIndex((o) => o.id === params.starting_after);
      if (index < 0) throw new HttpError(400, { type: 'invalid_request_error', code: 'resource_missing', message: `No such object: '${params.starting_after}'`, param: 'starting_after' });
      start = index + 1;
    }
    const data = sorted.slice(start, start + limit);
    return { object: 'list', data, has_more: start + limit < sorted.length, url };
  }

  function createdFilter(params: Params): (o: Obj) => boolean {
    const created = params.created;
    if (created === undefined) return () => true;
    if (typeof created === 'string') return (o) => o.created === Number(created);
    const range = created as Record<string, string>;
    const bound = (name: string) => (range[name] === undefined ? undefined : Number(range[name]));
    const [gte, gt, lte, lt] = [bound('gte'), bound('gt'), bound('lte'), bound('lt')];
    return (o) => {
      const c = o.created as number;
      return (gte === undefined || c >= gte) && (gt === undefined || c > gt) && (lte === undefined || c <= lte) && (lt === undefined || c < lt);
    };
  }

  function ofType(object: string): Obj[] {
    return [...objects.values()].filter((o) => o.object === object);
  }

  function searchPaymentIntents(params: Params): Record<string, unknown> {
    if (typeof params.query !== 'string' || params.query.trim() === '') throw invalid('Missing required param: query.', 'query');
    const clauses = params.query.split(/\s+AND\s+/);
    const tests = clauses.map((clause) => {
      const metadata = /^metadata\[(['"])(.+?)\1\]:(['"])((?:\\.|(?!\3).)*)\3$/.exec(clause.trim());
      if (metadata) {
        const [, , key, , raw] = metadata;
        const value = raw!.replace(/\\(.)/g, '$1');
        return (o: Obj) => (o.metadata as Record<string, string>)[key!] === value;
      }
      const status = /^status:(['"])(\w+)\1$/.exec(clause.trim());
      if (status) return (o: Obj) => o.status === status[2];
      throw invalid(`The fake cannot parse the search clause ${clause}`, 'query');
    });
    const limit = params.limit === undefined ? 10 : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('Invalid integer: limit must be between 1 and 100', 'limit');
    const matches = ofType('payment_intent')
      .filter((o) => tests.every((t) => t(o)))
      .sort((a, b) => (b.created as number) - (a.created as number) || sequence.get(b.id)! - sequence.get(a.id)!);
    const offset = typeof params.page === 'string' ? Number(Buffer.from(params.page, 'base64url').toString()) || 0 : 0;
    const data = matches.slice(offset, offset + limit);
    const hasMore = offset + limit < matches.length;
    return {
      object: 'search_result',
      data,
      has_more: hasMore,
      next_page: hasMore ? Buffer.from(String(offset + limit)).toString('base64url') : null,
      url: '/v1/payment_intents/search',
      total_count: matches.length,
    };
  }

  function route(method: string, path: string, params: Params, context: RequestContext): Answer {
    const ok = (body: unknown): Answer => ({ status: 200, body, executed: true });
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/checkout/sessions') return createCheckoutSession(params);
    if (method === 'GET' && path === '/v1/checkout/sessions') {
      const filter = createdFilter(params);
      const items = ofType('checkout.session').filter(
        (s) =>
          filter(s) &&
          (params.payment_intent === undefined || s.payment_intent === params.payment_intent) &&
          (params.status === undefined || s.status === params.status),
      );
      return ok(list(items, params, '/v1/checkout/sessions'));
    }
    if ((m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path)) && method === 'GET') return ok(get(m[1]!, 'checkout.session', 'session'));
    if ((m = /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/.exec(path)) && method === 'POST') {
      const session = get(m[1]!, 'checkout.session', 'session');
      if (session.status !== 'open') throw invalid(`Only Checkout Sessions with a status of open can be expired.`, 'session');
      expireObject(session, context);
      return ok(session);
    }
    if (method === 'POST' && path === '/v1/payment_intents') return createPaymentIntentEndpoint(params, context);
    if (method === 'GET' && path === '/v1/payment_intents/search') return ok(searchPaymentIntents(params));
    if ((m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path)) && method === 'GET') return ok(get(m[1]!, 'payment_intent', 'intent'));
    if (method === 'POST' && path === '/v1/refunds') return createRefund(params, context);
    if (method === 'GET' && path === '/v1/refunds') {
      const items = ofType('refund').filter(
        (r) => (params.charge === undefined || r.charge === params.charge) && (params.payment_intent === undefined || r.payment_intent === params.payment_intent),
      );
      return ok(list(items, params, '/v1/refunds'));
    }
    if ((m = /^\/v1\/refunds\/([^/]+)$/.exec(path)) && method === 'GET') return ok(get(m[1]!, 'refund', 'refund'));
    if ((m = /^\/v1\/charges\/([^/]+)$/.exec(path)) && method === 'GET') return ok(get(m[1]!, 'charge', 'charge'));
    if (method === 'GET' && path === '/v1/balance_transactions') {
      const filter = createdFilter(params);
      const items = ofType('balance_transaction').filter(
        (t) => filter(t) && (params.type === undefined || t.type === params.type) && (params.source === undefined || t.source === params.source),
      );
      return ok(list(items, params, '/v1/balance_transactions'));
    }
    if ((m = /^\/v1\/balance_transactions\/([^/]+)$/.exec(path)) && method === 'GET') return ok(get(m[1]!, 'balance_transaction', 'id'));
    throw new HttpError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    });
  }

  // ── citizen actions and events ────────────────────────────────────────────

  interface RequestContext {
    readonly requestId: string | null;
    readonly idempotencyKey: string | null;
    readonly apiVersion: string;
  }
  const internalContext = (): RequestContext => ({ requestId: null, idempotencyKey: null, apiVersion: Stripe.API_VERSION });

  function payObject(target: Obj): Promise<readonly Stripe.Event[]> {
    const context = internalContext();
    if (target.object === 'checkout.session') {
      const pi = intentOfSession(target);
      succeed(pi, 'pm_card_visa');
      Object.assign(target, { status: 'complete', payment_status: 'paid', url: null, customer_details: { email: 'citizen@example.org', name: null, address: null, phone: null, tax_exempt: 'none', tax_ids: [] } });
      return deliverAll([...emit(['payment_intent.succeeded'], pi, context), ...emit(['checkout.session.completed'], target, context)]);
    }
    succeed(target, (target.payment_method as string | null) ?? 'pm_card_visa');
    return deliverAll(emit(['payment_intent.succeeded'], target, context));
  }

  function expireObject(session: Obj, context: RequestContext): Stripe.Event[] {
    const events: Stripe.Event[] = [];
    if (typeof session.payment_intent === 'string') {
      const pi = objects.get(session.payment_intent)!;
      Object.assign(pi, { status: 'canceled', canceled_at: now(), cancellation_reason: 'abandoned', next_action: null });
      events.push(...emit(['payment_intent.canceled'], pi, context));
    }
    Object.assign(session, { status: 'expired', url: null });
    events.push(...emit(['checkout.session.expired'], session, context));
    return events;
  }

  /** The open Checkout Session, or the PaymentIntent awaiting the citizen, under a rail key. */
  function payable(railKey: string): Obj {
    const sessionId = sessionByKey.get(railKey);
    const session = sessionId ? objects.get(sessionId) : undefined;
    if (session?.status === 'open') return session;
    const intentId = intentByKey.get(railKey);
    const pi = intentId ? objects.get(intentId) : undefined;
    if (pi && !session && (pi.status === 'requires_action' || pi.status === 'requires_payment_method' || pi.status === 'requires_confirmation')) return pi;
    throw new Error(`fake stripe: nothing under ${railKey} is waiting for the payer (${session ? `session ${session.status}` : pi ? `payment intent ${pi.status}` : 'unknown key'})`);
  }

  function emit(types: readonly string[], object: Obj, context: RequestContext): Stripe.Event[] {
    return types.map((type) => {
      const event = {
        id: newId('evt'),
        object: 'event',
        api_version: context.apiVersion,
        created: now(),
        data: { object: snapshot(object) },
        livemode: false,
        pending_webhooks: webhookUrl ? 1 : 0,
        request: { id: context.requestId, idempotency_key: context.idempotencyKey },
        type,
      } as unknown as Stripe.Event;
      const record: FakeStripeEventRecord = { event, delivery: webhookUrl ? 'pending' : 'not_sent' };
      eventLog.push(record);
      if (webhookUrl) enqueue(record, webhookUrl);
      return event;
    });
  }

  function enqueue(record: FakeStripeEventRecord, url: string): Promise<void> {
    const delivery = webhookQueue.then(() => deliver(record, url));
    webhookQueue = delivery;
    return delivery;
  }

  async function deliver(record: FakeStripeEventRecord, url: string): Promise<void> {
    if (closed) return;
    const payload = JSON.stringify(record.event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        body: payload,
        signal: AbortSignal.any([deliveries.signal, AbortSignal.timeout(10_000)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      record.delivery = response.status;
    } catch {
      record.delivery = 'error';
    }
  }

  async function deliverAll(events: readonly Stripe.Event[]): Promise<readonly Stripe.Event[]> {
    await webhookQueue;
    return events;
  }

  // ── expansion and serialisation ───────────────────────────────────────────

  function snapshot<T>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
  }

  function expandInto(target: Record<string, unknown>, path: readonly string[]): void {
    const [head, ...rest] = path;
    if (head === undefined) return;
    if (head === 'data' && Array.isArray(target.data)) {
      for (const item of target.data) if (item && typeof item === 'object') expandInto(item as Record<string, unknown>, rest);
      return;
    }
    let value = target[head];
    if (typeof value === 'string' && objects.has(value)) {
      value = snapshot(objects.get(value));
      target[head] = value;
    }
    if (value && typeof value === 'object' && rest.length > 0) expandInto(value as Record<string, unknown>, rest);
  }

  function render(body: unknown, params: Params): unknown {
    const copy = snapshot(body);
    const expand = params.expand;
    if (Array.isArray(expand) && copy && typeof copy === 'object') {
      for (const path of expand) if (typeof path === 'string') expandInto(copy as Record<string, unknown>, path.split('.'));
    }
    return copy;
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(body, null, 2);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'request-id': `req_${randomBytes(7).toString('hex')}`, ...headers });
    res.end(text);
  }

  function answerLater(res: ServerResponse, delayMs: number, answer: () => void): void {
    const timer = setTimeout(() => {
      heldTimers.delete(timer);
      answer();
    }, delayMs);
    heldTimers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      heldTimers.delete(timer);
    });
  }

  function authorised(req: IncomingMessage): { ok: true; key: string } | { ok: false; message: string } {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) return { ok: false, message: 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').' };
    const key = match[1]!;
    const accepted = options.apiKey !== undefined ? key === options.apiKey : /^(sk|rk)_test_\w+$/.test(key);
    if (!accepted) return { ok: false, message: `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(8)}${key.slice(-4)}` };
    return { ok: true, key };
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, { type: 'invalid_request_error', message: 'Request body too large.' });
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname.startsWith('/c/pay/')) {
      const id = url.pathname.slice('/c/pay/'.length);
      const session = objects.get(id);
      res.writeHead(session ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(session ? `<!doctype html><title>Fake Stripe Checkout</title><p>Checkout Session ${id}: ${String(session.status)}</p>` : '<!doctype html><p>Not found</p>');
      return;
    }
    if (!url.pathname.startsWith('/v1/')) {
      send(res, 404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${url.pathname}).` } });
      return;
    }
    const body = method === 'POST' ? await readBody(req) : '';
    const b = behaviour;
    if (b.mode === 'down') {
      send(res, 503, { error: { type: 'api_error', message: 'The Stripe API is temporarily unavailable (fake: down).' } });
      return;
    }
    if (b.mode === 'rate_limited') {
      send(res, 429, { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly (fake: rate_limited).', doc_url: 'https://stripe.com/docs/error-codes/rate-limit' } });
      return;
    }
    const auth = authorised(req);
    if (!auth.ok) {
      send(res, 401, { error: { type: 'invalid_request_error', message: auth.message } });
      return;
    }
    const params = method === 'POST' ? parseForm(body) : parseForm(url.search.slice(1));
    const idempotencyKey = method === 'POST' ? headerValue(req.headers['idempotency-key']) : undefined;
    const context: RequestContext = {
      requestId: `req_${randomBytes(7).toString('hex')}`,
      idempotencyKey: idempotencyKey ?? null,
      apiVersion: headerValue(req.headers['stripe-version']) ?? Stripe.API_VERSION,
    };
    if (method === 'POST') {
      const named = (params.metadata as Record<string, unknown> | undefined)?.[RAIL_KEY] ?? params.client_reference_id;
      if (url.pathname !== '/v1/refunds') count(requestCounts, named);
    }

    let status: number;
    let answer: unknown;
    let headers: Record<string, string> = {};
    const endpoint = `${method} ${url.pathname}`;
    const fingerprint = canonical({ ...params, expand: undefined });
    const storeKey = idempotencyKey !== undefined ? `${auth.key}\u0000${idempotencyKey}` : undefined;
    const stored = storeKey !== undefined ? idempotency.get(storeKey) : undefined;
    if (stored) {
      if (stored.endpoint !== endpoint || stored.fingerprint !== fingerprint) {
        status = 400;
        answer = {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        };
      } else {
        status = stored.status;
        answer = status === 200 ? render(stored.body, params) : stored.body;
        headers = { 'idempotent-replayed': 'true', 'idempotency-key': idempotencyKey! };
      }
    } else {
      try {
        const result = route(method, url.pathname, params, context);
        status = result.status;
        answer = status === 200 ? render(result.body, params) : result.body;
        if (storeKey !== undefined && result.executed) {
          idempotency.set(storeKey, { endpoint, fingerprint, status, body: status === 200 ? snapshot(result.body) : result.body });
        }
        if (idempotencyKey !== undefined) headers = { 'idempotency-key': idempotencyKey };
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        status = error.status;
        answer = { error: error.error };
      }
    }
    if (b.mode === 'timeout' && method === 'POST') {
      const delay = b.delayMs ?? DEFAULT_TIMEOUT_DELAY_MS;
      answerLater(res, delay, () => send(res, status, answer, headers));
      return;
    }
    send(res, status, answer, headers);
  }

  const listening = await startSimulatorServer(
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (error instanceof HttpError) send(res, error.status, { error: error.error });
        else send(res, 500, { error: { type: 'api_error', message: 'An unknown error occurred in the fake.' } });
      });
    },
    { port: options.port, host },
  );
  baseUrl = listening.url;
  const address = new URL(listening.url);

  let closing: Promise<void> | undefined;
  const byKey = (map: Map<string, string>, railKey: string) => {
    const id = map.get(railKey);
    const obj = id ? objects.get(id) : undefined;
    return obj ? snapshot(obj) : undefined;
  };

  return {
    url: baseUrl,
    host: address.hostname.replace(/^\[|\]$/g, ''),
    port: Number(address.port),
    webhookSecret,
    setBehaviour(next) {
      if (!['normal', 'down', 'timeout', 'rate_limited'].includes(next.mode)) throw new Error(`fake stripe: unknown mode ${String(next.mode)}`);
      behaviour = next;
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    pay: async (railKey) => payObject(payable(railKey)),
    async decline(railKey, declineCode = 'generic_decline') {
      const target = payable(railKey);
      const pi = target.object === 'checkout.session' ? intentOfSession(target) : target;
      const code = ['expired_card', 'incorrect_cvc', 'processing_error', 'incorrect_number'].includes(declineCode) ? declineCode : 'card_declined';
      failAttempt(pi, 'pm_card_chargeDeclined', declineCode, code);
      return deliverAll(emit(['payment_intent.payment_failed'], pi, internalContext()));
    },
    async expire(railKey) {
      const sessionId = sessionByKey.get(railKey);
      const session = sessionId ? objects.get(sessionId) : undefined;
      if (!session || session.status !== 'open') throw new Error(`fake stripe: no open Checkout Session under ${railKey}`);
      return deliverAll(expireObject(session, internalContext()));
    },
    async redeliver(eventId) {
      const record = eventLog.find((r) => r.event.id === eventId);
      if (!record) throw new Error(`fake stripe: no event ${eventId}`);
      if (!webhookUrl) throw new Error('fake stripe: no webhook URL to deliver to');
      await enqueue(record, webhookUrl);
    },
    flushWebhooks: () => webhookQueue,
    events: () => eventLog.slice(),
    checkoutSession: (railKey) => byKey(sessionByKey, railKey) as Stripe.Checkout.Session | undefined,
    paymentIntent: (railKey) => byKey(intentByKey, railKey) as Stripe.PaymentIntent | undefined,
    executions: (railKey) => executionCount.get(railKey) ?? 0,
    executionCounts: () => new Map(executionCount),
    requestCount: (railKey) => requestCounts.get(railKey) ?? 0,
    refundExecutions: (refundKey) => refundExecutionCount.get(refundKey) ?? 0,
    reset() {
      for (const map of [objects, sessionByKey, intentByKey, sequence, idempotency, executionCount, requestCounts, refundExecutionCount] as Map<string, unknown>[]) map.clear();
      eventLog.length = 0;
      behaviour = { mode: 'normal' };
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        deliveries.abort();
        for (const timer of heldTimers) clearTimeout(timer);
        heldTimers.clear();
        void listening.stop().then(resolve);
      });
      return closing;
    },
  };
}

function invalid(message: string, param: string): HttpError {
  return new HttpError(400, { type: 'invalid_request_error', code: 'parameter_invalid', message, param });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Stable JSON with sorted keys, for comparing request parameters. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Decodes Stripe's form encoding (`a[b][0][c]=v`, as the SDK writes bodies and GET query strings)
 * into nested objects; objects whose keys are all indexes become arrays. Values stay strings.
 */
export function parseForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
    if (!match) continue;
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    if (path.some((segment) => FORBIDDEN_KEYS.has(segment))) continue;
    let node = root;
    for (let i = 0; i < path.length; i++) {
      let segment = path[i]!;
      if (segment === '') segment = String(Object.keys(node).length); // a[]=x appends
      if (i === path.length - 1) {
        node[segment] = value;
      } else {
        const next = node[segment];
        if (next === null || typeof next !== 'object') node[segment] = {};
        node = node[segment] as Record<string, unknown>;
      }
    }
  }
  return arraysOf(root) as Record<string, unknown>;
}

function arraysOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (const k of keys) record[k] = arraysOf(record[k]);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.map(Number).sort((a, b) => a - b).map((i) => record[String(i)]);
  }
  return record;
}
