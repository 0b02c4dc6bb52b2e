import { conflict } from '../domain/errors.ts';
import type { StoredResponse } from '../db/repositories/idempotency-keys.ts';

export interface Idempotency {
  readonly key: string;
  readonly requestHash: string;
}

/** The stored answer for a repeated key, or the conflict that explains why there is none to give. */
export function replayable(stored: StoredResponse | undefined, idempotency: Idempotency): { status: number; body: unknown } {
  if (stored && stored.requestHash !== idempotency.requestHash) {
    throw conflict('idempotency_key_reused', 'this Idempotency-Key was already used with a different request');
  }
  if (!stored || stored.status === null) throw conflict('idempotency_key_in_use', 'a request with this Idempotency-Key is still being processed; retry shortly');
  return { status: stored.status, body: stored.body };
}
