import { backoffDelay } from '../domain/backoff.ts';
import { billPaymentOutcome } from '../domain/bill.ts';
import {
  attachVoucherPayout, findBillPayment, moveNotice, recordNoticeAttempt, releaseVoucherReservation, scheduleBillPaymentCheck, type BillPayment,
} from '../db/repositories/bill-payments.ts';
import { findVoucherByNumber } from '../db/repositories/vouchers.ts';
import { postBillPaidNotice } from './bill-source.ts';
import type { ServiceContext } from './context.ts';
import { voucherRedemptionRequestId } from './pay-bill-with-voucher.ts';
import { recordMarkPaidAnswer } from './record-mark-paid-answer.ts';

const MAX_NOTICE_DELAY_MS = 60 * 60 * 1000;
/** Far longer than any redemption takes, so one still under way is never taken for one that never happened. */
const VOUCHER_REDEMPTION_GRACE_MS = 10 * 60 * 1000;

/**
 * Follows a bill payment to its end. While its order is not final, it looks again at the pace Kassa inquires
 * rails; a failed order needs nothing more (the bill is payable again); a completed one makes the bill paid, and
 * the mark-paid notice is forwarded to the biller, again and again with a growing delay, until the biller takes
 * it (GovStack's store and forward). A payment with a voucher whose order is not known yet gets the order the
 * voucher's redemption made, or, when the voucher was not redeemed for it, is released once that is certain. Returns
 * how long to wait before the next look, or nothing once done.
 */
export async function forwardBillPayment(context: Pick<ServiceContext, 'db' | 'config' | 'queues' | 'logger'>, paymentId: string, attempt: number): Promise<number | undefined> {
  const payment = await findBillPayment(context.db, paymentId);
  if (!payment) return undefined;
  if (payment.noticeStatus === 'awaiting_payment' && payment.orderId === null) return findVoucherPayout(context, payment, attempt);
  if (payment.noticeStatus === 'awaiting_payment') {
    const outcome = billPaymentOutcome(payment.orderStatus);
    if (outcome === 'in_progress') return lookAgainLater(context, payment, attempt);
    if (outcome === 'failed') {
      await moveNotice(context.db, payment.id, 'awaiting_payment', 'not_due');
      return undefined;
    }
    if (!(await moveNotice(context.db, payment.id, 'awaiting_payment', 'forwarding'))) return undefined;
  } else if (payment.noticeStatus !== 'forwarding') {
    return undefined;
  }
  return forwardNotice(context, payment);
}

/** The order is followed at the pace Kassa inquires rails. */
async function lookAgainLater(context: Pick<ServiceContext, 'db' | 'config'>, payment: BillPayment, attempt: number): Promise<number> {
  const delayMs = backoffDelay(attempt, context.config.INQUIRY_BASE_DELAY_MS, context.config.INQUIRY_MAX_DELAY_MS);
  await scheduleBillPaymentCheck(context.db, payment.id, new Date(Date.now() + delayMs));
  return delayMs;
}

async function findVoucherPayout(context: Pick<ServiceContext, 'db' | 'config'>, payment: BillPayment, attempt: number): Promise<number | undefined> {
  const voucher = await findVoucherByNumber(context.db, { organisationId: payment.organisationId }, payment.voucherNumberHash!);
  const redemption = voucher?.redemption;
  if (redemption && redemption.requestId === voucherRedemptionRequestId(payment.id)) {
    await attachVoucherPayout(context.db, payment.id, redemption.orderId);
  } else if (Date.now() - payment.createdAt.getTime() > VOUCHER_REDEMPTION_GRACE_MS) {
    await releaseVoucherReservation(context.db, payment.id);
    return undefined;
  }
  return lookAgainLater(context, payment, attempt);
}

/** Only a payment whose order completed is forwarded, so it has its order and the amount the order paid. */
async function forwardNotice(context: Pick<ServiceContext, 'db' | 'config' | 'queues' | 'logger'>, payment: BillPayment): Promise<number | undefined> {
  if (payment.billSourceUrl === null) return takeNoticeIntoRegister(context, payment);
  const sent = await postBillPaidNotice(context.config, payment.billSourceUrl, payment, payment.amount!);
  const delayMs = backoffDelay(payment.noticeAttempts, context.config.WEBHOOK_BASE_DELAY_MS, MAX_NOTICE_DELAY_MS);
  if (!(await recordNoticeAttempt(context.db, payment.id, sent, new Date(Date.now() + delayMs)))) return undefined;
  if (!sent.delivered) {
    context.logger.warn({ paymentId: payment.id, attempts: payment.noticeAttempts + 1, lastStatus: sent.responseStatus }, 'the biller did not take a mark-paid notice; it is sent again later');
    return delayMs;
  }
  if (sent.answer) await recordMarkPaidAnswer(context, payment, sent.answer);
  return undefined;
}

/** A biller whose register Kassa holds is told by Kassa itself: the paid bill is in the register, acknowledged at once. */
async function takeNoticeIntoRegister(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, payment: BillPayment): Promise<undefined> {
  if (await recordNoticeAttempt(context.db, payment.id, { responseStatus: null, error: null, delivered: true }, new Date())) {
    await recordMarkPaidAnswer(context, payment, { status: 'ACK' });
  }
  return undefined;
}
