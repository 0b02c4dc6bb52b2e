import type { OrderStatus } from './order-status.ts';

/** Bill IDs, prefixes and the codes of billers and payer institutions travel in URL paths and headers. */
export const BILL_ID = /^[A-Za-z0-9_.-]{1,30}$/;
export const BILL_PREFIX = /^[A-Za-z0-9_.-]{1,20}$/;
export const PARTICIPANT_CODE = /^[A-Za-z0-9_.-]{1,20}$/;

/** Why a biller rejects a mark-paid notice (markBillPpaymentResponse.yml). */
export const MARK_PAID_REJECT_REASONS = ['Def', 'Dup', 'Und'] as const;
export type MarkPaidRejectReason = (typeof MARK_PAID_REJECT_REASONS)[number];

export type MarkPaidAnswer = { readonly status: 'ACK' } | { readonly status: 'RJC'; readonly rejectReason: MarkPaidRejectReason | null };

/** What a biller says a bill costs: one amount until its due date and, when it says so, another after it. */
export interface BillAmounts {
  readonly dueAt: Date | null;
  readonly amountOnDueMinor: bigint;
  readonly amountAfterDueMinor: bigint | null;
}

/** The amount a payment made at `at` owes: the amount after the due date once that date has passed. */
export function amountDue(bill: BillAmounts, at: Date): bigint {
  const overdue = bill.dueAt !== null && at.getTime() > bill.dueAt.getTime();
  return overdue && bill.amountAfterDueMinor !== null ? bill.amountAfterDueMinor : bill.amountOnDueMinor;
}

export type BillPaymentOutcome = 'in_progress' | 'paid' | 'failed';

/** Order statuses that mean the money never moved: the bill is payable again. */
export const UNPAID_ORDER_STATUSES: readonly OrderStatus[] = ['failed', 'cancelled'];

/**
 * A payment is its order: paid once the order completed (a later return does not make the bill unpaid again: the
 * biller was told), failed when the order failed or was cancelled, else under way, as is a payment with a voucher
 * whose redemption has not made its order yet (null).
 */
export function billPaymentOutcome(orderStatus: OrderStatus | null): BillPaymentOutcome {
  if (orderStatus === null) return 'in_progress';
  if (orderStatus === 'completed' || orderStatus === 'returned') return 'paid';
  if (UNPAID_ORDER_STATUSES.includes(orderStatus)) return 'failed';
  return 'in_progress';
}

/** GovStack's statuses of a request to pay (rtpStatusUpdateResponse.yml). */
export const TRANSFER_REQUEST_STATUSES = ['COM', 'PND', 'EXP', 'CAN', 'RJC'] as const;
export type TransferRequestStatus = (typeof TRANSFER_REQUEST_STATUSES)[number];

/** How a refusal names a request to pay's status. */
export const TRANSFER_REQUEST_STATUS_WORDS: Readonly<Record<TransferRequestStatus, string>> = { COM: 'complete', PND: 'pending', EXP: 'expired', CAN: 'cancelled', RJC: 'rejected' };

/** What the payer institution (or the biller, cancelling) decided about a request to pay. */
export type TransferRequestDecision = 'pending' | 'accepted' | 'rejected' | 'cancelled';

/**
 * A request to pay is complete once the payment made against it is paid; rejected or cancelled as decided;
 * expired once its time is up with no payment under way (a payment begun in time keeps it open); else pending.
 */
export function transferRequestStatus(request: { readonly decision: TransferRequestDecision; readonly expiresAt: Date }, payment: BillPaymentOutcome | undefined, now: Date): TransferRequestStatus {
  if (payment === 'paid') return 'COM';
  if (request.decision === 'rejected') return 'RJC';
  if (request.decision === 'cancelled') return 'CAN';
  if (payment === 'in_progress') return 'PND';
  return now.getTime() >= request.expiresAt.getTime() ? 'EXP' : 'PND';
}
