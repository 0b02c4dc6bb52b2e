import { billPaymentOutcome, type MarkPaidAnswer } from '../domain/bill.ts';
import type { Caller } from '../domain/caller.ts';
import { conflict, ProblemError } from '../domain/errors.ts';
import { findBillPayment, findLiveBillPayment, recordNoticeAnswer, type BillPayment } from '../db/repositories/bill-payments.ts';
import type { Database } from '../db/knex.ts';
import { billerOfBill } from './bill-parties.ts';
import type { ServiceContext } from './context.ts';
import type { Idempotency } from './idempotent-replay.ts';
import { queueCallback } from './queue-callback.ts';
import { runOnce } from './run-once.ts';

// The biller's answer to a mark-paid notice: ACK, or RJC with Def, Dup or Und (markBillPpaymentResponse.yml). It
// comes with the biller's reply to the notice, or later on its own POST /billTransferRequests.

export interface MarkPaidAnswerRequest {
  readonly correlationId: string;
  readonly tenantId: string;
  /** The requestID the notice carried: the payer institution's. */
  readonly requestId: string;
  readonly billId: string;
  readonly answer: MarkPaidAnswer;
}

/**
 * Records the answer once and, if the payer institution gave a callback URL, pushes it there
 * (billPaymentResponse.yml). Answers false when the notice was answered already or is not out yet.
 */
export async function recordMarkPaidAnswer(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, payment: BillPayment, answer: MarkPaidAnswer, db: Database = context.db): Promise<boolean> {
  return db.transaction(async (trx) => {
    if (!(await recordNoticeAnswer(trx, payment.id, answer))) return false;
    if (payment.callbackUrl) {
      await queueCallback(context, {
        organisationId: payment.organisationId,
        url: payment.callbackUrl,
        eventType: 'bill.mark_paid_answer',
        body: { requestId: payment.requestId, billId: payment.billId, status: answer.status, ...(answer.status === 'RJC' && answer.rejectReason ? { rejectReason: answer.rejectReason } : {}) },
        dedupeKey: `bill-payment-answer:${payment.id}`,
        headers: { 'X-CorrelationID': payment.correlationId, 'X-Platform-TenantId': payment.tenantId, 'X-PayerFI-Id': payment.payerInstitutionCode },
      }, trx);
    }
    return true;
  });
}

/** The biller's answer sent on its own: only about a paid bill of the caller's billers, and once (a repeat is no change). */
export async function acceptMarkPaidAnswer(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, request: MarkPaidAnswerRequest, idempotency: Idempotency): Promise<void> {
  await runOnce(context.db, caller.organisationId, idempotency, async (trx) => {
    await recordBillerAnswer(context, caller, request, trx);
    return true;
  });
}

async function recordBillerAnswer(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, request: MarkPaidAnswerRequest, db: Database): Promise<void> {
  const biller = await billerOfBill(db, request.billId);
  const payment = biller.organisationId === caller.organisationId ? await findLiveBillPayment(db, biller.id, request.billId) : undefined;
  if (!payment || billPaymentOutcome(payment.orderStatus) !== 'paid') {
    throw new ProblemError(404, 'bill_payment_not_found', 'Not found', `no paid bill ${request.billId} of this organisation's billers awaits an answer`);
  }
  if (payment.requestId !== request.requestId) {
    throw new ProblemError(400, 'mark_paid_request_mismatch', 'Bad request', `the notice of bill ${request.billId} carried requestID ${payment.requestId}, not ${request.requestId}`);
  }
  if (await recordMarkPaidAnswer(context, payment, request.answer, db)) return;
  const current = (await findBillPayment(db, payment.id))!;
  const given = request.answer.status === 'ACK' ? 'acknowledged' : 'rejected';
  const sameReason = request.answer.status === 'ACK' || request.answer.rejectReason === current.noticeRejectReason;
  if (current.noticeStatus === given && sameReason) return;
  if (current.noticeStatus === 'awaiting_payment') throw conflict('mark_paid_not_sent', `the notice of bill ${request.billId} has not been sent yet`);
  throw conflict('mark_paid_answered', `the notice of bill ${request.billId} was ${current.noticeStatus} already`);
}
