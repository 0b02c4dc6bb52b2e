import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { MARK_PAID_REJECT_REASONS, type MarkPaidAnswer } from '../domain/bill.ts';
import { formatMoney, parseMoney, type Money } from '../domain/money.ts';
import { signWebhook } from '../domain/webhook-signature.ts';
import type { BillPayment, NoticeAttempt } from '../db/repositories/bill-payments.ts';
import type { Biller } from '../db/repositories/billers.ts';

// The two calls Kassa makes to a biller's bill source, as GovStack's P2G files describe them: the bill inquiry
// (billInquiryBillerRequest.yml, answered as billInquiryBillerResponse.yml) and the mark-paid notice
// (markBillPpaymentRequest.yml). Each waits at most BILL_SOURCE_TIMEOUT_MS: a biller that hangs is a biller down.

const MAX_ERROR_LENGTH = 500;

/** A bill as its biller describes it, in minor units of its currency. */
export interface SourcedBill {
  readonly billerName: string | null;
  readonly billStatus: string | null;
  readonly dueAt: Date | null;
  readonly currency: string;
  readonly amountOnDueMinor: bigint;
  readonly amountAfterDueMinor: bigint | null;
}

export type BillSourceAnswer =
  | { readonly outcome: 'bill'; readonly bill: SourcedBill }
  | { readonly outcome: 'no_bill' | 'timed_out' | 'unreachable' | 'bad_answer'; readonly reason: string };

/** The headers every call to a biller carries: whose request it is part of. */
export interface BillSourceHeaders {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly payerInstitutionCode: string;
}

/** The files spell the same field `requestID`, `requestId`, `RequestID`: a biller's answer is read whatever the case. */
function withLowerCaseKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key.toLowerCase(), field]));
}

const amount = z.union([z.number().positive(), z.string().regex(/^\s*\d+(\.\d+)?\s*$/)]).transform(String).transform((text) => text.trim());

const billAnswerSchema = z.object({
  code: z.string(),
  reason: z.string().optional(),
  billdetails: z.preprocess(withLowerCaseKeys, z.object({
    billername: z.string().optional(),
    billstatus: z.string().optional(),
    duedate: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
    amountonduedate: amount,
    amountafterduedate: amount.optional(),
    /** Kassa's addition to the file: the bill's currency when it is not the biller's. */
    currency: z.string().length(3).optional(),
  })).optional(),
});

const markPaidAnswerSchema = z.object({
  status: z.string().transform((status) => status.toUpperCase()).pipe(z.enum(['ACK', 'RJC'])),
  rejectreason: z.string().optional(),
});

const joinPath = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;

function failureOf(error: unknown, timeoutMs: number): { outcome: 'timed_out' | 'unreachable'; reason: string } {
  if ((error as Error).name === 'TimeoutError') return { outcome: 'timed_out', reason: `did not answer within ${timeoutMs} ms` };
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return { outcome: 'unreachable', reason: `could not be reached (${cause ?? (error as Error).message})` };
}

/** Asks the biller's bill source for one bill. */
export async function askBillSource(config: Pick<Config, 'BILL_SOURCE_TIMEOUT_MS'>, billSourceUrl: string, biller: Biller, billId: string, headers: BillSourceHeaders): Promise<BillSourceAnswer> {
  let status: number;
  let text: string;
  try {
    const response = await fetch(joinPath(billSourceUrl, `/bills/${encodeURIComponent(billId)}`), {
      headers: { accept: 'application/json', 'X-CorrelationID': headers.correlationId, 'X-Platform-TenantId': headers.tenantId, 'X-PayerFI-Id': headers.payerInstitutionCode },
      redirect: 'manual',
      signal: AbortSignal.timeout(config.BILL_SOURCE_TIMEOUT_MS),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    return failureOf(error, config.BILL_SOURCE_TIMEOUT_MS);
  }
  if (status === 404) return { outcome: 'no_bill', reason: 'the biller knows no such bill' };
  if (status < 200 || status >= 300) return { outcome: 'unreachable', reason: `answered HTTP ${status}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { outcome: 'bad_answer', reason: 'answered with something other than JSON' };
  }
  const parsed = billAnswerSchema.safeParse(withLowerCaseKeys(json));
  if (!parsed.success) return { outcome: 'bad_answer', reason: `answered with no readable bill (${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')})` };
  const answer = parsed.data;
  if (answer.code !== '00' || !answer.billdetails) return { outcome: 'no_bill', reason: answer.reason ?? 'the biller has no such bill to pay' };
  const details = answer.billdetails;
  const currency = details.currency ?? biller.currency;
  const onDue = parseMoney(details.amountonduedate, currency);
  const afterDue = details.amountafterduedate === undefined ? undefined : parseMoney(details.amountafterduedate, currency);
  if (!onDue.ok) return { outcome: 'bad_answer', reason: `gave an amount on the due date that is not money: ${onDue.reason}` };
  if (afterDue && !afterDue.ok) return { outcome: 'bad_answer', reason: `gave an amount after the due date that is not money: ${afterDue.reason}` };
  return {
    outcome: 'bill',
    bill: {
      billerName: details.billername ?? null,
      billStatus: details.billstatus ?? null,
      dueAt: details.duedate === undefined ? null : new Date(details.duedate),
      currency,
      amountOnDueMinor: onDue.money.minor,
      amountAfterDueMinor: afterDue?.ok ? afterDue.money.minor : null,
    },
  };
}

/** The biller's X-CorrelationID for a payment's notice: the same on every attempt, so the biller can tell a repeat. */
const noticeCorrelationId = (payment: Pick<BillPayment, 'id'>) => payment.id.replaceAll('-', '');

/**
 * Posts the mark-paid notice once, signed like webhooks when the biller's organisation has a secret. A 2xx means
 * the biller took it; its ACK or RJC may come with that answer or later, on POST /billTransferRequests.
 */
export async function postBillPaidNotice(config: Pick<Config, 'BILL_SOURCE_TIMEOUT_MS'>, billSourceUrl: string, payment: BillPayment, paid: Money): Promise<NoticeAttempt & { readonly answer: MarkPaidAnswer | null }> {
  const body = JSON.stringify({ requestID: payment.requestId, billId: payment.billId, PaymentReferenceID: payment.paymentReference, amount: formatMoney(paid), currency: paid.currency });
  let responseStatus: number;
  let text: string;
  try {
    const response = await fetch(joinPath(billSourceUrl, '/billTransferRequests'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-CorrelationID': noticeCorrelationId(payment),
        'X-Platform-TenantId': payment.tenantId,
        'X-PayerFI-Id': payment.payerInstitutionCode,
        ...(payment.billerSecret ? { 'kassa-signature': signWebhook(payment.billerSecret, body, Math.floor(Date.now() / 1000)) } : {}),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(config.BILL_SOURCE_TIMEOUT_MS),
    });
    responseStatus = response.status;
    text = await response.text();
  } catch (error) {
    return { responseStatus: null, error: failureOf(error, config.BILL_SOURCE_TIMEOUT_MS).reason.slice(0, MAX_ERROR_LENGTH), delivered: false, answer: null };
  }
  const delivered = responseStatus >= 200 && responseStatus < 300;
  return { responseStatus, error: delivered ? null : text.slice(0, MAX_ERROR_LENGTH), delivered, answer: delivered ? markPaidAnswerOf(text) : null };
}

/** An ACK or RJC in the biller's answer, if it gave one; an RJC reason outside the file's list is kept as none. */
function markPaidAnswerOf(text: string): MarkPaidAnswer | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = markPaidAnswerSchema.safeParse(withLowerCaseKeys(json));
  if (!parsed.success) return null;
  if (parsed.data.status === 'ACK') return { status: 'ACK' };
  const reason = MARK_PAID_REJECT_REASONS.find((known) => known.toLowerCase() === parsed.data.rejectreason?.toLowerCase());
  return { status: 'RJC', rejectReason: reason ?? null };
}
