import type { RailDecision } from '../contract.ts';
import { networkDecisionFor } from '../http-failure.ts';

/**
 * What went wrong talking to the sandbox rail, and what Kassa must do about it. `bug` means Kassa
 * sent something the rail refuses (a 4xx): resending cannot help, so the adapter throws a plain
 * Error rather than a RailError (so does a 404 answering a refund: Kassa asked to refund a payment
 * the rail never executed). A 404 answering a status inquiry (the key was never executed) or an
 * account name lookup (no such account) is not a failure at all and never reaches this table; nor
 * is a declined payment or refund, which is a `failed` outcome.
 */
export type SandboxDecision = RailDecision | 'bug';

export type SandboxFailure =
  /** The client gave up waiting (AbortSignal.timeout): the request may have been executed. */
  | { readonly kind: 'timeout' }
  /** The rail answered with a non-2xx HTTP status. */
  | { readonly kind: 'http'; readonly status: number }
  /** The request failed below HTTP; `code` is the Node / undici error code, if any. */
  | { readonly kind: 'network'; readonly code: string | undefined }
  /** The rail answered 2xx with a body that cannot be read: it may well have executed the request. */
  | { readonly kind: 'unreadable' }
  /** The adapter was closed while the request was in flight: it may have reached the rail. */
  | { readonly kind: 'closed' };

/** HTTP statuses with a decision of their own; other 5xx are `unknown`, other 4xx are `bug`. */
export const HTTP_STATUS_DECISIONS: Readonly<Record<number, SandboxDecision>> = Object.freeze({
  429: 'retry', // throttled before executing: send again later
  502: 'unavailable', // gateway could not reach the rail
  503: 'unavailable', // rail down: nothing executed
  504: 'unavailable', // gateway timed out reaching the rail
});

export function decisionFor(failure: SandboxFailure): SandboxDecision {
  switch (failure.kind) {
    case 'timeout':
    case 'unreadable':
    case 'closed':
      return 'unknown';
    case 'http': {
      const explicit = own(HTTP_STATUS_DECISIONS, failure.status);
      if (explicit) return explicit;
      if (failure.status >= 500) return 'unknown';
      if (failure.status >= 400) return 'bug';
      return 'unknown'; // 1xx/3xx where a result was expected: cannot tell what happened
    }
    case 'network':
      // An unrecognised failure cannot prove that nothing was executed.
      return networkDecisionFor(failure.code);
  }
}

function own(table: Readonly<Record<string | number, SandboxDecision>>, key: string | number): SandboxDecision | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
