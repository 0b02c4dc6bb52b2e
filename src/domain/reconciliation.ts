import type { OrderKind } from './order.ts';
import type { OrderStatus } from './order-status.ts';

/**
 * The rules of reconciliation, as data: the repository's set-based matching applies them to every line of a
 * statement at once, so that a statement of a million lines is matched in a few SQL statements.
 *
 * Per line: first by end-to-end reference (the order's rail key); a line without one by amount, value date
 * (within RECON_VALUE_DATE_WINDOW_DAYS) and counterparty account, when exactly one order and one line fit; a
 * bulk line by the rail keys it lists, or without them by count and total against the payments that
 * completed together (one chunk). Then each (line, order) pair is judged:
 *  - a second booking for the same payment (another reference, or twice in one statement): duplicate_on_statement;
 *  - a reversal: the payment came back: a completed order becomes returned (with a webhook), and a `returned`
 *    exception is raised for treasury to follow the money;
 *  - the amount or currency differs: amount_mismatch (the order is left as it is);
 *  - Kassa says failed or cancelled (or never sent it) and the bank paid: status_mismatch, the most severe;
 *  - Kassa still waits for the rail (submitted, unknown, requires_action): the statement confirms it: completed;
 *  - otherwise matched.
 * A line no order explains is unexpected_on_statement; an order Kassa completed that no statement shows
 * RECON_MISSING_AFTER_DAYS after its completion is missing_on_statement.
 *
 * One exception comes from the pipeline, not from a statement: voucher_payout_failed, raised when the payout of a
 * redeemed voucher fails, is cancelled or comes back, for Kassa then owes the merchant the voucher's value.
 */

export const EXCEPTION_TYPES = ['missing_on_statement', 'unexpected_on_statement', 'amount_mismatch', 'duplicate_on_statement', 'status_mismatch', 'returned', 'voucher_payout_failed'] as const;
export type ExceptionType = (typeof EXCEPTION_TYPES)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Money out that Kassa believes never left is the worst case; a merchant that handed out goods or cash and was not
 * paid comes next; a return is handled, but treasury must follow it.
 */
export const SEVERITY_OF: Readonly<Record<ExceptionType, Severity>> = {
  status_mismatch: 'critical',
  duplicate_on_statement: 'high',
  amount_mismatch: 'high',
  voucher_payout_failed: 'high',
  unexpected_on_statement: 'medium',
  missing_on_statement: 'medium',
  returned: 'low',
};

export const EXCEPTION_STATUSES = ['open', 'assigned', 'resolved'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/** Orders still waiting for the rail's word: a statement line is that word. */
export const CONFIRMABLE_STATUSES: readonly OrderStatus[] = ['submitted', 'unknown', 'requires_action'];
/** Orders Kassa says did not (or not yet) go out: a booking for them contradicts Kassa. */
export const CONTRADICTED_STATUSES: readonly OrderStatus[] = ['failed', 'cancelled', 'received', 'queued'];
/** Orders whose money left: the ones a statement must show, and the ones a return can apply to. */
export const PAID_STATUSES: readonly OrderStatus[] = ['completed', 'returned'];

/** On the government's account, a benefit is money out (a debit) and a fee money in (a credit). */
export function expectedDirection(kind: OrderKind): 'credit' | 'debit' {
  return kind === 'benefit' ? 'debit' : 'credit';
}

/** Exceptions move open → assigned → resolved; assigning again re-assigns; a resolved one stays resolved. */
export function canAssign(status: ExceptionStatus): boolean {
  return status !== 'resolved';
}

export function canResolve(status: ExceptionStatus): boolean {
  return status !== 'resolved';
}

/** Settings of matching, from the configuration. */
export interface MatchingSettings {
  /** An order completed this many days ago that no statement shows is missing. */
  readonly missingAfterDays: number;
  /** How far (in days) a line's value date may be from the order's date for a match without reference. */
  readonly valueDateWindowDays: number;
}
