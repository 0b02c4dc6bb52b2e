/**
 * The GSMA mobile-money rail as the registry lists it. Options come from the environment
 * (RAIL_GSMA_MOBILE_MONEY_<OPTION>, strings are coerced):
 * - BASE_URL → baseUrl (required): the operator's API root;
 * - TIMEOUT_MS → timeoutMs: per request, default 10000;
 * - CLIENT_ID, CLIENT_SECRET → clientId, clientSecret (required): OAuth2 client credentials;
 * - CALLBACK_SECRET → callbackSecret (required, ≥ 16 characters): the operator signs callbacks with it
 *   (X-Callback-Signature, see ./callback-signature.ts);
 * - DISBURSEMENT_ACCOUNT, COLLECTION_ACCOUNT (required): "<identifierType>:<identifier>", e.g.
 *   "walletid:GOV-DISBURSEMENTS"; benefits are paid from the first, fees into the second;
 * - CURRENCIES (required): "KES" or "KES,UGX";
 * - MAX_CHUNK_SIZE (1000), AWAIT_RESULT_MS (3000), PARALLEL_REQUESTS (8; single requests in flight within a chunk — RAIL_…_CONCURRENCY is the queue's), CALLBACK_TOLERANCE_SECONDS (300).
 * A local simulator (./simulator.ts) uses GSMA_SIMULATOR_DEFAULTS unless told otherwise.
 */
import type { RailDefinition } from '../contract.ts';
import { GsmaMobileMoneyAdapter, GsmaOptionsSchema, type GsmaOptions } from './adapter.ts';

export const gsmaMobileMoneyRail: RailDefinition<GsmaOptions> = {
  id: GsmaMobileMoneyAdapter.id,
  optionsSchema: GsmaOptionsSchema,
  create: (options) => new GsmaMobileMoneyAdapter(options),
};

export { GSMA_DEFAULT_TIMEOUT_MS, GsmaMobileMoneyAdapter, GsmaOptionsSchema, type GsmaAdapterOptions, type GsmaOptions } from './adapter.ts';
export { CALLBACK_SIGNATURE_HEADER, signCallback, verifyCallbackSignature } from './callback-signature.ts';
export { GSMA_SIMULATOR_DEFAULTS } from './defaults.ts';
export { resolveGsmaFailure, type GsmaFailure, type GsmaResolution } from './error-decisions.ts';
export { correlationIdFor } from './wire.ts';
