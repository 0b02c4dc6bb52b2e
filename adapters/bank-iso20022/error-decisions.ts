import type { RailDecision } from '../contract.ts';
import { networkDecisionFor } from '../http-failure.ts';

/**
 * What went wrong talking to the bank, and what Kassa must do about it. `bug` means Kassa sent
 * something the bank refuses as such (most 4xx): resending cannot help, so the adapter throws a
 * plain Error rather than a RailError. A 404 answering a status inquiry is not a failure (the bank
 * has no such payment) and never reaches this table.
 */
export type BankDecision = RailDecision | 'bug';

export type BankFailure =
  /** The client gave up waiting (AbortSignal.timeout): the bank may have executed the message. */
  | { readonly kind: 'timeout' }
  /** The bank answered with a non-2xx HTTP status. */
  | { readonly kind: 'http'; readonly status: number }
  /** The request failed below HTTP; `code` is the Node / undici error code, if any. */
  | { readonly kind: 'network'; readonly code: string | undefined };

/** HTTP statuses with a decision of their own; other 5xx are `unknown`, other 4xx are `bug`. */
export const HTTP_STATUS_DECISIONS: Readonly<Record<number, BankDecision>> = Object.freeze({
  401: 'unavailable', // credentials or certificate refused: nothing executed; hold until fixed
  403: 'unavailable', // access to the channel refused (contract suspended, IP not allowed): hold
  408: 'retry', // the bank gave up reading the request: nothing executed
  425: 'retry', // too early (replay protection): send again later
  429: 'retry', // throttled before executing
  502: 'unavailable', // gateway could not reach the bank's host
  503: 'unavailable', // bank down or in its maintenance window: nothing executed
  504: 'unavailable', // gateway timed out reaching the bank
});

export function decisionFor(failure: BankFailure): BankDecision {
  switch (failure.kind) {
    case 'timeout':
      return 'unknown';
    case 'http': {
      const explicit = own(HTTP_STATUS_DECISIONS, failure.status);
      if (explicit) return explicit;
      if (failure.status >= 500) return 'unknown';
      if (failure.status >= 400) return 'bug';
      return 'unknown'; // 1xx/3xx where a pain.002 was expected: cannot tell what happened
    }
    case 'network':
      // An unrecognised failure cannot prove that nothing was executed.
      return networkDecisionFor(failure.code);
  }
}

function own(table: Readonly<Record<string | number, BankDecision>>, key: string | number): BankDecision | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
