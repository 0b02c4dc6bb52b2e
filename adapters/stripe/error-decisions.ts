import type { RailDecision } from '../contract.ts';
import { networkDecisionFor } from '../http-failure.ts';

/**
 * What went wrong talking to Stripe, and what Kassa must do about it: one table per kind of
 * failure, read by `decisionFor`, with a table test (test/unit/stripe-error-decisions.test.ts).
 *
 * - `declined`: Stripe executed the request and refused the payment (a card decline, or an amount
 *   or currency Stripe will never take): a final `failed` outcome with an ISO 20022-style reason.
 * - `rail`: a RailError with the decision (`retry`, `unknown`, `unavailable`).
 * - `duplicate_key`: the idempotency key was used before with other parameters. The adapter looks
 *   the key up (the first request may well have been paid) and only answers `failed` DU05 when
 *   Stripe has nothing under it.
 * - `bug`: a configuration or programming error (bad API key, missing permission, a parameter
 *   Stripe rejects): resending cannot help, so the adapter throws a plain Error.
 */
export type StripeDecision =
  | { readonly kind: 'declined'; readonly reasonCode: string; readonly reason: string }
  | { readonly kind: 'rail'; readonly decision: RailDecision }
  | { readonly kind: 'duplicate_key' }
  | { readonly kind: 'bug' };

/** The parts of a Stripe SDK error the decision depends on (they survive serialisation). */
export interface StripeFailure {
  /** The SDK error class name as the SDK stores it in `error.type`: 'StripeCardError', 'StripeAPIError', … */
  readonly type: string;
  readonly statusCode?: number;
  readonly code?: string;
  readonly declineCode?: string;
  readonly param?: string;
  /** StripeConnectionError: the Node error code underneath (ETIMEDOUT is the SDK's own timeout). */
  readonly networkCode?: string;
  /** StripeConnectionError: the response headers had arrived (so Stripe executed the request). */
  readonly afterResponseHeaders?: boolean;
}

/** An ISO 20022 ExternalStatusReason code and a plain description. */
export interface IsoReason {
  readonly code: string;
  readonly description: string;
}

/** Stripe card decline codes (https://docs.stripe.com/declines/codes) → ISO 20022 status reasons. */
export const DECLINE_CODE_REASONS: Readonly<Record<string, IsoReason>> = Object.freeze({
  insufficient_funds: { code: 'AM04', description: 'insufficient funds' },
  card_velocity_exceeded: { code: 'AM14', description: 'the card limit is exceeded' },
  withdrawal_count_limit_exceeded: { code: 'AM14', description: 'the card limit is exceeded' },
  invalid_amount: { code: 'AM12', description: 'invalid amount' },
  currency_not_supported: { code: 'AM11', description: 'the card does not support this currency' },
  duplicate_transaction: { code: 'AM05', description: 'duplicate payment' },
  expired_card: { code: 'AC05', description: 'the card has expired' },
  incorrect_number: { code: 'AC02', description: 'invalid card number' },
  invalid_number: { code: 'AC02', description: 'invalid card number' },
  invalid_account: { code: 'AC02', description: 'invalid card account' },
  invalid_expiry_month: { code: 'AC02', description: 'invalid card expiry date' },
  invalid_expiry_year: { code: 'AC02', description: 'invalid card expiry date' },
  new_account_information_available: { code: 'AC02', description: 'the card account has changed' },
  lost_card: { code: 'AC06', description: 'the card is blocked (reported lost)' },
  stolen_card: { code: 'AC06', description: 'the card is blocked (reported stolen)' },
  pickup_card: { code: 'AC06', description: 'the card is blocked' },
  restricted_card: { code: 'AC06', description: 'the card is blocked' },
  revocation_of_all_authorizations: { code: 'AC06', description: 'the card is blocked' },
  revocation_of_authorization: { code: 'AC06', description: 'the card is blocked' },
  fraudulent: { code: 'FR01', description: 'suspected fraud' },
  merchant_blacklist: { code: 'FR01', description: 'suspected fraud' },
  security_violation: { code: 'FR01', description: 'suspected fraud' },
  card_not_supported: { code: 'AG01', description: 'the card does not support this payment' },
  not_permitted: { code: 'AG01', description: 'the payment is not permitted' },
  service_not_allowed: { code: 'AG01', description: 'the payment is not permitted' },
  transaction_not_allowed: { code: 'AG01', description: 'the payment is not permitted' },
  incorrect_cvc: { code: 'MS02', description: 'incorrect card security code' },
  invalid_cvc: { code: 'MS02', description: 'incorrect card security code' },
  incorrect_pin: { code: 'MS02', description: 'incorrect PIN' },
  invalid_pin: { code: 'MS02', description: 'incorrect PIN' },
  pin_try_exceeded: { code: 'MS02', description: 'too many PIN attempts' },
  offline_pin_required: { code: 'MS02', description: 'PIN required' },
  online_or_offline_pin_required: { code: 'MS02', description: 'PIN required' },
  incorrect_zip: { code: 'MS02', description: 'incorrect postal code' },
  authentication_required: { code: 'MS02', description: 'the payer did not authenticate' },
  stop_payment_order: { code: 'MS02', description: 'the payer stopped the payment' },
  issuer_not_available: { code: 'AB07', description: 'the card issuer could not be reached' },
});

/** What a decline without a recognised code becomes. */
export const UNSPECIFIED_DECLINE: IsoReason = Object.freeze({ code: 'MS03', description: 'declined by the card issuer' });

/** The reason for a declined card payment, from Stripe's decline_code (or code when there is none). */
export function declineReason(declineCode: string | null | undefined, code?: string | null): { reasonCode: string; reason: string } {
  const stripeCode = declineCode || code || undefined;
  const known = stripeCode !== undefined ? own(DECLINE_CODE_REASONS, stripeCode) : undefined;
  const iso = known ?? UNSPECIFIED_DECLINE;
  return { reasonCode: iso.code, reason: stripeCode ? `${iso.description} (Stripe ${stripeCode})` : iso.description };
}

/** Stripe refund failure_reason → ISO 20022 status reasons. */
export const REFUND_FAILURE_REASONS: Readonly<Record<string, IsoReason>> = Object.freeze({
  expired_or_canceled_card: { code: 'AC04', description: 'the card was closed or has expired' },
  lost_or_stolen_card: { code: 'AC06', description: 'the card is blocked (reported lost or stolen)' },
  insufficient_funds: { code: 'AM04', description: 'insufficient Stripe balance for the refund' },
  merchant_request: { code: 'DS02', description: 'the refund was cancelled' },
  declined: { code: 'MS03', description: 'the card network declined the refund' },
  charge_for_pending_refund_disputed: { code: 'MS03', description: 'the payment is disputed' },
});

export function refundFailureReason(failureReason: string | null | undefined): { reasonCode: string; reason: string } {
  const known = failureReason ? own(REFUND_FAILURE_REASONS, failureReason) : undefined;
  const iso = known ?? { code: 'MS03', description: 'the refund failed' };
  return { reasonCode: iso.code, reason: failureReason ? `${iso.description} (Stripe ${failureReason})` : iso.description };
}

/**
 * StripeInvalidRequestError codes that are a statement about this payment, not about Kassa's
 * request: Stripe will never take it, so it is a final decline. Other invalid requests are bugs.
 */
export const INVALID_REQUEST_DECLINES: Readonly<Record<string, IsoReason>> = Object.freeze({
  amount_too_small: { code: 'AM12', description: 'the amount is below the minimum Stripe charges' },
  amount_too_large: { code: 'AM02', description: 'the amount is above the maximum Stripe charges' },
  invalid_charge_amount: { code: 'AM12', description: 'Stripe does not accept this amount' },
  invalid_charge_amount_no_decimal_compatible: { code: 'AM12', description: 'Stripe accepts whole units only in this currency' },
  currency_not_supported: { code: 'AM11', description: 'Stripe does not support this currency' },
  invalid_currency: { code: 'AM11', description: 'Stripe does not support this currency' },
  payment_method_not_available: { code: 'AG01', description: 'the card cannot be used for this payment' },
  payment_method_unactivated: { code: 'AG01', description: 'the card cannot be used for this payment' },
  payment_method_unexpected_state: { code: 'AC02', description: 'the card reference cannot be used' },
  // Refunds
  charge_already_refunded: { code: 'AM05', description: 'the payment is already fully refunded' },
  charge_disputed: { code: 'MS03', description: 'the payment is disputed and cannot be refunded' },
});

/** Non-card error types → decisions; StripeAPIError and StripeConnectionError are refined below. */
export const ERROR_TYPE_DECISIONS: Readonly<Record<string, StripeDecision>> = Object.freeze({
  StripeRateLimitError: { kind: 'rail', decision: 'retry' }, // throttled before executing
  StripeIdempotencyError: { kind: 'duplicate_key' },
  StripeAuthenticationError: { kind: 'bug' }, // wrong or revoked API key: a configuration error
  StripePermissionError: { kind: 'bug' }, // restricted key without the needed permission
  StripeInvalidRequestError: { kind: 'bug' },
});

/** StripeAPIError by HTTP status; other statuses (500 and unknown 5xx included) are `unknown`. */
export const API_STATUS_DECISIONS: Readonly<Record<number, RailDecision>> = Object.freeze({
  409: 'retry', // another request under the same idempotency key is in progress; it will answer the replay
  502: 'unavailable',
  503: 'unavailable',
  504: 'unavailable',
});

export function decisionFor(failure: StripeFailure): StripeDecision {
  switch (failure.type) {
    case 'StripeCardError':
      return { kind: 'declined', ...declineReason(failure.declineCode, failure.code) };
    case 'StripeInvalidRequestError': {
      const decline = failure.code !== undefined ? own(INVALID_REQUEST_DECLINES, failure.code) : undefined;
      if (decline) return { kind: 'declined', reasonCode: decline.code, reason: `${decline.description} (Stripe ${failure.code})` };
      if (failure.code === 'resource_missing' && failure.param === 'payment_method') {
        return { kind: 'declined', reasonCode: 'AC02', reason: 'the payer card reference is unknown to Stripe (Stripe resource_missing)' };
      }
      return { kind: 'bug' };
    }
    case 'StripeAPIError': {
      if (failure.code === 'idempotency_key_in_use') return { kind: 'rail', decision: 'retry' };
      const byStatus = failure.statusCode !== undefined ? own(API_STATUS_DECISIONS, failure.statusCode) : undefined;
      return { kind: 'rail', decision: byStatus ?? 'unknown' };
    }
    case 'StripeConnectionError': {
      // Once the response headers arrived Stripe has executed the request, whatever broke after.
      if (failure.afterResponseHeaders) return { kind: 'rail', decision: 'unknown' };
      return { kind: 'rail', decision: networkDecisionFor(failure.networkCode) };
    }
    default: {
      const known = own(ERROR_TYPE_DECISIONS, failure.type);
      // An error type this table does not know cannot prove that nothing was executed.
      return known ?? { kind: 'rail', decision: 'unknown' };
    }
  }
}

/** Reads an error thrown by the Stripe SDK; undefined for anything else (which the adapter rethrows). */
export function failureOf(error: unknown): StripeFailure | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as {
    type?: unknown;
    statusCode?: unknown;
    code?: unknown;
    decline_code?: unknown;
    param?: unknown;
    detail?: unknown;
  };
  if (typeof e.type !== 'string' || !e.type.startsWith('Stripe')) return undefined;
  const failure: { -readonly [K in keyof StripeFailure]: StripeFailure[K] } = { type: e.type };
  if (typeof e.statusCode === 'number') failure.statusCode = e.statusCode;
  if (typeof e.code === 'string' && e.code !== '') failure.code = e.code;
  if (typeof e.decline_code === 'string' && e.decline_code !== '') failure.declineCode = e.decline_code;
  if (typeof e.param === 'string') failure.param = e.param;
  if (e.type === 'StripeConnectionError' && e.detail !== null && typeof e.detail === 'object') {
    const detail = e.detail as { code?: unknown; constructor?: { name?: unknown } };
    if (typeof detail.code === 'string') failure.networkCode = detail.code;
    failure.afterResponseHeaders = detail.constructor?.name === 'HttpClientResponseBodyError';
  }
  return failure;
}

function own<V>(table: Readonly<Record<string | number, V>>, key: string | number): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
