import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalTextOf } from '../../domain/batch.ts';
import { ProblemError } from '../../domain/errors.ts';
import { findTransferRequest } from '../../db/repositories/transfer-requests.ts';
import { answerRequestToPay } from '../../services/answer-request-to-pay.ts';
import { ownBiller } from '../../services/bill-parties.ts';
import { cancelRequestToPay } from '../../services/cancel-request-to-pay.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentTransferRequestStatus } from '../../services/present-transfer-request.ts';
import { requestToPay, type PayerOfRequest } from '../../services/request-to-pay.ts';
import { govStackAmount, govStackCallbackUrl } from '../govstack-batch-intake.ts';
import { acceptParts, CALLBACK_URL_HEADERS, caseInsensitiveObject, givenRequestId, GovStackRejection, headerOf, parsePart } from '../govstack.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { billIdSchema, codeSchema, correlationIdempotency, correlationIdSchema, p2gErrors, p2gGuards, refusingAsGovStack, TENANT_HEADERS, tenantIdSchema } from '../p2g.ts';
import { originOf } from '../request-parts.ts';

// GovStack Payments BB v3 P2G request to pay (api-v3/p2g): the biller's request (billerRtpReq.yml), sent on to the
// payer institution (payerRtpRequest.yml); the payer institution's answer (payerRtpResponse.yml), pushed to the
// biller (billerRtpResponse.yml, /rtpUpdate); and the request's status (rtpStatusUpdateRequest.yml, answered at once
// with rtpStatusUpdateResponse.yml). A request is known by the biller's rtpId, the transferRequestId of the path.

const billerHeaders = z.object({
  'X-CorrelationID': correlationIdSchema,
  'X-Platform-TenantId': tenantIdSchema,
  'X-billerId': codeSchema,
});
const requestHeaders = billerHeaders.extend({ 'X-Callback-URL': govStackCallbackUrl });

/** The files give 12 characters, and Kassa sends it on to payer institutions whose files say so too. */
const requestId = z.string().min(1).max(12);
/** An integer in the files; Kassa also takes it as text, as it is a path segment. */
const rtpId = z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), codeSchema], { error: 'must be a whole number or 1–20 letters, digits, dots, dashes or underscores' }).transform(String);

const rtpRequestBody = caseInsensitiveObject({
  requestId,
  rtpId,
  billID: billIdSchema,
  requestType: z.enum(['00', '01']),
  payerFiDetails: caseInsensitiveObject({ payerFIBIC: codeSchema, financialAddress: z.string().min(1).max(30).optional() }).optional(),
  alias: caseInsensitiveObject({ aliasType: z.enum(['00', '01', '02']).optional(), aliasId: z.string().min(1).max(30) }).optional(),
  billDetails: caseInsensitiveObject({ billerName: z.string().max(140).optional(), amount: govStackAmount, currency: z.string().length(3).optional() }),
  /** Kassa's addition: when the request lapses (EXP); without it, RTP_EXPIRY_MS after it is made. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

const rtpResponseBody = caseInsensitiveObject({
  RequestId: requestId,
  txnId: z.string().max(64).optional(),
  rtpId,
  billId: billIdSchema,
  rtpStatus: z.enum(['00', '01']),
  rejectReason: z.string().min(1).max(10).nullable().optional(),
});

const billerHeadersOf = (req: Request) => ({
  'X-CorrelationID': req.get('X-CorrelationID'),
  'X-Platform-TenantId': headerOf(req, TENANT_HEADERS),
  'X-billerId': req.get('X-billerId'),
  'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS),
});

function payerOf(body: z.infer<typeof rtpRequestBody>): PayerOfRequest {
  if (body.requestType === '00') {
    if (!body.payerFiDetails) throw new GovStackRejection(400, 'Bad request: payerFiDetails is required when requestType is 00', body.requestId);
    return { requestType: '00', payerInstitutionCode: body.payerFiDetails.payerFIBIC, financialAddress: body.payerFiDetails.financialAddress ?? null };
  }
  if (!body.alias) throw new GovStackRejection(400, 'Bad request: alias is required when requestType is 01', body.requestId);
  return { requestType: '01', alias: body.alias.aliasId };
}

export function transferRequestsRouter(context: ServiceContext): Router {
  const router = Router();
  const guards = p2gGuards(context);

  router.post('/rtpRequest', ...guards, requireScope('fees:write'), async (req: Request, res: Response) => {
    const [headers, body] = acceptParts(givenRequestId(req.body), parsePart(requestHeaders, billerHeadersOf(req), 'header'), parsePart(rtpRequestBody, req.body, 'body'));
    const input = {
      correlationId: headers['X-CorrelationID'], tenantId: headers['X-Platform-TenantId'], billerCode: headers['X-billerId'], callbackUrl: headers['X-Callback-URL'],
      requestId: body.requestId, rtpId: body.rtpId, billId: body.billID, payer: payerOf(body), amount: decimalTextOf(body.billDetails.amount),
      currency: body.billDetails.currency, expiresAt: body.expiresAt === undefined ? undefined : new Date(body.expiresAt),
    };
    const { reply, replayed } = await refusingAsGovStack(body.requestId, () =>
      requestToPay(context, callerOf(res), originOf(req, res), input, correlationIdempotency(req, input.correlationId, input)));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(200).json(reply);
  }, p2gErrors('responseDescription'));

  router.post('/rtpResponse', ...guards, requireScope('bills:pay'), async (req: Request, res: Response) => {
    const [headers, body] = acceptParts(givenRequestId(req.body), parsePart(billerHeaders, billerHeadersOf(req), 'header'), parsePart(rtpResponseBody, req.body, 'body'));
    const answer = {
      correlationId: headers['X-CorrelationID'], tenantId: headers['X-Platform-TenantId'], billerCode: headers['X-billerId'], rtpId: body.rtpId, billId: body.billId,
      requestId: body.RequestId, accepted: body.rtpStatus === '00', rejectReason: body.rejectReason ?? null,
    };
    const { reply, replayed } = await refusingAsGovStack(body.RequestId, () =>
      answerRequestToPay(context, callerOf(res), originOf(req, res), answer, correlationIdempotency(req, answer.correlationId, answer)));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(200).json(reply);
  }, p2gErrors('responseDescription'));

  router.get('/transferRequests/:transferRequestId', ...guards, requireScope('fees:write'), async (req: Request, res: Response) => {
    const [headers] = acceptParts(req.get('X-CorrelationID') ?? '', parsePart(billerHeaders, billerHeadersOf(req), 'header'));
    const rtpIdGiven = req.params.transferRequestId as string;
    const found = await refusingAsGovStack(headers['X-CorrelationID'], async () => {
      const biller = await ownBiller(context.db, callerOf(res), headers['X-billerId']);
      const request = await findTransferRequest(context.db, biller.id, rtpIdGiven);
      if (!request) throw new ProblemError(404, 'transfer_request_not_found', 'Not found', `biller ${biller.code} has no request to pay ${rtpIdGiven}`);
      return request;
    });
    res.status(200).json(presentTransferRequestStatus(found, new Date()));
  }, p2gErrors('reason'));

  /** Kassa's addition: the files have a status CAN but no call that cancels, so the biller withdraws its request here. */
  router.delete('/transferRequests/:transferRequestId', ...guards, requireScope('fees:write'), async (req: Request, res: Response) => {
    const [headers] = acceptParts(req.get('X-CorrelationID') ?? '', parsePart(billerHeaders, billerHeadersOf(req), 'header'));
    const cancelled = await refusingAsGovStack(headers['X-CorrelationID'], () =>
      cancelRequestToPay(context, callerOf(res), originOf(req, res), headers['X-billerId'], req.params.transferRequestId as string));
    res.status(200).json(presentTransferRequestStatus(cancelled, new Date()));
  }, p2gErrors('reason'));

  return router;
}
