import assert from 'node:assert/strict';
import { decisionFor, type SandboxDecision, type SandboxFailure } from '../../adapters/sandbox/error-decisions.ts';

const cases: readonly { readonly when: string; readonly failure: SandboxFailure; readonly then: SandboxDecision }[] = [
  { when: 'the request timed out', failure: { kind: 'timeout' }, then: 'unknown' },
  { when: 'the connection was refused', failure: { kind: 'network', code: 'ECONNREFUSED' }, then: 'unavailable' },
  { when: 'the connection was reset', failure: { kind: 'network', code: 'ECONNRESET' }, then: 'unavailable' },
  { when: 'the host name does not resolve', failure: { kind: 'network', code: 'ENOTFOUND' }, then: 'unavailable' },
  { when: 'DNS failed temporarily', failure: { kind: 'network', code: 'EAI_AGAIN' }, then: 'unavailable' },
  { when: 'the host is unreachable', failure: { kind: 'network', code: 'EHOSTUNREACH' }, then: 'unavailable' },
  { when: 'connecting timed out', failure: { kind: 'network', code: 'UND_ERR_CONNECT_TIMEOUT' }, then: 'unavailable' },
  { when: 'the rail closed the socket', failure: { kind: 'network', code: 'UND_ERR_SOCKET' }, then: 'unavailable' },
  { when: 'the response headers never came', failure: { kind: 'network', code: 'UND_ERR_HEADERS_TIMEOUT' }, then: 'unknown' },
  { when: 'the response body stalled', failure: { kind: 'network', code: 'UND_ERR_BODY_TIMEOUT' }, then: 'unknown' },
  { when: 'a network error has an unrecognised code', failure: { kind: 'network', code: 'EWHATEVER' }, then: 'unknown' },
  { when: 'a network error has no code', failure: { kind: 'network', code: undefined }, then: 'unknown' },
  { when: 'a network code collides with an Object prototype key', failure: { kind: 'network', code: 'constructor' }, then: 'unknown' },
  { when: 'the rail answers 503', failure: { kind: 'http', status: 503 }, then: 'unavailable' },
  { when: 'a gateway answers 502', failure: { kind: 'http', status: 502 }, then: 'unavailable' },
  { when: 'a gateway answers 504', failure: { kind: 'http', status: 504 }, then: 'unavailable' },
  { when: 'the rail answers 429', failure: { kind: 'http', status: 429 }, then: 'retry' },
  { when: 'the rail answers 500', failure: { kind: 'http', status: 500 }, then: 'unknown' },
  { when: 'the rail answers 507', failure: { kind: 'http', status: 507 }, then: 'unknown' },
  { when: 'the rail answers 400', failure: { kind: 'http', status: 400 }, then: 'bug' },
  { when: 'the rail answers 404 to a transfer request', failure: { kind: 'http', status: 404 }, then: 'bug' },
  { when: 'the rail answers 409', failure: { kind: 'http', status: 409 }, then: 'bug' },
  { when: 'the rail answers 413', failure: { kind: 'http', status: 413 }, then: 'bug' },
  { when: 'the rail answers a redirect', failure: { kind: 'http', status: 302 }, then: 'unknown' },
  { when: 'the rail answers 2xx with an unreadable body', failure: { kind: 'unreadable' }, then: 'unknown' },
  { when: 'the adapter was closed with the request in flight', failure: { kind: 'closed' }, then: 'unknown' },
];

describe('sandbox error decisions', () => {
  for (const c of cases) {
    it(`when ${c.when}, then the decision is ${c.then}`, () => {
      assert.equal(decisionFor(c.failure), c.then);
    });
  }
});
