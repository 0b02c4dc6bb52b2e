import type { Money } from '../src/domain/money.ts';
import type { OrderKind, Party } from '../src/domain/order.ts';

/** What Kassa asks a rail to do: one payment, identified on the rail by a key that never changes across retries. */
export interface RailPayment {
  readonly railKey: string;
  readonly kind: OrderKind;
  readonly amount: Money;
  readonly payer: Party;
  readonly payee: Party;
  readonly reference: string;
}

export type RailOutcome =
  | { readonly status: 'completed'; readonly railReference: string }
  | { readonly status: 'pending'; readonly railReference?: string }
  | { readonly status: 'failed'; readonly reasonCode: string; readonly reason: string; readonly railReference?: string };

/** What a status inquiry can learn; `not_found` means the rail never executed the key, so sending it again is safe. */
export type RailStatus = RailOutcome | { readonly status: 'not_found' };

export type RailDirection = 'disbursement' | 'collection';

export interface RailCapabilities {
  readonly directions: readonly RailDirection[];
  readonly partyTypes: readonly Party['type'][];
  /** ISO 4217 codes, or '*' for any. */
  readonly currencies: readonly string[];
  readonly maxChunkSize: number;
}

export interface RailAdapter {
  readonly id: string;
  readonly capabilities: RailCapabilities;
  /** Executes a chunk; every payment gets an outcome or an error of its own. Throws a RailError when the whole call failed. */
  initiateChunk(payments: readonly RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>>;
  getStatus(railKey: string): Promise<RailStatus>;
  close(): Promise<void>;
}

/**
 * The one decision a rail failure maps to:
 * - `retry`: nothing was executed; send again later under the same key;
 * - `unknown`: the rail may have executed it; inquire, never resend under a new key;
 * - `unavailable`: the rail is down; hold the order and resume when it is back.
 * (A decline is not an error: it is a `failed` outcome carrying the rail's reason code.)
 */
export type RailDecision = 'retry' | 'unknown' | 'unavailable';

export class RailError extends Error {
  override name = 'RailError';
  constructor(
    readonly decision: RailDecision,
    message: string,
    readonly railCode?: string,
  ) {
    super(message);
  }
}

export function isRailError(error: unknown): error is RailError {
  return error instanceof RailError || (error instanceof Error && error.name === 'RailError' && 'decision' in error);
}
