import type { RailCallbackRequest, RailDecision } from './contract.ts';

/**
 * What the network said when a request to a rail failed, by Node's error code. `unavailable` when the rail
 * could not be reached or dropped the connection (resuming inquires first, then resends under the same key,
 * which the rail de-duplicates); `unknown` when the request went out and no answer came back in time.
 * Shared by every rail spoken to over HTTP; an unlisted code is `unknown`.
 */
export const NETWORK_CODE_DECISIONS: Readonly<Record<string, RailDecision>> = Object.freeze({
  ECONNREFUSED: 'unavailable',
  ECONNRESET: 'unavailable',
  ECONNABORTED: 'unavailable',
  EPIPE: 'unavailable',
  ENOTFOUND: 'unavailable',
  EAI_AGAIN: 'unavailable',
  EHOSTUNREACH: 'unavailable',
  ENETUNREACH: 'unavailable',
  CERT_HAS_EXPIRED: 'unavailable',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unavailable',
  ERR_TLS_CERT_ALTNAME_INVALID: 'unavailable',
  UND_ERR_CONNECT_TIMEOUT: 'unavailable',
  UND_ERR_SOCKET: 'unavailable',
  UND_ERR_CLOSED: 'unavailable',
  ETIMEDOUT: 'unknown',
  UND_ERR_HEADERS_TIMEOUT: 'unknown',
  UND_ERR_BODY_TIMEOUT: 'unknown',
});

export function networkDecisionFor(code: string | undefined): RailDecision {
  return code !== undefined && Object.hasOwn(NETWORK_CODE_DECISIONS, code) ? NETWORK_CODE_DECISIONS[code]! : 'unknown';
}

export type FetchFailure = { readonly kind: 'timeout' } | { readonly kind: 'network'; readonly code: string | undefined };

/** Reads a failed fetch: its own timeout or abort, or the socket error it wraps. */
export function fetchFailureOf(error: unknown): FetchFailure {
  const name = error instanceof Error || error instanceof DOMException ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout' };
  return { kind: 'network', code: networkCodeOf(error) };
}

/** fetch wraps the socket error: TypeError('fetch failed') { cause: Error { code } | AggregateError }. */
function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof candidate.code === 'string') return candidate.code;
    current = candidate.cause ?? (Array.isArray(candidate.errors) ? candidate.errors[0] : undefined);
  }
  return undefined;
}

/** Every value a pushed request carried for a header, whatever its case; a signed header must appear once. */
export function headerValues(headers: RailCallbackRequest['headers'], name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  return values;
}

/** A header's value when it came exactly once, otherwise undefined (missing or repeated). */
export function singleHeader(headers: RailCallbackRequest['headers'], name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length === 1 ? values[0] : undefined;
}
