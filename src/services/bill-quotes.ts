import { amountDue, billPaymentOutcome, TRANSFER_REQUEST_STATUS_WORDS, transferRequestStatus } from '../domain/bill.ts';
import type { Caller } from '../domain/caller.ts';
import { conflict, ProblemError } from '../domain/errors.ts';
import type { Money } from '../domain/money.ts';
import { findBillInquiry } from '../db/repositories/bill-inquiries.ts';
import type { Biller } from '../db/repositories/billers.ts';
import type { PayerInstitution } from '../db/repositories/payer-institutions.ts';
import { findTransferRequestForPayer } from '../db/repositories/transfer-requests.ts';
import type { Database } from '../db/knex.ts';

/** What the payer saw the bill cost: its inquiry, or the request to pay it was sent. */
export interface Quote {
  readonly amount: Money;
  readonly inquiryId: string | null;
  readonly transferRequestId: string | null;
}

/**
 * What a payment of a bill owes, whichever way it pays: the amount of the caller's own inquiry into the bill (before
 * or after the due date, as the payment is made now), or of a pending request to pay sent to its payer institution.
 */
export async function quoteOf(db: Database, caller: Caller, payer: PayerInstitution, biller: Biller, request: { readonly billInquiryRequestId: string; readonly billId: string }): Promise<Quote> {
  const inquiry = await findBillInquiry(db, caller.organisationId, request.billInquiryRequestId);
  if (inquiry) {
    if (inquiry.billId !== request.billId) throw new ProblemError(400, 'bill_inquiry_mismatch', 'Bad request', `bill inquiry ${request.billInquiryRequestId} was about bill ${inquiry.billId}, not ${request.billId}`);
    if (inquiry.payerInstitutionId !== payer.id) throw new ProblemError(400, 'bill_inquiry_mismatch', 'Bad request', `bill inquiry ${request.billInquiryRequestId} was made for another payer institution than ${payer.code}`);
    if (inquiry.billerBillStatus?.toUpperCase() === 'PAID') throw conflict('bill_already_paid', `biller ${biller.code} says bill ${request.billId} is paid`);
    return { amount: { minor: amountDue(inquiry, new Date()), currency: inquiry.currency }, inquiryId: inquiry.id, transferRequestId: null };
  }
  const requested = await findTransferRequestForPayer(db, biller.id, request.billInquiryRequestId, payer.id);
  if (requested && requested.billId === request.billId) {
    const status = transferRequestStatus(requested, requested.payment ? billPaymentOutcome(requested.payment.orderStatus) : undefined, new Date());
    if (status !== 'PND') throw conflict('transfer_request_closed', `the request to pay ${requested.rtpId} is ${TRANSFER_REQUEST_STATUS_WORDS[status]}`);
    return { amount: { minor: requested.amountMinor, currency: requested.currency }, inquiryId: null, transferRequestId: requested.id };
  }
  throw new ProblemError(404, 'bill_inquiry_not_found', 'Not found', `no bill inquiry or request to pay ${request.billInquiryRequestId} of bill ${request.billId} was made for payer institution ${payer.code}`);
}
