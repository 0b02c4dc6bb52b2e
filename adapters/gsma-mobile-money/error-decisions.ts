import type { RailDecision } from '../contract.ts';
import { networkDecisionFor } from '../http-failure.ts';

/**
 * What a GSMA failure means for Kassa: a decline (a final `failed` outcome with an ISO 20022-style
 * reason code), one of the contract's decisions (retry, unknown, unavailable), or `bug` (Kassa sent
 * something the operator cannot read and resending cannot help: the adapter throws a plain Error).
 *
 * Two kinds of GSMA error reach this table:
 * - `http`: the operator refused the request at the door with an HTTP error (and usually an error
 *   object). Nothing was recorded under the X-CorrelationID, except where the category says the
 *   operator may have acted (internal) — so those are `unknown`.
 * - `final`: the operator accepted the request (202) and then failed it (request state `failed`, an error
 *   callback, a batch rejection). The X-CorrelationID is used up: resending it answers the same failure,
 *   so every such failure is a decline.
 */
export type GsmaResolution =
  | { readonly type: 'declined'; readonly reasonCode: string; readonly reason: string }
  | { readonly type: 'error'; readonly decision: RailDecision }
  | { readonly type: 'bug' };

export interface GsmaErrorObject {
  readonly errorCategory: string;
  readonly errorCode: string;
  readonly errordescription?: string;
  readonly errorDescription?: string;
}

export type GsmaFailure =
  /** The client gave up waiting (AbortSignal.timeout): the request may have been executed. */
  | { readonly kind: 'timeout' }
  /** The request failed below HTTP; `code` is the Node / undici error code, if any. */
  | { readonly kind: 'network'; readonly code: string | undefined }
  /** A non-2xx answer, with the GSMA error object when the body was one. */
  | { readonly kind: 'http'; readonly status: number; readonly error?: GsmaErrorObject }
  /** The operator accepted the request and failed it later. */
  | { readonly kind: 'final'; readonly error: GsmaErrorObject };

/**
 * GSMA `<errorCategory>/<errorCode>` (or `<errorCategory>/*` as the category's fallback) → ISO 20022
 * ExternalStatusReason1Code. AM04 insufficient funds, AC01 incorrect account, AC06 blocked account,
 * AM02/AM06 amount above/below the allowed, AM21 limit exceeded, AM14 exceeds agreed limit, AM03 currency
 * not allowed, AM09 wrong amount, AM12 invalid amount, AG01 transaction forbidden, MD01 no mandate,
 * DU05 duplicate instruction id, RR04 regulatory reason, CH16 element content formally incorrect,
 * CH21 compulsory element missing, MS02/MS03 unspecified reason from the customer/the agent, NARR narrative.
 */
export const GSMA_REASON_CODES: Readonly<Record<string, string>> = Object.freeze({
  'businessRule/insufficientFunds': 'AM04',
  'businessRule/dailyVolumeLimitExceeded': 'AM21',
  'businessRule/dailyValueLimitExceeded': 'AM21',
  'businessRule/weeklyVolumeLimitExceeded': 'AM21',
  'businessRule/weeklyValueLimitExceeded': 'AM21',
  'businessRule/monthlyVolumeLimitExceeded': 'AM21',
  'businessRule/monthlyValueLimitExceeded': 'AM21',
  'businessRule/accountMaxTotalVolumeExceeded': 'AM21',
  'businessRule/accountMaxTotalValueExceeded': 'AM21',
  'businessRule/lessThanTransactionMinValue': 'AM06',
  'businessRule/greaterThanTransactionMaxValue': 'AM02',
  'businessRule/maxBalanceExceeded': 'AM14',
  'businessRule/samePartiesError': 'AG01',
  'businessRule/duplicateRequest': 'DU05',
  'businessRule/incorrectState': 'AC06',
  'businessRule/underPaymentNotAllowed': 'AM09',
  'businessRule/overPaymentNotAllowed': 'AM09',
  'businessRule/transactionTypeError': 'AG01',
  'businessRule/noMandateAuthority': 'MD01',
  'businessRule/linkViolation': 'AG01',
  'businessRule/countryofOriginNotPermitted': 'RR04',
  'businessRule/nationalityNotPermitted': 'RR04',
  'businessRule/idDocumentNotSupported': 'RR04',
  'businessRule/issuingCountryNotSupported': 'RR04',
  'businessRule/currencyNotSupported': 'AM03',
  'businessRule/rateLimitError': 'MS03',
  'businessRule/requestDeclined': 'MS03',
  'businessRule/*': 'MS03',
  'identification/identifierError': 'AC01',
  'identification/*': 'AC01',
  'validation/currencyNotSupported': 'AM03',
  'validation/negativeValue': 'AM12',
  'validation/mandatoryValueNotSupplied': 'CH21',
  'validation/formatError': 'CH16',
  'validation/lengthError': 'CH16',
  'validation/*': 'CH16',
  'authorisation/requestDeclined': 'MS02',
  'authorisation/*': 'AG01',
  'internal/*': 'MS03',
  'serviceUnavailable/*': 'MS03',
});

/** An error the operator has no category for in this table. */
export const FALLBACK_REASON_CODE = 'NARR';

/**
 * GSMA errors answered at the door that are not declines: the operator throttled us (retry), does not
 * accept our credentials or our organisation for this service (unavailable: hold the orders until an
 * operator fixes the configuration; nothing was executed), failed inside (unknown: it may have acted),
 * or is down (unavailable).
 */
export const GSMA_HTTP_ERROR_DECISIONS: Readonly<Record<string, RailDecision>> = Object.freeze({
  'businessRule/rateLimitError': 'retry',
  'authorisation/clientAuthorisationError': 'unavailable',
  'authorisation/servicingPartyAuthorisationError': 'unavailable',
  'authorisation/requestingPartyAuthorisationError': 'unavailable',
  'authorisation/genericError': 'unavailable',
  'internal/*': 'unknown',
  'serviceUnavailable/*': 'unavailable',
});

/** HTTP statuses without a readable GSMA error object; other 5xx are `unknown`, other 4xx `bug`. */
export const HTTP_STATUS_DECISIONS: Readonly<Record<number, RailDecision | 'bug'>> = Object.freeze({
  401: 'unavailable', // credentials refused even after a fresh token
  403: 'unavailable',
  404: 'unavailable', // no such endpoint: a misconfigured base URL; hold until fixed
  405: 'unavailable',
  408: 'retry', // the server gave up reading the request: nothing executed
  429: 'retry',
  500: 'unknown',
  501: 'unavailable',
  502: 'unavailable',
  503: 'unavailable',
  504: 'unavailable', // "inquire before any resend" covers a gateway that forwarded and then timed out
});

export function resolveGsmaFailure(failure: GsmaFailure): GsmaResolution {
  switch (failure.kind) {
    case 'timeout':
      return { type: 'error', decision: 'unknown' };
    case 'network': {
      return { type: 'error', decision: networkDecisionFor(failure.code) }; // an unrecognised failure cannot prove nothing was executed
    }
    case 'final':
      return decline(failure.error);
    case 'http': {
      const { status, error } = failure;
      if (error) {
        const decision = byCode(GSMA_HTTP_ERROR_DECISIONS, error);
        if (decision) return { type: 'error', decision };
        // A 5xx that names a business category is contradictory: trust the status, which says the operator may have acted.
        if (status < 500) return decline(error);
      }
      const explicit = own(HTTP_STATUS_DECISIONS, status);
      if (explicit === 'bug') return { type: 'bug' };
      if (explicit) return { type: 'error', decision: explicit };
      if (status >= 500) return { type: 'error', decision: 'unknown' };
      if (status >= 400) return { type: 'bug' };
      return { type: 'error', decision: 'unknown' }; // 1xx/3xx where a result was expected
    }
  }
}

/** The ISO reason code for a GSMA error object. */
export function reasonCodeOf(error: GsmaErrorObject): string {
  return byCode(GSMA_REASON_CODES, error) ?? FALLBACK_REASON_CODE;
}

function decline(error: GsmaErrorObject): GsmaResolution {
  const description = error.errordescription ?? error.errorDescription;
  const code = `${error.errorCategory}/${error.errorCode}`;
  return { type: 'declined', reasonCode: reasonCodeOf(error), reason: description ? `${code}: ${description}` : code };
}

function byCode<T>(table: Readonly<Record<string, T>>, error: GsmaErrorObject): T | undefined {
  return own(table, `${error.errorCategory}/${error.errorCode}`) ?? own(table, `${error.errorCategory}/*`);
}

function own<T>(table: Readonly<Record<string | number, T>>, key: string | number): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
