import type { z } from 'zod';
import type { Money } from '../src/domain/money.ts';
import type { OrderKind, Party } from '../src/domain/order.ts';

/** What Kassa asks a rail to do: one payment, identified on the rail by a key that never changes across retries. */
export interface RailPayment {
  /** At most 35 characters of [A-Za-z0-9] (it fits ISO 20022 EndToEndId and GSMA X-CorrelationID alike). Unique within a chunk. */
  readonly railKey: string;
  readonly kind: OrderKind;
  readonly amount: Money;
  readonly payer: Party;
  readonly payee: Party;
  readonly reference: string;
  /** Where the rail should push its asynchronous answer about this payment (Kassa's callback endpoint for the rail). */
  readonly callbackUrl: string;
}

/** What the payer must still do for a collection to go through. */
export type NextAction =
  | { readonly type: 'payer_approval'; readonly message?: string }
  | { readonly type: 'redirect'; readonly url: string };

export type RailOutcome =
  | { readonly status: 'completed'; readonly railReference: string; readonly fee?: Money }
  | { readonly status: 'pending'; readonly railReference?: string; readonly nextAction?: NextAction }
  | { readonly status: 'failed'; readonly reasonCode: string; readonly reason: string; readonly railReference?: string };

/**
 * What a status inquiry can learn. `not_found` must mean the rail has no record of the key at all — not
 * "not yet processed" — because Kassa answers it by sending the payment again under the same key.
 */
export type RailStatus = RailOutcome | { readonly status: 'not_found' };

export type RailDirection = 'disbursement' | 'collection';

export interface RailCapabilities {
  readonly directions: readonly RailDirection[];
  readonly partyTypes: readonly Party['type'][];
  /** ISO 4217 codes, or '*' for any. */
  readonly currencies: readonly string[];
  /** Whether one call carries many payments (pain.001 with many transactions, a GSMA batch). */
  readonly bulk: boolean;
  readonly maxChunkSize: number;
  /** Whether the rail pushes outcomes (callbacks, webhooks) besides answering status inquiries. */
  readonly callbacks: boolean;
  readonly refunds: boolean;
  readonly statements: boolean;
}

/** The raw HTTP request a rail pushed to Kassa; signatures are checked on the exact bytes received. */
export interface RailCallbackRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: Buffer;
}

export interface RailNotification {
  readonly railKey: string;
  readonly outcome: RailOutcome;
}

/** One booked movement on the rail's side, as a statement or transaction list reports it. */
export interface RailStatementEntry {
  /** The rail key (EndToEndId, X-CorrelationID, metadata) when the rail echoes it. */
  readonly railKey?: string;
  readonly railReference: string;
  readonly amount: Money;
  readonly direction: 'credit' | 'debit';
  /** ISO dates (YYYY-MM-DD). */
  readonly bookingDate: string;
  readonly valueDate: string;
  readonly counterparty?: string;
  readonly reversal: boolean;
  readonly reasonCode?: string;
  /** A statement line that covers several payments (a bulk debit) lists their rail keys here. */
  readonly batchRailKeys?: readonly string[];
  /** How many payments a bulk line covers, where the rail says so without listing them (MT940 /NBTX/). */
  readonly batchCount?: number;
}

export interface RailAdapter {
  readonly id: string;
  readonly capabilities: RailCapabilities;
  /** Executes a chunk; every payment gets an outcome or an error of its own. Throws a RailError when the whole call failed. */
  initiateChunk(payments: readonly RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>>;
  getStatus(railKey: string): Promise<RailStatus>;
  /** Verifies and parses what the rail pushed. Throws RailCallbackRejected when it is forged or malformed. */
  parseCallback(request: RailCallbackRequest): Promise<readonly RailNotification[]>;
  /** Returns money for a completed payment, where the rail allows (capabilities.refunds). */
  refund?(railKey: string, amount: Money, refundKey: string): Promise<RailOutcome>;
  /** The rail's bookings for a date range, for reconciliation (capabilities.statements). */
  fetchStatement?(range: { readonly from: string; readonly to: string }): Promise<readonly RailStatementEntry[]>;
  /** The name the rail holds for an account, for a pre-payment check; undefined when unknown. */
  lookupAccountName?(party: Party): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * How a rail is listed in the registry: its id, the options it needs (validated at boot, from the
 * environment variables RAIL_<ID>_<OPTION>, e.g. RAIL_BANK_ISO20022_BASE_URL → baseUrl) and a factory.
 */
export interface RailDefinition<Options = unknown> {
  readonly id: string;
  readonly optionsSchema: z.ZodType<Options>;
  create(options: Options): RailAdapter;
}

/**
 * The one decision a rail failure maps to:
 * - `retry`: nothing was executed; send again later under the same key;
 * - `unknown`: the rail may have executed it; inquire, never resend under a new key;
 * - `unavailable`: the rail cannot be reached or refuses service; hold the order, inquire before any resend
 *   (a connection may have dropped after the rail executed), and resume when it is back.
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

/** A pushed callback or webhook that failed verification or could not be read; nothing may change because of it. */
export class RailCallbackRejected extends Error {
  override name = 'RailCallbackRejected';
}
