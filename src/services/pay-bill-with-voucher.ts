import { randomUUID } from 'node:crypto';
import { voucherNumberKey } from '../config/index.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ProblemError } from '../domain/errors.ts';
import { formatMoney } from '../domain/money.ts';
import { grants } from '../domain/scopes.ts';
import { hashVoucherNumber, VoucherRefused } from '../domain/voucher.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { attachVoucherPayout, claimBill, releaseUnpaidBillPayment, releaseVoucherReservation } from '../db/repositories/bill-payments.ts';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotentResponse, releaseIdempotencyKey } from '../db/repositories/idempotency-keys.ts';
import { findVoucherByNumber } from '../db/repositories/vouchers.ts';
import { billerOfBill, ownPayerInstitution } from './bill-parties.ts';
import { quoteOf } from './bill-quotes.ts';
import type { ServiceContext } from './context.ts';
import { replayable, type Idempotency } from './idempotent-replay.ts';
import type { RedeemVoucher } from './redeem-voucher.ts';

export interface VoucherBillPaymentRequest {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly payerInstitutionCode: string;
  readonly requestId: string;
  /** The X-CorrelationID of the payer's bill inquiry. */
  readonly billInquiryRequestId: string;
  readonly billId: string;
  /** The secret number the voucher's holder gave. */
  readonly voucherNumber: string;
  /** Where the biller's ACK or RJC is pushed to the payer institution. */
  readonly callbackUrl: string | null;
}

/** voucherRedemptionforBillPayment.yml's 202. */
export interface VoucherBillPaymentReply {
  readonly RequestID: string;
  readonly code: '00';
  readonly reason: string;
}

const BILL_REDEMPTION = 'bill-payment:';

/** The id the voucher registry keeps with the redemption, by which a lost answer is found again. */
export const voucherRedemptionRequestId = (paymentId: string) => `${BILL_REDEMPTION}${paymentId}`;

/** Whether a redemption was a bill's payment, by the id the registry kept with it. */
export const redeemedForBill = (redemptionRequestId: string | null) => redemptionRequestId?.startsWith(BILL_REDEMPTION) ?? false;

/**
 * Pays a bill with a voucher worth exactly what the bill owes (GovStack 9.3.6): the bill is claimed first, so it can
 * be paid once whichever way; then the voucher is redeemed by the voucher registry, which pays its value out to the
 * biller, registered there as the merchant standing for the biller (or under its biller code), from the voucher's program. A refused voucher
 * releases the bill at once. Should the answer of a redemption that went through be lost, the workers find the
 * redemption by the voucher's number hash and go on; the bill stays claimed meanwhile.
 */
export async function payBillWithVoucher(
  context: Pick<ServiceContext, 'db' | 'config' | 'queues' | 'logger'>, redeem: RedeemVoucher, caller: Caller, origin: RequestOrigin, request: VoucherBillPaymentRequest, idempotency: Idempotency,
): Promise<{ reply: VoucherBillPaymentReply; replayed: boolean }> {
  if (!grants(caller.scopes, 'vouchers:redeem')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'paying a bill with a voucher needs the vouchers:redeem scope');
  const payer = await ownPayerInstitution(context.db, caller, request.payerInstitutionCode);
  const biller = await billerOfBill(context.db, request.billId);
  if (!(await claimIdempotencyKey(context.db, caller.organisationId, idempotency.key, idempotency.requestHash))) {
    const replay = replayable(await findIdempotentResponse(context.db, caller.organisationId, idempotency.key), idempotency);
    return { reply: replay.body as VoucherBillPaymentReply, replayed: true };
  }
  try {
    const quote = await quoteOf(context.db, caller, payer, biller, request);
    const numberHash = hashVoucherNumber(request.voucherNumber, voucherNumberKey(context.config));
    const voucher = await findVoucherByNumber(context.db, { organisationId: caller.organisationId }, numberHash);
    if (!voucher) throw new VoucherRefused('invalid_voucher_number', 'no voucher of this organisation has this number');
    if (voucher.currency !== quote.amount.currency) throw new VoucherRefused('invalid_currency', `the voucher is in ${voucher.currency}, the bill in ${quote.amount.currency}`);
    if (voucher.amountMinor !== quote.amount.minor) {
      throw new VoucherRefused('invalid_amount', `the voucher is worth ${formatMoney({ minor: voucher.amountMinor, currency: voucher.currency })}, the bill owes ${formatMoney(quote.amount)}`);
    }

    const paymentId = randomUUID();
    await context.db.transaction(async (trx) => {
      await releaseUnpaidBillPayment(trx, biller.id, request.billId);
      const claimed = await claimBill(trx, {
        id: paymentId, billerId: biller.id, billId: request.billId, orderId: null, voucherNumberHash: numberHash, organisationId: caller.organisationId,
        payerInstitutionId: payer.id, inquiryId: quote.inquiryId, transferRequestId: quote.transferRequestId, requestId: request.requestId,
        correlationId: request.correlationId, tenantId: request.tenantId, paymentReference: `voucher ${voucher.serialNumber}`, callbackUrl: request.callbackUrl,
      });
      if (!claimed) throw conflict('bill_already_paid', `bill ${request.billId} is already paid, or a payment of it is under way`);
      await appendAudit(trx, {
        organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'bill.pay', target: paymentId,
        sourceIp: origin.sourceIp, requestId: origin.requestId,
        detail: { biller: biller.code, bill_id: request.billId, payer_institution: payer.code, amount_minor: quote.amount.minor.toString(), currency: quote.amount.currency, voucher_serial_number: voucher.serialNumber.toString() },
      });
    });
    await context.queues.followBillPayments([{ paymentId, attempt: 0 }])
      .catch((error: unknown) => context.logger.warn({ err: error, paymentId }, 'bill payment saved but not queued; the sweeper queues it once overdue'));

    let payoutOrderId: string;
    try {
      payoutOrderId = (await redeem(caller, origin, {
        voucherNumber: request.voucherNumber, merchant: { biller: { id: biller.id, code: biller.code } }, override: false, requestId: voucherRedemptionRequestId(paymentId),
        auditDetail: { bill_id: request.billId, biller: biller.code, bill_payment: paymentId },
      })).orderId;
    } catch (error) {
      // A refusal redeemed nothing; anything else may have, so the bill stays claimed until the workers know.
      if (error instanceof VoucherRefused || error instanceof ProblemError) await releaseVoucherReservation(context.db, paymentId);
      throw error;
    }
    await attachVoucherPayout(context.db, paymentId, payoutOrderId);
    const reply: VoucherBillPaymentReply = {
      RequestID: request.requestId, code: '00', reason: `bill ${request.billId} paid with voucher ${voucher.serialNumber}; biller ${biller.code} is told once the payout completes`,
    };
    await completeIdempotencyKey(context.db, caller.organisationId, idempotency.key, { status: 202, body: reply });
    return { reply, replayed: false };
  } catch (error) {
    await releaseIdempotencyKey(context.db, caller.organisationId, idempotency.key);
    throw error;
  }
}
