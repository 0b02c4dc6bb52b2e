import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { declineReason, decisionFor, failureOf, refundFailureReason, type StripeDecision, type StripeFailure } from '../../adapters/stripe/error-decisions.ts';

const declined = (reasonCode: string): Pick<Extract<StripeDecision, { kind: 'declined' }>, 'kind' | 'reasonCode'> => ({ kind: 'declined', reasonCode });
const rail = (decision: 'retry' | 'unknown' | 'unavailable'): StripeDecision => ({ kind: 'rail', decision });

const cases: readonly { readonly when: string; readonly failure: StripeFailure; readonly then: Partial<StripeDecision> }[] = [
  { when: 'a card is declined for insufficient funds', failure: { type: 'StripeCardError', statusCode: 402, code: 'card_declined', declineCode: 'insufficient_funds' }, then: declined('AM04') },
  { when: 'a card has expired', failure: { type: 'StripeCardError', statusCode: 402, code: 'expired_card' }, then: declined('AC05') },
  { when: 'a card is reported stolen', failure: { type: 'StripeCardError', statusCode: 402, code: 'card_declined', declineCode: 'stolen_card' }, then: declined('AC06') },
  { when: 'a card is declined as fraudulent', failure: { type: 'StripeCardError', statusCode: 402, code: 'card_declined', declineCode: 'fraudulent' }, then: declined('FR01') },
  { when: 'the CVC is wrong', failure: { type: 'StripeCardError', statusCode: 402, code: 'incorrect_cvc', declineCode: 'incorrect_cvc' }, then: declined('MS02') },
  { when: 'a card is declined without a reason', failure: { type: 'StripeCardError', statusCode: 402, code: 'card_declined', declineCode: 'generic_decline' }, then: declined('MS03') },
  { when: 'a card is declined with a code unknown to the table', failure: { type: 'StripeCardError', statusCode: 402, code: 'card_declined', declineCode: 'brand_new_code' }, then: declined('MS03') },
  { when: 'a decline code collides with an Object prototype key', failure: { type: 'StripeCardError', statusCode: 402, declineCode: 'constructor' }, then: declined('MS03') },
  { when: 'the amount is below the Stripe minimum', failure: { type: 'StripeInvalidRequestError', statusCode: 400, code: 'amount_too_small' }, then: declined('AM12') },
  { when: 'the payer PaymentMethod does not exist', failure: { type: 'StripeInvalidRequestError', statusCode: 400, code: 'resource_missing', param: 'payment_method' }, then: declined('AC02') },
  { when: 'a refund hits a fully refunded charge', failure: { type: 'StripeInvalidRequestError', statusCode: 400, code: 'charge_already_refunded' }, then: declined('AM05') },
  { when: 'Kassa sends a parameter Stripe rejects', failure: { type: 'StripeInvalidRequestError', statusCode: 400, code: 'parameter_unknown', param: 'foo' }, then: { kind: 'bug' } },
  { when: 'another object is missing', failure: { type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing', param: 'intent' }, then: { kind: 'bug' } },
  { when: 'the API key is wrong', failure: { type: 'StripeAuthenticationError', statusCode: 401 }, then: { kind: 'bug' } },
  { when: 'a restricted key lacks a permission', failure: { type: 'StripePermissionError', statusCode: 403 }, then: { kind: 'bug' } },
  { when: 'Stripe throttles', failure: { type: 'StripeRateLimitError', statusCode: 429, code: 'rate_limit' }, then: rail('retry') },
  { when: 'an idempotency key is reused with other parameters', failure: { type: 'StripeIdempotencyError', statusCode: 400 }, then: { kind: 'duplicate_key' } },
  { when: 'a request under the same key is still running', failure: { type: 'StripeAPIError', statusCode: 409, code: 'idempotency_key_in_use' }, then: rail('retry') },
  { when: 'Stripe answers 500', failure: { type: 'StripeAPIError', statusCode: 500 }, then: rail('unknown') },
  { when: 'Stripe answers 503', failure: { type: 'StripeAPIError', statusCode: 503 }, then: rail('unavailable') },
  { when: 'a gateway answers 502', failure: { type: 'StripeAPIError', statusCode: 502 }, then: rail('unavailable') },
  { when: 'a gateway answers 504', failure: { type: 'StripeAPIError', statusCode: 504 }, then: rail('unavailable') },
  { when: 'Stripe answers an unreadable body', failure: { type: 'StripeAPIError' }, then: rail('unknown') },
  { when: 'the request timed out', failure: { type: 'StripeConnectionError', networkCode: 'ETIMEDOUT' }, then: rail('unknown') },
  { when: 'the connection was refused', failure: { type: 'StripeConnectionError', networkCode: 'ECONNREFUSED' }, then: rail('unavailable') },
  { when: 'the connection was reset before an answer', failure: { type: 'StripeConnectionError', networkCode: 'ECONNRESET' }, then: rail('unavailable') },
  { when: 'the host does not resolve', failure: { type: 'StripeConnectionError', networkCode: 'ENOTFOUND' }, then: rail('unavailable') },
  { when: 'the connection broke after the response headers', failure: { type: 'StripeConnectionError', networkCode: 'ECONNRESET', afterResponseHeaders: true }, then: rail('unknown') },
  { when: 'a connection error has no code', failure: { type: 'StripeConnectionError' }, then: rail('unknown') },
  { when: 'the SDK raises an error type the table does not know', failure: { type: 'StripeBrandNewError', statusCode: 418 }, then: rail('unknown') },
];

describe('stripe error decisions', () => {
  for (const c of cases) {
    it(`when ${c.when}, then the decision is ${JSON.stringify(c.then)}`, () => {
      const decision = decisionFor(c.failure);
      for (const [field, value] of Object.entries(c.then)) assert.equal((decision as Record<string, unknown>)[field], value, field);
      if (decision.kind === 'declined') assert.match(decision.reason, /\S/);
    });
  }

  it('when the SDK throws its own error classes, then failureOf reads what the table needs', () => {
    const card = failureOf(new Stripe.errors.StripeCardError({ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.', statusCode: 402 }));
    assert.deepEqual(card, { type: 'StripeCardError', statusCode: 402, code: 'card_declined', declineCode: 'insufficient_funds' });
    const timeout = new TypeError('ETIMEDOUT') as TypeError & { code: string };
    timeout.code = 'ETIMEDOUT';
    assert.deepEqual(failureOf(new Stripe.errors.StripeConnectionError({ message: 'Request aborted due to timeout', detail: timeout })), {
      type: 'StripeConnectionError',
      networkCode: 'ETIMEDOUT',
      afterResponseHeaders: false,
    });
    assert.equal(failureOf(new Stripe.errors.StripeIdempotencyError({ type: 'idempotency_error', statusCode: 400 }))?.type, 'StripeIdempotencyError');
    assert.equal(failureOf(new Stripe.errors.StripeAuthenticationError({ statusCode: 401 }))?.type, 'StripeAuthenticationError');
  });

  it('when an error survived serialisation (plain object), then failureOf still reads it; non-Stripe errors give undefined', () => {
    const serialised = JSON.parse(JSON.stringify({ type: 'StripeRateLimitError', statusCode: 429, code: 'rate_limit' })) as unknown;
    assert.equal(decisionFor(failureOf(serialised)!).kind, 'rail');
    assert.equal(failureOf(new TypeError('boom')), undefined);
    assert.equal(failureOf('StripeCardError'), undefined);
    assert.equal(failureOf(null), undefined);
  });

  it('when a decline code or a refund failure is read, then it maps to an ISO 20022 reason that names the Stripe code', () => {
    assert.deepEqual(declineReason('insufficient_funds'), { reasonCode: 'AM04', reason: 'insufficient funds (Stripe insufficient_funds)' });
    assert.deepEqual(declineReason(null, 'expired_card'), { reasonCode: 'AC05', reason: 'the card has expired (Stripe expired_card)' });
    assert.deepEqual(declineReason(undefined, undefined), { reasonCode: 'MS03', reason: 'declined by the card issuer' });
    assert.equal(refundFailureReason('lost_or_stolen_card').reasonCode, 'AC06');
    assert.equal(refundFailureReason('expired_or_canceled_card').reasonCode, 'AC04');
    assert.equal(refundFailureReason(undefined).reasonCode, 'MS03');
  });
});
