import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Stripe from 'stripe';
import type { Money } from '../../src/domain/money.ts';
import {
  RailCallbackRejected,
  RailError,
  type RailAdapter,
  type RailCallbackRequest,
  type RailCapabilities,
  type RailNotification,
  type RailOutcome,
  type RailPayment,
  type RailStatementEntry,
  type RailStatus,
} from '../contract.ts';
import { fromStripeAmount, toStripeAmount } from './currency.ts';
import { declineReason, decisionFor, failureOf, refundFailureReason } from './error-decisions.ts';
import { sdkAddressOf, StripeOptionsSchema, type StripeOptions, type StripeOptionsInput } from './options.ts';
import { singleHeader } from '../http-failure.ts';

/**
 * Card collection of fees through Stripe, with the official SDK.
 *
 * Initiation, per payment (one Stripe request each, idempotency key = the rail key, so a retry
 * under the same key is answered with the first result instead of a second charge):
 * - payer value `pm_…` (a PaymentMethod the e-service already holds): a PaymentIntent created and
 *   confirmed in one request → completed / failed with the decline / pending (3-D Secure, with a
 *   redirect next action when `successUrl` can serve as return_url);
 * - anything else: a Checkout Session (a payment link) → pending with nextAction redirect to
 *   `session.url`; the e-service hands the link to the citizen and the outcome arrives by webhook
 *   (or a status inquiry). A declined card on the Checkout page is NOT final — the citizen may try
 *   another card until the session expires (Stripe's default, 24 h) — so it stays pending; the
 *   payment fails when the session expires, with the last decline's reason (or NOAS, no answer).
 *
 * References: a pending Checkout payment carries the Checkout Session id (cs_…); a completed or
 * declined payment carries the PaymentIntent id (pi_…), which refunds and balance transactions
 * refer to. Every object carries metadata.kassa_rail_key (Checkout also client_reference_id).
 *
 * Amounts: Money.minor is in ISO 4217 minor units and goes to Stripe as `amount` as is, except
 * where Stripe's units differ from ISO (see ./currency.ts).
 *
 * Statements (fetchStatement): balance transactions created in [from 00:00Z, to + 1 day 00:00Z),
 * both dates inclusive, in Stripe's settlement currency. A payment is a credit of its gross amount
 * (railKey, railReference = pi_…); its Stripe fee is a SEPARATE debit entry without railKey
 * (railReference = the balance transaction id txn_…, counterparty "Stripe fee"), so that a day's
 * entries sum to what Stripe pays out. A refund is a reversal debit (railKey of the payment,
 * railReference = re_…).
 *
 * Webhooks (parseCallback) are verified with stripe.webhooks.constructEvent on the raw body.
 * payment_intent.succeeded / .payment_failed / .canceled / .processing / .requires_action and
 * checkout.session.completed / .expired notify the payment (keyed by its rail key) with its outcome
 * read back from Stripe (one or two API calls), so it equals what getStatus says; charge.refunded
 * and refund.created / .updated / .failed notify each Kassa refund, keyed by its REFUND key
 * (metadata.kassa_refund_key). Other events, and objects Kassa did not create, give [].
 */

const RAIL_KEY = 'kassa_rail_key';
const REFUND_KEY = 'kassa_refund_key';
const FLOW = 'kassa_flow';
type Flow = 'checkout' | 'payment_method';

const MAX_CHUNK_SIZE = 25;
/** Checkout Sessions live 24 h by default (Kassa does not set expires_at: it would make retried requests differ). */
const CHECKOUT_LOOKBACK_SECONDS = 25 * 3600;
const KNOWN_KEYS_LIMIT = 10_000;
const PAYMENT_METHOD_ID = /^pm_[A-Za-z0-9_]+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const PI_EXPAND = ['latest_charge.balance_transaction'];
const SESSION_EXPAND = ['payment_intent', 'payment_intent.latest_charge.balance_transaction'];

interface KnownObjects {
  sessionId?: string;
  paymentIntentId?: string;
}

/** What Stripe holds for a rail key. */
interface FoundPayment {
  readonly session?: Stripe.Checkout.Session;
  readonly paymentIntent?: Stripe.PaymentIntent;
}

export class StripeRailAdapter implements RailAdapter {
  static readonly id = 'stripe';
  readonly id = StripeRailAdapter.id;
  readonly capabilities: RailCapabilities = Object.freeze({
    directions: Object.freeze(['collection'] as const),
    partyTypes: Object.freeze(['card'] as const),
    currencies: Object.freeze(['*']),
    bulk: false,
    maxChunkSize: MAX_CHUNK_SIZE,
    callbacks: true,
    refunds: true,
    statements: true,
  });

  private readonly options: StripeOptions;
  private readonly stripe: Stripe;
  private readonly agent: HttpAgent | HttpsAgent;
  private closed = false;
  /** rail key → Stripe ids seen by this process; saves searches (other processes fall back to them). */
  private readonly known = new Map<string, KnownObjects>();

  constructor(options: StripeOptionsInput) {
    const parsed = StripeOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
      throw new Error(`StripeRailAdapter: invalid option ${detail}`);
    }
    this.options = parsed.data;
    const address = sdkAddressOf(this.options.apiBase);
    this.agent = address?.protocol === 'http' ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
    this.stripe = new Stripe(this.options.apiKey, {
      maxNetworkRetries: this.options.maxNetworkRetries,
      timeout: this.options.timeoutMs,
      httpAgent: this.agent,
      telemetry: false,
      appInfo: { name: 'Kassa' },
      ...(address ?? {}),
    });
  }

  // ── initiation ────────────────────────────────────────────────────────────

  /**
   * Sends the payments with bounded concurrency, one Stripe request each. When Stripe is
   * unavailable or throttling, payments not yet sent are not sent and carry the same decision;
   * when every payment failed with a RailError, the whole call throws the first one.
   */
  async initiateChunk(payments: readonly RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>> {
    this.ensureOpen();
    const outcomes = new Map<string, RailOutcome | RailError>();
    if (payments.length === 0) return outcomes;
    for (const p of payments) {
      if (p.kind !== 'fee') throw new Error(`stripe rail: ${p.railKey} is a ${p.kind}; Stripe only collects fees`);
      if (p.payer.type !== 'card') throw new Error(`stripe rail: ${p.railKey} has a ${p.payer.type} payer; Stripe takes cards`);
    }

    const results = new Array<RailOutcome | RailError | undefined>(payments.length);
    let stoppedBy: RailError | undefined;
    let bug: unknown;
    let next = 0;
    const worker = async () => {
      while (next < payments.length && bug === undefined) {
        const index = next++;
        const payment = payments[index]!;
        if (stoppedBy) {
          results[index] = new RailError(stoppedBy.decision, `not sent: ${stoppedBy.message}`, stoppedBy.railCode);
          continue;
        }
        try {
          const result = await this.initiateOne(payment);
          results[index] = result;
          if (result instanceof RailError && (result.decision === 'unavailable' || result.decision === 'retry')) stoppedBy ??= result;
        } catch (error) {
          bug ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.requestConcurrency, payments.length) }, worker));
    if (bug !== undefined) throw bug;

    payments.forEach((p, i) => outcomes.set(p.railKey, results[i]!));
    const values = [...outcomes.values()];
    if (values.every((v) => v instanceof RailError)) throw values[0];
    return outcomes;
  }

  private async initiateOne(p: RailPayment): Promise<RailOutcome | RailError> {
    const amount = toStripeAmount(p.amount);
    if (!amount.ok) {
      const unknownCurrency = /currency/.test(amount.reason);
      return { status: 'failed', reasonCode: unknownCurrency ? 'AM11' : 'AM12', reason: amount.reason };
    }
    const description = p.reference.trim() || `Payment ${p.railKey}`;
    try {
      if (PAYMENT_METHOD_ID.test(p.payer.value)) {
        const pi = await this.stripe.paymentIntents.create(
          {
            amount: amount.amount,
            currency: amount.currency,
            payment_method: p.payer.value,
            allowed_payment_method_types: ['card'],
            confirm: true,
            return_url: this.options.successUrl,
            description,
            metadata: { [RAIL_KEY]: p.railKey, [FLOW]: 'payment_method' satisfies Flow },
            expand: PI_EXPAND,
          },
          { idempotencyKey: p.railKey },
        );
        this.remember(p.railKey, { paymentIntentId: pi.id });
        return outcomeOfPaymentIntent(pi);
      }
      const session = await this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency: amount.currency, unit_amount: amount.amount, product_data: { name: description } } }],
          allowed_payment_method_types: ['card'],
          client_reference_id: p.railKey,
          metadata: { [RAIL_KEY]: p.railKey },
          payment_intent_data: { description, metadata: { [RAIL_KEY]: p.railKey, [FLOW]: 'checkout' satisfies Flow } },
          success_url: this.options.successUrl,
          cancel_url: this.options.cancelUrl,
        },
        { idempotencyKey: p.railKey },
      );
      this.remember(p.railKey, { sessionId: session.id });
      return outcomeOfSession(session, undefined);
    } catch (error) {
      return this.initiationFailure(error, p);
    }
  }

  private async initiationFailure(error: unknown, p: RailPayment): Promise<RailOutcome | RailError> {
    const failure = failureOf(error);
    if (!failure || this.closed) return this.railErrorOrThrow(error);
    const decision = decisionFor(failure);
    switch (decision.kind) {
      case 'declined': {
        const pi = (error as { payment_intent?: Stripe.PaymentIntent }).payment_intent;
        if (pi?.id) this.remember(p.railKey, { paymentIntentId: pi.id });
        const failed = { status: 'failed', reasonCode: decision.reasonCode, reason: decision.reason } as const;
        return pi?.id ? { ...failed, railReference: pi.id } : failed;
      }
      case 'duplicate_key': {
        // The key was used with other parameters (a changed setting, say). The first request may
        // have been paid: answer what Stripe holds under the key; DU05 only when it holds nothing.
        const status = await this.getStatus(p.railKey).catch((e: unknown) => (e instanceof RailError ? e : Promise.reject(e)));
        if (status instanceof RailError || status.status !== 'not_found') return status;
        return { status: 'failed', reasonCode: 'DU05', reason: 'duplicate rail key: Stripe saw this key with different request parameters' };
      }
      default:
        return this.railErrorOrThrow(error);
    }
  }

  /** A payment's own RailError; bugs (and non-Stripe errors) fail the whole call. */
  private railErrorOrThrow(error: unknown): RailError {
    const converted = this.toRailError(error, 'payment request');
    if (converted instanceof RailError) return converted;
    throw converted;
  }

  // ── status ────────────────────────────────────────────────────────────────

  async getStatus(railKey: string): Promise<RailStatus> {
    this.ensureOpen();
    const found = await this.call('status inquiry', () => this.findPayment(railKey));
    return found ? outcomeOfFound(found) : { status: 'not_found' };
  }

  /**
   * Finds what Stripe holds for a rail key: ids this process remembers; else the PaymentIntent by
   * metadata (Search; Stripe's index can lag up to a minute behind); else a Checkout Session not
   * yet attempted, by client_reference_id among the sessions of the last 25 hours (which is every
   * session that can still be paid). undefined when Stripe has nothing under the key.
   */
  private async findPayment(railKey: string): Promise<FoundPayment | undefined> {
    const known = this.known.get(railKey);
    if (known?.sessionId) {
      return this.withSession(await this.stripe.checkout.sessions.retrieve(known.sessionId, { expand: SESSION_EXPAND }));
    }
    if (known?.paymentIntentId) return this.foundFromPaymentIntent(known.paymentIntentId);

    const search = await this.stripe.paymentIntents.search({
      query: `metadata['${RAIL_KEY}']:'${escapeSearchValue(railKey)}'`,
      limit: 20,
      expand: PI_EXPAND.map((path) => `data.${path}`),
    });
    const intents = search.data.filter((pi) => pi.metadata?.[RAIL_KEY] === railKey);
    const pi = intents.find((i) => i.status === 'succeeded') ?? intents.sort((a, b) => b.created - a.created)[0];
    if (pi) {
      if (flowOf(pi) === 'checkout') {
        const found = await this.sessionOfPaymentIntent(pi);
        if (found) return found;
      }
      this.remember(railKey, { paymentIntentId: pi.id });
      return { paymentIntent: pi };
    }

    const since = Math.floor(Date.now() / 1000) - CHECKOUT_LOOKBACK_SECONDS;
    let match: Stripe.Checkout.Session | undefined;
    for await (const session of this.stripe.checkout.sessions.list({ created: { gte: since }, limit: 100 })) {
      const key = session.client_reference_id ?? session.metadata?.[RAIL_KEY];
      if (key) this.remember(key, { sessionId: session.id }); // warms the cache for every key on the page
      if (key === railKey) {
        match = session;
        break;
      }
    }
    if (!match) return undefined;
    return this.withSession(await this.stripe.checkout.sessions.retrieve(match.id, { expand: SESSION_EXPAND }));
  }

  /** The current state behind a PaymentIntent id: for a Checkout payment, its session decides. */
  private async foundFromPaymentIntent(id: string): Promise<FoundPayment> {
    const pi = await this.stripe.paymentIntents.retrieve(id, { expand: PI_EXPAND });
    return flowOf(pi) === 'checkout' ? ((await this.sessionOfPaymentIntent(pi)) ?? { paymentIntent: pi }) : { paymentIntent: pi };
  }

  private async sessionOfPaymentIntent(pi: Stripe.PaymentIntent): Promise<FoundPayment | undefined> {
    const sessions = await this.stripe.checkout.sessions.list({ payment_intent: pi.id, limit: 1 });
    const session = sessions.data[0];
    if (!session) return undefined;
    const key = session.client_reference_id ?? pi.metadata?.[RAIL_KEY];
    if (key) this.remember(key, { sessionId: session.id, paymentIntentId: pi.id });
    return { session, paymentIntent: pi };
  }

  private withSession(session: Stripe.Checkout.Session): FoundPayment {
    const pi = typeof session.payment_intent === 'object' && session.payment_intent !== null ? session.payment_intent : undefined;
    return pi ? { session, paymentIntent: pi } : { session };
  }

  // ── webhooks ──────────────────────────────────────────────────────────────

  async parseCallback(request: RailCallbackRequest): Promise<readonly RailNotification[]> {
    this.ensureOpen();
    const header = singleHeader(request.headers, 'stripe-signature');
    if (header === undefined) throw new RailCallbackRejected('Stripe webhook without exactly one Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(request.rawBody, header, this.options.webhookSecret);
    } catch (error) {
      throw new RailCallbackRejected(`Stripe webhook rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (event === null || typeof event !== 'object' || typeof event.type !== 'string' || !event.data?.object) {
      throw new RailCallbackRejected('Stripe webhook is not an event');
    }

    switch (event.type) {
      // Payment events are triggers: once the signature holds, the outcome is read from Stripe's
      // current state, exactly as a status inquiry reads it (so both always agree, the fee included,
      // and an event arriving late or out of order cannot report a stale state).
      case 'payment_intent.succeeded':
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled':
      case 'payment_intent.processing':
      case 'payment_intent.requires_action': {
        const pi = event.data.object;
        const railKey = pi.metadata?.[RAIL_KEY];
        if (!railKey) return [];
        this.remember(railKey, { paymentIntentId: pi.id });
        const found = await this.call('webhook lookup', () => this.foundFromPaymentIntent(pi.id));
        return [{ railKey, outcome: outcomeOfFound(found) }];
      }
      case 'checkout.session.completed':
      case 'checkout.session.expired': {
        const session = event.data.object;
        const railKey = session.client_reference_id ?? session.metadata?.[RAIL_KEY];
        if (!railKey) return [];
        this.remember(railKey, { sessionId: session.id });
        const found = await this.call('webhook lookup', async () =>
          this.withSession(await this.stripe.checkout.sessions.retrieve(session.id, { expand: SESSION_EXPAND })),
        );
        return [{ railKey, outcome: outcomeOfFound(found) }];
      }
      case 'charge.refunded': {
        // The charge may not list its refunds (it does not in current API versions): ask for them.
        const charge = event.data.object;
        const refunds = await this.call('webhook lookup', async () => {
          const list: Stripe.Refund[] = [];
          for await (const refund of this.stripe.refunds.list({ charge: charge.id, limit: 100 })) list.push(refund);
          return list;
        });
        return refunds.flatMap((refund) => refundNotification(refund));
      }
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed':
        return refundNotification(event.data.object);
      default:
        return [];
    }
  }

  // ── refunds ───────────────────────────────────────────────────────────────

  async refund(railKey: string, amount: Money, refundKey: string): Promise<RailOutcome> {
    this.ensureOpen();
    const found = await this.call('refund lookup', () => this.findPayment(railKey));
    if (!found) {
      // Stripe Search can lag behind a fresh payment (up to a minute): worth asking again later.
      throw new RailError('retry', `stripe refund: Stripe has no payment under rail key ${railKey} (yet)`, 'payment_not_found');
    }
    const pi = found.paymentIntent;
    if (!pi) throw new Error(`stripe refund: payment ${railKey} was never paid (its Checkout link is ${found.session?.status}); nothing to refund`);
    if (pi.status !== 'succeeded') throw new Error(`stripe refund: payment ${railKey} is ${pi.status}, not succeeded; nothing to refund`);
    const stripeAmount = toStripeAmount(amount);
    if (!stripeAmount.ok) return { status: 'failed', reasonCode: 'AM12', reason: stripeAmount.reason };
    if (stripeAmount.currency !== pi.currency.toLowerCase()) {
      throw new Error(`stripe refund: payment ${railKey} is in ${pi.currency.toUpperCase()}, the refund in ${amount.currency}`);
    }
    try {
      const refund = await this.stripe.refunds.create(
        { payment_intent: pi.id, amount: stripeAmount.amount, metadata: { [RAIL_KEY]: railKey, [REFUND_KEY]: refundKey } },
        { idempotencyKey: refundKey },
      );
      return outcomeOfRefund(refund);
    } catch (error) {
      const failure = failureOf(error);
      const decision = failure && !this.closed ? decisionFor(failure) : undefined;
      if (decision?.kind === 'declined') return { status: 'failed', reasonCode: decision.reasonCode, reason: decision.reason };
      if (decision?.kind === 'duplicate_key') {
        return { status: 'failed', reasonCode: 'DU05', reason: 'duplicate refund key: Stripe saw this key with different request parameters' };
      }
      throw this.toRailError(error, 'refund');
    }
  }

  // ── statements ────────────────────────────────────────────────────────────

  async fetchStatement(range: { readonly from: string; readonly to: string }): Promise<readonly RailStatementEntry[]> {
    this.ensureOpen();
    const from = parseIsoDate(range.from);
    const to = parseIsoDate(range.to);
    if (from === undefined || to === undefined || to < from) {
      throw new Error(`stripe statement: invalid range ${range.from}..${range.to} (YYYY-MM-DD, from <= to)`);
    }
    const transactions = await this.call('statement', async () => {
      const list: Stripe.BalanceTransaction[] = [];
      const params = { created: { gte: from, lt: to + 86_400 }, limit: 100, expand: ['data.source'] };
      for await (const bt of this.stripe.balanceTransactions.list(params)) list.push(bt);
      return list;
    });
    // Stripe lists newest first: reverse, then a stable sort keeps Stripe's order within a second.
    transactions.reverse().sort((a, b) => a.created - b.created);
    return transactions.flatMap(statementEntriesOf);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }

  // ── plumbing ──────────────────────────────────────────────────────────────

  private ensureOpen(): void {
    if (this.closed) throw new Error('StripeRailAdapter is closed');
  }

  private remember(railKey: string, ids: KnownObjects): void {
    const merged = { ...this.known.get(railKey), ...ids };
    this.known.delete(railKey);
    this.known.set(railKey, merged);
    if (this.known.size > KNOWN_KEYS_LIMIT) this.known.delete(this.known.keys().next().value!);
  }

  /** Runs Stripe calls that have no decline of their own; SDK errors become RailErrors (or plain Errors for bugs). */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.toRailError(error, what);
    }
  }

  /** An SDK error as the RailError its decision says, or a plain Error for bugs; anything else unchanged. */
  private toRailError(error: unknown, what: string): Error {
    if (error instanceof RailError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (this.closed) return new RailError('unknown', `stripe ${what}: adapter closed while the request was in flight`, 'closed');
    const failure = failureOf(error);
    if (!failure) return error instanceof Error ? error : new Error(message);
    const decision = decisionFor(failure);
    const code = failure.code ?? failure.declineCode ?? failure.networkCode ?? failure.type;
    if (decision.kind === 'rail') return new RailError(decision.decision, `stripe ${what}: ${message}`, code);
    if (decision.kind === 'bug') {
      return new Error(`stripe ${what}: Stripe refused the request (${failure.type}${failure.code ? ` ${failure.code}` : ''}): ${message}`);
    }
    // A decline or a key conflict where no payment outcome is expected: Stripe executed and refused it.
    return new Error(`stripe ${what}: ${failure.type}${failure.code ? ` ${failure.code}` : ''}: ${message}`);
  }
}

// ── Stripe objects → Kassa outcomes ─────────────────────────────────────────

function outcomeOfFound(found: FoundPayment): RailOutcome {
  return found.session ? outcomeOfSession(found.session, found.paymentIntent) : outcomeOfPaymentIntent(found.paymentIntent!);
}

function flowOf(pi: Stripe.PaymentIntent): Flow {
  return pi.metadata?.[FLOW] === 'checkout' ? 'checkout' : 'payment_method';
}

function idOf(value: string | { id: string } | null | undefined): string | undefined {
  return typeof value === 'string' ? value : (value?.id ?? undefined);
}

function feeOf(pi: Stripe.PaymentIntent): Money | undefined {
  const charge = pi.latest_charge;
  if (charge === null || typeof charge !== 'object') return undefined;
  const bt = charge.balance_transaction;
  if (bt === null || typeof bt !== 'object') return undefined;
  return fromStripeAmount(bt.fee, bt.currency);
}

export function outcomeOfPaymentIntent(pi: Stripe.PaymentIntent): RailOutcome {
  const checkout = flowOf(pi) === 'checkout';
  switch (pi.status) {
    case 'succeeded': {
      const fee = feeOf(pi);
      return fee ? { status: 'completed', railReference: pi.id, fee } : { status: 'completed', railReference: pi.id };
    }
    case 'canceled':
      return checkout ? checkoutFailure(pi, pi.id) : { status: 'failed', railReference: pi.id, ...cancelReason(pi) };
    case 'requires_payment_method':
      // On a Checkout page the citizen may try another card until the session expires.
      if (pi.last_payment_error && !checkout) {
        return { status: 'failed', railReference: pi.id, ...declineReason(pi.last_payment_error.decline_code, pi.last_payment_error.code) };
      }
      return { status: 'pending', railReference: pi.id };
    case 'requires_action': {
      const url = pi.next_action?.redirect_to_url?.url;
      return url ? { status: 'pending', railReference: pi.id, nextAction: { type: 'redirect', url } } : { status: 'pending', railReference: pi.id };
    }
    default:
      return { status: 'pending', railReference: pi.id };
  }
}

function cancelReason(pi: Stripe.PaymentIntent): { reasonCode: string; reason: string } {
  if (pi.last_payment_error) return declineReason(pi.last_payment_error.decline_code, pi.last_payment_error.code);
  return { reasonCode: 'DS02', reason: `the payment was cancelled (Stripe ${pi.cancellation_reason ?? 'canceled'})` };
}

/** A Checkout payment that can no longer be paid: the last declined attempt's reason, else no answer from the payer. */
function checkoutFailure(pi: Stripe.PaymentIntent | undefined, railReference: string): RailOutcome {
  const error = pi?.last_payment_error;
  if (error) return { status: 'failed', railReference, ...declineReason(error.decline_code, error.code) };
  return { status: 'failed', railReference, reasonCode: 'NOAS', reason: 'the payer did not pay before the Checkout link expired' };
}

export function outcomeOfSession(session: Stripe.Checkout.Session, pi: Stripe.PaymentIntent | undefined): RailOutcome {
  const piId = pi?.id ?? idOf(session.payment_intent);
  switch (session.status) {
    case 'complete':
      if (session.payment_status === 'paid' && piId) {
        const fee = pi ? feeOf(pi) : undefined;
        return fee ? { status: 'completed', railReference: piId, fee } : { status: 'completed', railReference: piId };
      }
      if (session.payment_status === 'no_payment_required') return { status: 'completed', railReference: session.id };
      return { status: 'pending', railReference: piId ?? session.id };
    case 'expired':
      return checkoutFailure(pi, piId ?? session.id);
    default:
      return session.url
        ? { status: 'pending', railReference: session.id, nextAction: { type: 'redirect', url: session.url } }
        : { status: 'pending', railReference: session.id };
  }
}

export function outcomeOfRefund(refund: Stripe.Refund): RailOutcome {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'completed', railReference: refund.id };
    case 'failed':
    case 'canceled':
      return { status: 'failed', railReference: refund.id, ...refundFailureReason(refund.failure_reason) };
    default:
      return { status: 'pending', railReference: refund.id };
  }
}

function refundNotification(refund: Stripe.Refund): RailNotification[] {
  const refundKey = refund.metadata?.[REFUND_KEY];
  return refundKey ? [{ railKey: refundKey, outcome: outcomeOfRefund(refund) }] : [];
}

const REVERSAL_TYPES = new Set(['refund', 'payment_refund', 'payment_failure_refund']);
const REVERSAL_CATEGORIES = new Set(['refund', 'dispute']);

export function statementEntriesOf(bt: Stripe.BalanceTransaction): RailStatementEntry[] {
  const bookingDate = isoDateOf(bt.created);
  const valueDate = isoDateOf(bt.available_on);
  const source = bt.source !== null && typeof bt.source === 'object' ? (bt.source as unknown as StripeSourceLike) : undefined;
  const railKey = source?.metadata?.[RAIL_KEY] || undefined;
  let railReference = idOf(bt.source) ?? bt.id;
  if (source?.object === 'charge') railReference = idOf(source.payment_intent) ?? source.id;

  const entries: RailStatementEntry[] = [];
  if (bt.amount !== 0) {
    entries.push({
      ...(railKey ? { railKey } : {}),
      railReference,
      amount: fromStripeAmount(Math.abs(bt.amount), bt.currency),
      direction: bt.amount > 0 ? 'credit' : 'debit',
      bookingDate,
      valueDate,
      reversal: REVERSAL_TYPES.has(bt.type) || REVERSAL_CATEGORIES.has(bt.reporting_category),
    });
  }
  if (bt.fee !== 0) {
    entries.push({
      railReference: bt.id,
      amount: fromStripeAmount(Math.abs(bt.fee), bt.currency),
      direction: bt.fee > 0 ? 'debit' : 'credit',
      bookingDate,
      valueDate,
      counterparty: 'Stripe fee',
      reversal: bt.fee < 0,
    });
  }
  return entries;
}

interface StripeSourceLike {
  readonly id: string;
  readonly object: string;
  readonly metadata?: Record<string, string> | null;
  readonly payment_intent?: string | { id: string } | null;
}

function isoDateOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

/** YYYY-MM-DD → epoch seconds at 00:00 UTC; undefined when it is not a real date. */
function parseIsoDate(date: string): number | undefined {
  if (!ISO_DATE.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) return undefined;
  return ms / 1000;
}

function escapeSearchValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

