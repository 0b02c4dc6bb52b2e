import assert from 'node:assert/strict';
import { decisionFor, type BankDecision, type BankFailure } from '../../adapters/bank-iso20022/error-decisions.ts';

const cases: readonly { readonly when: string; readonly failure: BankFailure; readonly then: BankDecision }[] = [
  { when: 'the request timed out', failure: { kind: 'timeout' }, then: 'unknown' },
  { when: 'the connection was refused', failure: { kind: 'network', code: 'ECONNREFUSED' }, then: 'unavailable' },
  { when: 'the connection was reset', failure: { kind: 'network', code: 'ECONNRESET' }, then: 'unavailable' },
  { when: 'the host name does not resolve', failure: { kind: 'network', code: 'ENOTFOUND' }, then: 'unavailable' },
  { when: 'DNS failed temporarily', failure: { kind: 'network', code: 'EAI_AGAIN' }, then: 'unavailable' },
  { when: 'the bank certificate expired', failure: { kind: 'network', code: 'CERT_HAS_EXPIRED' }, then: 'unavailable' },
  { when: 'connecting timed out', failure: { kind: 'network', code: 'UND_ERR_CONNECT_TIMEOUT' }, then: 'unavailable' },
  { when: 'the bank closed the socket', failure: { kind: 'network', code: 'UND_ERR_SOCKET' }, then: 'unavailable' },
  { when: 'the socket timed out after sending', failure: { kind: 'network', code: 'ETIMEDOUT' }, then: 'unknown' },
  { when: 'the response headers never came', failure: { kind: 'network', code: 'UND_ERR_HEADERS_TIMEOUT' }, then: 'unknown' },
  { when: 'the response body stalled', failure: { kind: 'network', code: 'UND_ERR_BODY_TIMEOUT' }, then: 'unknown' },
  { when: 'a network error has an unrecognised code', failure: { kind: 'network', code: 'EWHATEVER' }, then: 'unknown' },
  { when: 'a network error has no code', failure: { kind: 'network', code: undefined }, then: 'unknown' },
  { when: 'a network code collides with an Object prototype key', failure: { kind: 'network', code: 'constructor' }, then: 'unknown' },
  { when: 'the bank answers 503 (down or maintenance)', failure: { kind: 'http', status: 503 }, then: 'unavailable' },
  { when: 'a gateway answers 502', failure: { kind: 'http', status: 502 }, then: 'unavailable' },
  { when: 'a gateway answers 504', failure: { kind: 'http', status: 504 }, then: 'unavailable' },
  { when: 'the bank refuses the credentials (401)', failure: { kind: 'http', status: 401 }, then: 'unavailable' },
  { when: 'the bank refuses access (403)', failure: { kind: 'http', status: 403 }, then: 'unavailable' },
  { when: 'the bank gave up reading the request (408)', failure: { kind: 'http', status: 408 }, then: 'retry' },
  { when: 'the bank answers 425', failure: { kind: 'http', status: 425 }, then: 'retry' },
  { when: 'the bank throttles (429)', failure: { kind: 'http', status: 429 }, then: 'retry' },
  { when: 'the bank answers 500', failure: { kind: 'http', status: 500 }, then: 'unknown' },
  { when: 'the bank answers 507', failure: { kind: 'http', status: 507 }, then: 'unknown' },
  { when: 'the bank rejects the pain.001 as malformed (400)', failure: { kind: 'http', status: 400 }, then: 'bug' },
  { when: 'the bank answers 404 to a pain.001', failure: { kind: 'http', status: 404 }, then: 'bug' },
  { when: 'the bank answers 413', failure: { kind: 'http', status: 413 }, then: 'bug' },
  { when: 'the bank answers 415', failure: { kind: 'http', status: 415 }, then: 'bug' },
  { when: 'the bank answers a redirect', failure: { kind: 'http', status: 302 }, then: 'unknown' },
];

describe('bank-iso20022 error decisions', () => {
  for (const c of cases) {
    it(`when ${c.when}, then the decision is ${c.then}`, () => {
      assert.equal(decisionFor(c.failure), c.then);
    });
  }
});
