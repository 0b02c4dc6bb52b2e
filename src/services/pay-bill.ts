import { randomUUID } from 'node:crypto';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ProblemError, ValidationError } from '../domain/errors.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { claimBill, releaseUnpaidBillPayment } from '../db/repositories/bill-payments.ts';
import type { Biller } from '../db/repositories/billers.ts';
import { insertOrders } from '../db/repositories/orders.ts';
import type { PayerInstitution } from '../db/repositories/payer-institutions.ts';
import { billerOfBill, ownPayerInstitution } from './bill-parties.ts';
import { quoteOf } from './bill-quotes.ts';
import type { ServiceContext } from './context.ts';
import type { Idempotency } from './idempotent-replay.ts';
import { runOnce } from './run-once.ts';
import { prepareOrder, type OrderRequest } from './submit-order.ts';

export interface BillPaymentRequest {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly payerInstitutionCode: string;
  /** The payer institution's requestId, echoed in every answer and notice about the payment. */
  readonly requestId: string;
  /** The X-CorrelationID of the payer's bill inquiry, or the TxnID of the request to pay it was sent. */
  readonly billInquiryRequestId: string;
  readonly billId: string;
  /** The payer institution's own reference for the payment, handed to the biller. */
  readonly paymentReference: string;
  /** Where the biller's ACK or RJC is pushed to the payer institution (billPaymentResponse.yml). */
  readonly callbackUrl: string | null;
}

/** billPaymentRequest.yml's 202. */
export interface BillPaymentReply {
  readonly responseCode: '00';
  readonly reason: string;
  readonly requestID: string;
}

/**
 * Pays a bill: claims it (a bill has at most one live payment: a second, concurrent or not, is refused and never
 * becomes an order) and writes the fee order from the payer institution's settlement account to the biller's
 * account, in the biller's organisation, in one transaction. The order then travels the rails like any other; the
 * bill is paid when it completes, payable again if it fails, and the workers tell the biller.
 */
export async function payBill(context: Pick<ServiceContext, 'db' | 'rails' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, request: BillPaymentRequest, idempotency: Idempotency): Promise<{ reply: BillPaymentReply; replayed: boolean }> {
  const payer = await ownPayerInstitution(context.db, caller, request.payerInstitutionCode);
  const biller = await billerOfBill(context.db, request.billId);
  const paymentId = randomUUID();
  const { result: reply, replayed } = await runOnce(context.db, caller.organisationId, idempotency, async (trx): Promise<BillPaymentReply> => {
    const quote = await quoteOf(trx, caller, payer, biller, request);
    const { order, body } = routedOrder(context, biller.organisationId, payer, biller, {
      kind: 'fee', amount: quote.amount, payer: payer.settlementAccount, payee: biller.account,
      reference: `bill ${request.billId} ref ${request.paymentReference}`, callbackUrl: null,
      metadata: { bill: { biller: biller.code, bill_id: request.billId, payer_institution: payer.code, payment_reference: request.paymentReference, payment_id: paymentId } },
    });
    await releaseUnpaidBillPayment(trx, biller.id, request.billId);
    const claimed = await claimBill(trx, {
      id: paymentId, billerId: biller.id, billId: request.billId, orderId: order.id, voucherNumberHash: null, organisationId: caller.organisationId, payerInstitutionId: payer.id,
      inquiryId: quote.inquiryId, transferRequestId: quote.transferRequestId, requestId: request.requestId, correlationId: request.correlationId,
      tenantId: request.tenantId, paymentReference: request.paymentReference, callbackUrl: request.callbackUrl,
    });
    if (!claimed) throw conflict('bill_already_paid', `bill ${request.billId} is already paid, or a payment of it is under way`);
    const [written] = await insertOrders(trx, [{
      order, idempotencyKey: `bill-payment:${paymentId}`, requestHash: idempotency.requestHash, responseBody: body,
      audit: {
        organisationId: biller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'order.create', target: order.id,
        sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { kind: 'fee', currency: quote.amount.currency, bill_payment: paymentId },
      },
    }]);
    if (!written) throw new Error(`the order of bill payment ${paymentId} was not written`);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'bill.pay', target: paymentId,
      sourceIp: origin.sourceIp, requestId: origin.requestId,
      detail: { biller: biller.code, bill_id: request.billId, payer_institution: payer.code, amount_minor: quote.amount.minor.toString(), currency: quote.amount.currency, order_id: order.id },
    });
    return { responseCode: '00', reason: `payment of bill ${request.billId} accepted; biller ${biller.code} is told once it completes`, requestID: request.requestId };
  });
  if (!replayed) {
    await context.queues.followBillPayments([{ paymentId, attempt: 0 }])
      .catch((error: unknown) => context.logger.warn({ err: error, paymentId }, 'bill payment saved but not queued; the sweeper queues it once overdue'));
  }
  return { reply, replayed };
}

/** The fee order, or why no rail carries it, in the words of the parties rather than of an order's body fields. */
function routedOrder(context: Pick<ServiceContext, 'rails'>, organisationId: string, payer: PayerInstitution, biller: Biller, request: OrderRequest) {
  try {
    return prepareOrder(context, organisationId, request);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const reasons = error.errors.map((problem) => problem.reason).join('; ');
    throw new ProblemError(422, 'no_rail_route', 'Unprocessable', `no rail carries a payment from ${payer.code}'s settlement account to biller ${biller.code}: ${reasons}`);
  }
}
