import assert from 'node:assert/strict';
import { GSMA_REASON_CODES, resolveGsmaFailure, type GsmaFailure, type GsmaResolution } from '../../adapters/gsma-mobile-money/error-decisions.ts';

const error = (errorCategory: string, errorCode: string, errordescription?: string) => ({ errorCategory, errorCode, ...(errordescription ? { errordescription } : {}) });
const declined = (reasonCode: string, reason: string): GsmaResolution => ({ type: 'declined', reasonCode, reason });
const decided = (decision: 'retry' | 'unknown' | 'unavailable'): GsmaResolution => ({ type: 'error', decision });

const cases: readonly { readonly when: string; readonly failure: GsmaFailure; readonly then: GsmaResolution }[] = [
  // failed after acceptance: always a decline with an ISO reason
  { when: 'the payer has insufficient funds', failure: { kind: 'final', error: error('businessRule', 'insufficientFunds', 'low balance') }, then: declined('AM04', 'businessRule/insufficientFunds: low balance') },
  { when: 'the wallet does not exist', failure: { kind: 'final', error: error('identification', 'identifierError') }, then: declined('AC01', 'identification/identifierError') },
  { when: 'an identification error has another code', failure: { kind: 'final', error: error('identification', 'genericError') }, then: declined('AC01', 'identification/genericError') },
  { when: 'the wallet is suspended', failure: { kind: 'final', error: error('businessRule', 'incorrectState') }, then: declined('AC06', 'businessRule/incorrectState') },
  { when: 'a daily limit is exceeded', failure: { kind: 'final', error: error('businessRule', 'dailyValueLimitExceeded') }, then: declined('AM21', 'businessRule/dailyValueLimitExceeded') },
  { when: 'the amount is above the maximum', failure: { kind: 'final', error: error('businessRule', 'greaterThanTransactionMaxValue') }, then: declined('AM02', 'businessRule/greaterThanTransactionMaxValue') },
  { when: 'the amount is below the minimum', failure: { kind: 'final', error: error('businessRule', 'lessThanTransactionMinValue') }, then: declined('AM06', 'businessRule/lessThanTransactionMinValue') },
  { when: 'the payee wallet would overflow', failure: { kind: 'final', error: error('businessRule', 'maxBalanceExceeded') }, then: declined('AM14', 'businessRule/maxBalanceExceeded') },
  { when: 'a reversal exceeds the original', failure: { kind: 'final', error: error('businessRule', 'overPaymentNotAllowed') }, then: declined('AM09', 'businessRule/overPaymentNotAllowed') },
  { when: 'the payer declined on the phone', failure: { kind: 'final', error: error('authorisation', 'requestDeclined') }, then: declined('MS02', 'authorisation/requestDeclined') },
  { when: 'a regulatory rule forbids it', failure: { kind: 'final', error: error('businessRule', 'nationalityNotPermitted') }, then: declined('RR04', 'businessRule/nationalityNotPermitted') },
  { when: 'no mandate covers it', failure: { kind: 'final', error: error('businessRule', 'noMandateAuthority') }, then: declined('MD01', 'businessRule/noMandateAuthority') },
  { when: 'the currency is not served', failure: { kind: 'final', error: error('validation', 'currencyNotSupported') }, then: declined('AM03', 'validation/currencyNotSupported') },
  { when: 'the operator failed it internally', failure: { kind: 'final', error: error('internal', 'genericError') }, then: declined('MS03', 'internal/genericError') },
  { when: 'a final failure has an unknown category', failure: { kind: 'final', error: error('cosmic', 'rays') }, then: declined('NARR', 'cosmic/rays') },
  { when: 'a final failure code collides with an Object prototype key', failure: { kind: 'final', error: error('constructor', 'toString') }, then: declined('NARR', 'constructor/toString') },
  // refused at the door
  { when: 'the correlation id was used for another body', failure: { kind: 'http', status: 400, error: error('businessRule', 'duplicateRequest') }, then: declined('DU05', 'businessRule/duplicateRequest') },
  { when: 'the wallet is unknown at the door', failure: { kind: 'http', status: 404, error: error('identification', 'identifierError') }, then: declined('AC01', 'identification/identifierError') },
  { when: 'a field has the wrong format', failure: { kind: 'http', status: 400, error: error('validation', 'formatError') }, then: declined('CH16', 'validation/formatError') },
  { when: 'a field is missing', failure: { kind: 'http', status: 400, error: error('validation', 'mandatoryValueNotSupplied') }, then: declined('CH21', 'validation/mandatoryValueNotSupplied') },
  { when: 'the operator throttles', failure: { kind: 'http', status: 429, error: error('businessRule', 'rateLimitError') }, then: decided('retry') },
  { when: 'the operator throttles with a 400', failure: { kind: 'http', status: 400, error: error('businessRule', 'rateLimitError') }, then: decided('retry') },
  { when: 'the token is refused again', failure: { kind: 'http', status: 401, error: error('authorisation', 'clientAuthorisationError') }, then: decided('unavailable') },
  { when: 'our organisation may not do this', failure: { kind: 'http', status: 403, error: error('authorisation', 'requestingPartyAuthorisationError') }, then: decided('unavailable') },
  { when: 'the operator is down', failure: { kind: 'http', status: 503, error: error('serviceUnavailable', 'genericError') }, then: decided('unavailable') },
  { when: 'the operator failed inside', failure: { kind: 'http', status: 500, error: error('internal', 'genericError') }, then: decided('unknown') },
  { when: 'a 5xx names a business rule', failure: { kind: 'http', status: 500, error: error('businessRule', 'insufficientFunds') }, then: decided('unknown') },
  { when: 'a 502 names a business rule', failure: { kind: 'http', status: 502, error: error('businessRule', 'insufficientFunds') }, then: decided('unavailable') },
  // HTTP without a GSMA error object
  { when: 'a gateway answers 502', failure: { kind: 'http', status: 502 }, then: decided('unavailable') },
  { when: 'a gateway answers 503', failure: { kind: 'http', status: 503 }, then: decided('unavailable') },
  { when: 'a gateway answers 504', failure: { kind: 'http', status: 504 }, then: decided('unavailable') },
  { when: 'the answer is a bare 500', failure: { kind: 'http', status: 500 }, then: decided('unknown') },
  { when: 'the answer is a bare 507', failure: { kind: 'http', status: 507 }, then: decided('unknown') },
  { when: 'the answer is a bare 429', failure: { kind: 'http', status: 429 }, then: decided('retry') },
  { when: 'the server gave up reading the request', failure: { kind: 'http', status: 408 }, then: decided('retry') },
  { when: 'the endpoint does not exist', failure: { kind: 'http', status: 404 }, then: decided('unavailable') },
  { when: 'the credentials are refused without a body', failure: { kind: 'http', status: 401 }, then: decided('unavailable') },
  { when: 'the answer is a bare 400', failure: { kind: 'http', status: 400 }, then: { type: 'bug' } },
  { when: 'the answer is a bare 413', failure: { kind: 'http', status: 413 }, then: { type: 'bug' } },
  { when: 'the answer is a redirect', failure: { kind: 'http', status: 302 }, then: decided('unknown') },
  // below HTTP
  { when: 'the request timed out', failure: { kind: 'timeout' }, then: decided('unknown') },
  { when: 'the connection was refused', failure: { kind: 'network', code: 'ECONNREFUSED' }, then: decided('unavailable') },
  { when: 'the connection was reset', failure: { kind: 'network', code: 'ECONNRESET' }, then: decided('unavailable') },
  { when: 'the host name does not resolve', failure: { kind: 'network', code: 'ENOTFOUND' }, then: decided('unavailable') },
  { when: 'connecting timed out', failure: { kind: 'network', code: 'UND_ERR_CONNECT_TIMEOUT' }, then: decided('unavailable') },
  { when: 'the response headers never came', failure: { kind: 'network', code: 'UND_ERR_HEADERS_TIMEOUT' }, then: decided('unknown') },
  { when: 'a network error has an unrecognised code', failure: { kind: 'network', code: 'EWHATEVER' }, then: decided('unknown') },
  { when: 'a network error has no code', failure: { kind: 'network', code: undefined }, then: decided('unknown') },
];

describe('gsma error decisions', () => {
  for (const c of cases) {
    it(`when ${c.when}, then ${c.then.type === 'declined' ? `it is declined ${c.then.reasonCode}` : c.then.type === 'error' ? `the decision is ${c.then.decision}` : 'it is a bug'}`, () => {
      assert.deepEqual(resolveGsmaFailure(c.failure), c.then);
    });
  }

  it('when the table is read, then every reason is a four-character ISO 20022 status reason code', () => {
    for (const [key, code] of Object.entries(GSMA_REASON_CODES)) assert.match(code, /^[A-Z]{2}\d{2}$|^NARR$/, key);
  });
});
