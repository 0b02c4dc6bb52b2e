import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { voucherNumberKey } from '../../config/index.ts';
import { BILL_ID, MARK_PAID_REJECT_REASONS, type MarkPaidAnswer } from '../../domain/bill.ts';
import { ProblemError } from '../../domain/errors.ts';
import { grants, type Scope } from '../../domain/scopes.ts';
import { hashVoucherNumber } from '../../domain/voucher.ts';
import type { ServiceContext } from '../../services/context.ts';
import { inquireBill } from '../../services/inquire-bill.ts';
import { payBill } from '../../services/pay-bill.ts';
import { payBillWithVoucher } from '../../services/pay-bill-with-voucher.ts';
import { acceptMarkPaidAnswer } from '../../services/record-mark-paid-answer.ts';
import { voucherRedemption } from '../../services/redeem-voucher.ts';
import { govStackCallbackUrl } from '../govstack-batch-intake.ts';
import { acceptParts, CALLBACK_URL_HEADERS, caseInsensitiveObject, fitDescription, GovStackRejection, givenRequestId, headerOf, parsePart } from '../govstack.ts';
import { replying, type VoucherReplyRefusal } from '../govstack-vouchers.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import {
  billIdSchema, codeSchema, correlationIdempotency, correlationIdSchema, p2gErrors, p2gGuards, PAYER_INSTITUTION_HEADERS, refusingAsGovStack, sendP2gReply, TENANT_HEADERS,
  tenantIdSchema,
} from '../p2g.ts';
import { originOf } from '../request-parts.ts';

// GovStack Payments BB v3 P2G bill payments (api-v3/p2g): the payer institution's bill inquiry
// (billInquiryRequest.yml, answered at once with billInquiryResponse.yml) and payment (billPaymentRequest.yml), and
// the biller's own answer to a mark-paid notice (markBillPpaymentResponse.yml), which the files put on the same path;
// and a bill paid with a voucher (voucherRedemptionforBillPayment.yml).

const payerHeaders = z.object({
  'X-CorrelationID': correlationIdSchema,
  'X-Platform-TenantId': tenantIdSchema,
  'X-PayerFI-Id': codeSchema,
  'X-Callback-URL': govStackCallbackUrl.optional(),
});

/** The files give 12 characters, and Kassa sends it on to billers whose files say so too. */
const requestId = z.string().min(1).max(12);

/** The file's query says fields=inquiry, the only value there is; Kassa accepts it, or nothing. */
const inquiryQuery = z.object({ fields: z.literal('inquiry', { error: 'must be inquiry' }).optional() });

const paymentBody = caseInsensitiveObject({
  requestId,
  billInquiryRequestId: correlationIdSchema,
  billId: billIdSchema,
  paymentReferenceID: z.string().min(1).max(35),
});

const answerHeaders = z.object({ 'X-CorrelationID': correlationIdSchema, 'X-Platform-TenantId': tenantIdSchema });
const answerBody = caseInsensitiveObject({
  requestId,
  billId: billIdSchema,
  status: z.enum(['ACK', 'RJC']),
  rejectReason: z.enum(MARK_PAID_REJECT_REASONS).optional(),
});

/**
 * The file calls the voucher's secret VoucherSecretHash; the holder's number is what is sent, as only Kassa can hash
 * it the way the voucher registry keeps it (keyed, VOUCHER_NUMBER_KEY).
 */
const voucherPaymentBody = caseInsensitiveObject({
  requestId,
  billInquiryRequestId: correlationIdSchema,
  billId: billIdSchema,
  VoucherSecretHash: z.string().trim().min(1).max(64),
});

/** voucherRedemptionforBillPayment.yml's reply: a voucher's refusal carries its GovStack code (452…464), any other 01. */
function refuseVoucherPayment(req: Request, res: Response, refusal: VoucherReplyRefusal): void {
  res.status(refusal.status).json({
    RequestID: givenRequestId(req.body),
    code: refusal.reason ? String(refusal.status) : '01',
    reason: fitDescription(refusal.reason ? `${refusal.message}: ${refusal.detail}` : refusal.detail),
  });
}

const headersOf = (req: Request) => ({
  'X-CorrelationID': req.get('X-CorrelationID'),
  'X-Platform-TenantId': headerOf(req, TENANT_HEADERS),
  'X-PayerFI-Id': headerOf(req, PAYER_INSTITUTION_HEADERS),
  'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS),
});

/** A scope checked inside the route, where one path serves two callers; refused as problem+json like requireScope. */
function requireGrant(res: Response, scope: Scope): void {
  if (!grants(callerOf(res).scopes, scope)) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', `this call needs the ${scope} scope`);
}

/** The biller's answer carries a status; the payer institution's payment does not. */
const isBillerAnswer = (body: unknown) => body !== null && typeof body === 'object' && Object.keys(body).some((key) => key.toLowerCase() === 'status');

export function billsRouter(context: ServiceContext): Router {
  const router = Router();
  const guards = p2gGuards(context);
  const refusals = p2gErrors('reason');

  router.get('/bills/:billId', ...guards, requireScope('bills:pay'), async (req: Request, res: Response) => {
    const givenCorrelation = req.get('X-CorrelationID') ?? '';
    const [headers] = acceptParts(givenCorrelation, parsePart(payerHeaders, headersOf(req), 'header'), parsePart(inquiryQuery, req.query, 'query'));
    const billId = req.params.billId as string;
    if (!BILL_ID.test(billId)) throw new GovStackRejection(400, 'Bad request: path billId must be 1–30 letters, digits, dots, dashes or underscores', givenCorrelation);
    const request = { correlationId: headers['X-CorrelationID'], tenantId: headers['X-Platform-TenantId'], payerInstitutionCode: headers['X-PayerFI-Id'], billId };
    const { reply, replayed } = await refusingAsGovStack(request.correlationId, () =>
      inquireBill(context, callerOf(res), request, correlationIdempotency(req, request.correlationId, request)));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(200).json(reply);
  }, refusals);

  router.post('/billTransferRequests', ...guards, async (req: Request, res: Response) => {
    if (isBillerAnswer(req.body)) return answerMarkPaid(req, res);
    requireGrant(res, 'bills:pay');
    const [headers, body] = acceptParts(givenRequestId(req.body), parsePart(payerHeaders, headersOf(req), 'header'), parsePart(paymentBody, req.body, 'body'));
    const request = {
      correlationId: headers['X-CorrelationID'], tenantId: headers['X-Platform-TenantId'], payerInstitutionCode: headers['X-PayerFI-Id'],
      requestId: body.requestId, billInquiryRequestId: body.billInquiryRequestId, billId: body.billId, paymentReference: body.paymentReferenceID,
      callbackUrl: headers['X-Callback-URL'] ?? null,
    };
    const { reply, replayed } = await refusingAsGovStack(body.requestId, () =>
      payBill(context, callerOf(res), originOf(req, res), request, correlationIdempotency(req, request.correlationId, request)));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).json(reply);
  }, refusals);

  const redeem = voucherRedemption(context);
  router.post('/voucherRedemption', ...guards, requireScope('bills:pay'), requireScope('vouchers:redeem'), replying(refuseVoucherPayment, async (req, res) => {
    const [headers, body] = acceptParts(givenRequestId(req.body), parsePart(payerHeaders, headersOf(req), 'header'), parsePart(voucherPaymentBody, req.body, 'body'));
    const request = {
      correlationId: headers['X-CorrelationID'], tenantId: headers['X-Platform-TenantId'], payerInstitutionCode: headers['X-PayerFI-Id'],
      requestId: body.requestId, billInquiryRequestId: body.billInquiryRequestId, billId: body.billId, voucherNumber: body.VoucherSecretHash,
      callbackUrl: headers['X-Callback-URL'] ?? null,
    };
    // The stored request hash covers the voucher's keyed hash, never its number: a plain hash of 16 digits is soon undone.
    const idempotency = correlationIdempotency(req, request.correlationId, { ...request, voucherNumber: hashVoucherNumber(request.voucherNumber, voucherNumberKey(context.config)) });
    const { reply, replayed } = await refusingAsGovStack(body.requestId, () => payBillWithVoucher(context, redeem, callerOf(res), originOf(req, res), request, idempotency));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).json(reply);
  }));

  async function answerMarkPaid(req: Request, res: Response): Promise<void> {
    requireGrant(res, 'fees:write');
    const [headers, body] = acceptParts(givenRequestId(req.body), parsePart(answerHeaders, headersOf(req), 'header'), parsePart(answerBody, req.body, 'body'));
    const answer: MarkPaidAnswer = body.status === 'ACK' ? { status: 'ACK' } : { status: 'RJC', rejectReason: body.rejectReason ?? null };
    const request = { correlationId: headers['X-CorrelationID'], tenantId: headers['X-Platform-TenantId'], requestId: body.requestId, billId: body.billId, answer };
    const caller = callerOf(res);
    await refusingAsGovStack(body.requestId, () => acceptMarkPaidAnswer(context, caller, request, correlationIdempotency(req, request.correlationId, request)));
    sendP2gReply(res, 202, 'reason', { code: '00', text: `${body.status} recorded for bill ${body.billId}`, requestId: body.requestId });
  }

  return router;
}
