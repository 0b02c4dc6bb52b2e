import { randomUUID } from 'node:crypto';
import { billPaymentOutcome } from '../domain/bill.ts';
import type { Caller } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import { formatMoney } from '../domain/money.ts';
import { insertBillInquiry } from '../db/repositories/bill-inquiries.ts';
import { findLiveBillPayment } from '../db/repositories/bill-payments.ts';
import type { Biller } from '../db/repositories/billers.ts';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotentResponse, releaseIdempotencyKey } from '../db/repositories/idempotency-keys.ts';
import { askBillRegister } from './bill-register.ts';
import { askBillSource, type BillSourceAnswer, type SourcedBill } from './bill-source.ts';
import { billerOfBill, ownPayerInstitution } from './bill-parties.ts';
import type { ServiceContext } from './context.ts';
import { replayable, type Idempotency } from './idempotent-replay.ts';

export interface BillInquiryRequest {
  /** Names the inquiry: a payment of the bill gives it as its billInquiryRequestId. */
  readonly correlationId: string;
  readonly tenantId: string;
  readonly payerInstitutionCode: string;
  readonly billId: string;
}

/** billInquiryResponse.yml, answered at once rather than posted back later. */
export interface BillInquiryReply {
  readonly requestId: string;
  readonly code: '00';
  readonly reason: string;
  readonly billId: string;
  readonly billDetails: {
    readonly billerId: string;
    readonly billerName: string;
    readonly billStatus: string;
    /** Unix seconds. */
    readonly dueDate: number | null;
    readonly amountonDueDate: number;
    readonly amountAfterDueDate: number | null;
    readonly currency: string;
  };
}

const REFUSALS: Readonly<Record<Exclude<BillSourceAnswer['outcome'], 'bill'>, { status: number; code: string; title: string }>> = {
  no_bill: { status: 404, code: 'bill_not_found', title: 'Not found' },
  timed_out: { status: 504, code: 'biller_timed_out', title: 'Biller unavailable' },
  unreachable: { status: 502, code: 'biller_unreachable', title: 'Biller unavailable' },
  bad_answer: { status: 502, code: 'biller_bad_answer', title: 'Biller unavailable' },
};

/**
 * Asks the bill's biller for it on behalf of a payer institution of the caller, and remembers what it said so a
 * payment can pay exactly that. The X-CorrelationID is the idempotency key: asked again, the first answer comes
 * back without asking the biller again. A biller that does not answer in time is refused, never waited on.
 */
export async function inquireBill(context: Pick<ServiceContext, 'db' | 'config'>, caller: Caller, request: BillInquiryRequest, idempotency: Idempotency): Promise<{ reply: BillInquiryReply; replayed: boolean }> {
  const payer = await ownPayerInstitution(context.db, caller, request.payerInstitutionCode);
  const biller = await billerOfBill(context.db, request.billId);
  if (!(await claimIdempotencyKey(context.db, caller.organisationId, idempotency.key, idempotency.requestHash))) {
    const replay = replayable(await findIdempotentResponse(context.db, caller.organisationId, idempotency.key), idempotency);
    return { reply: replay.body as BillInquiryReply, replayed: true };
  }
  try {
    const answer = biller.billSourceUrl === null
      ? await askBillRegister(context.db, biller, request.billId)
      : await askBillSource(context.config, biller.billSourceUrl, biller, request.billId, { correlationId: request.correlationId, tenantId: request.tenantId, payerInstitutionCode: payer.code });
    if (answer.outcome !== 'bill') {
      const refusal = REFUSALS[answer.outcome];
      throw new ProblemError(refusal.status, refusal.code, refusal.title, answer.outcome === 'no_bill' ? `biller ${biller.code} has no bill ${request.billId}: ${answer.reason}` : `biller ${biller.code} ${answer.reason}; try again later`);
    }
    const live = await findLiveBillPayment(context.db, biller.id, request.billId);
    const reply = presentBill(request, biller, answer.bill, live && billPaymentOutcome(live.orderStatus));
    await context.db.transaction(async (trx) => {
      await insertBillInquiry(trx, {
        id: randomUUID(), organisationId: caller.organisationId, correlationId: request.correlationId, payerInstitutionId: payer.id, billerId: biller.id,
        billId: request.billId, billerBillStatus: answer.bill.billStatus, currency: answer.bill.currency, amountOnDueMinor: answer.bill.amountOnDueMinor,
        amountAfterDueMinor: answer.bill.amountAfterDueMinor, dueAt: answer.bill.dueAt,
      });
      await completeIdempotencyKey(trx, caller.organisationId, idempotency.key, { status: 200, body: reply });
    });
    return { reply, replayed: false };
  } catch (error) {
    await releaseIdempotencyKey(context.db, caller.organisationId, idempotency.key);
    throw error;
  }
}

/** Kassa's own word on the bill comes first: paid, or being paid, whatever the biller's records say yet. */
function presentBill(request: BillInquiryRequest, biller: Biller, bill: SourcedBill, payment: ReturnType<typeof billPaymentOutcome> | undefined): BillInquiryReply {
  const amount = (minor: bigint) => Number(formatMoney({ minor, currency: bill.currency }));
  const billStatus = payment === 'paid' ? 'PAID' : payment === 'in_progress' ? 'PENDING' : (bill.billStatus ?? 'UNPAID');
  return {
    requestId: request.correlationId,
    code: '00',
    reason: 'bill found',
    billId: request.billId,
    billDetails: {
      billerId: biller.code,
      billerName: bill.billerName ?? biller.name,
      billStatus,
      dueDate: bill.dueAt === null ? null : Math.floor(bill.dueAt.getTime() / 1000),
      amountonDueDate: amount(bill.amountOnDueMinor),
      amountAfterDueDate: bill.amountAfterDueMinor === null ? null : amount(bill.amountAfterDueMinor),
      currency: bill.currency,
    },
  };
}
