import type { RailDefinition } from '../contract.ts';
import { StripeRailAdapter } from './adapter.ts';
import { StripeOptionsSchema, type StripeOptions } from './options.ts';

/**
 * The Stripe card rail, as the registry lists it: options from RAIL_STRIPE_<OPTION>
 * (RAIL_STRIPE_API_KEY, RAIL_STRIPE_WEBHOOK_SECRET, RAIL_STRIPE_SUCCESS_URL, RAIL_STRIPE_CANCEL_URL,
 * and optionally RAIL_STRIPE_API_BASE, RAIL_STRIPE_TIMEOUT_MS, RAIL_STRIPE_MAX_NETWORK_RETRIES,
 * RAIL_STRIPE_CONCURRENCY). Leave RAIL_STRIPE_API_BASE unset to use the real Stripe API (a test
 * key sk_test_… is all it takes); set it to the local fake's URL for development and tests.
 */
export const stripeRail: RailDefinition<StripeOptions> = {
  id: StripeRailAdapter.id,
  optionsSchema: StripeOptionsSchema,
  create: (options) => new StripeRailAdapter(options),
};

export { StripeRailAdapter, outcomeOfPaymentIntent, outcomeOfRefund, outcomeOfSession, statementEntriesOf } from './adapter.ts';
export { StripeOptionsSchema, sdkAddressOf, type StripeOptions, type StripeOptionsInput } from './options.ts';
export { decisionFor, declineReason, failureOf, type StripeDecision, type StripeFailure } from './error-decisions.ts';
export { fromStripeAmount, toStripeAmount } from './currency.ts';
