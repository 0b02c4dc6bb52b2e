import { billPaymentOutcome, TRANSFER_REQUEST_STATUS_WORDS, transferRequestStatus } from '../domain/bill.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ProblemError } from '../domain/errors.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findBillerByCode } from '../db/repositories/billers.ts';
import { findPayerInstitution } from '../db/repositories/payer-institutions.ts';
import { decideTransferRequest, findTransferRequest } from '../db/repositories/transfer-requests.ts';
import type { ServiceContext } from './context.ts';
import type { Idempotency } from './idempotent-replay.ts';
import { rtpIdOf } from './present-transfer-request.ts';
import { queueCallback } from './queue-callback.ts';
import { runOnce } from './run-once.ts';

export interface TransferRequestAnswer {
  readonly correlationId: string;
  readonly tenantId: string;
  /** The biller that sent the request (X-billerId). */
  readonly billerCode: string;
  readonly rtpId: string;
  readonly billId: string;
  /** The payer institution's RequestId, echoed in the acknowledgement. */
  readonly requestId: string;
  readonly accepted: boolean;
  readonly rejectReason: string | null;
}

/** payerRtpResponse.yml's acknowledgement. */
export interface TransferRequestAnswerReply {
  readonly responseCode: '00';
  readonly responseDescription: string;
  readonly requestID: string;
}

/**
 * The payer institution accepts (rtpStatus 00) or rejects (01) a request to pay addressed to it, once, while the
 * request is pending and not expired; the answer is pushed to the biller (billerRtpResponse.yml, GovStack's
 * /rtpUpdate) by the callback worker, committed with it.
 */
export async function answerRequestToPay(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, answer: TransferRequestAnswer, idempotency: Idempotency): Promise<{ reply: TransferRequestAnswerReply; replayed: boolean }> {
  const biller = await findBillerByCode(context.db, answer.billerCode);
  const request = biller && (await findTransferRequest(context.db, biller.id, answer.rtpId));
  const payer = request && (await findPayerInstitution(context.db, caller.organisationId, request.payerInstitutionId));
  if (!biller || !request || !payer) {
    throw new ProblemError(404, 'transfer_request_not_found', 'Not found', `no request to pay ${answer.rtpId} of biller ${answer.billerCode} was sent to this organisation's payer institutions`);
  }
  if (request.billId !== answer.billId) throw new ProblemError(400, 'transfer_request_mismatch', 'Bad request', `request to pay ${answer.rtpId} is about bill ${request.billId}, not ${answer.billId}`);

  const { result: reply, replayed } = await runOnce(context.db, caller.organisationId, idempotency, async (trx): Promise<TransferRequestAnswerReply> => {
    if (!(await decideTransferRequest(trx, request.id, answer.accepted ? 'accepted' : 'rejected', answer.rejectReason))) {
      const current = (await findTransferRequest(trx, biller.id, answer.rtpId))!;
      const status = transferRequestStatus(current, current.payment ? billPaymentOutcome(current.payment.orderStatus) : undefined, new Date());
      const said = current.decision === 'accepted' ? 'accepted' : TRANSFER_REQUEST_STATUS_WORDS[status];
      throw conflict('transfer_request_closed', `the request to pay ${answer.rtpId} is ${said}; it can be answered once, while it is pending`);
    }
    await queueCallback(context, {
      organisationId: biller.organisationId,
      url: request.callbackUrl,
      eventType: 'bill.request_to_pay_answer',
      body: {
        requestId: request.requestId, rtpId: rtpIdOf(request), billId: request.billId, rtpStatus: answer.accepted ? '00' : '01',
        ...(!answer.accepted && answer.rejectReason ? { rejectReason: answer.rejectReason } : {}),
      },
      dedupeKey: `transfer-request-answer:${request.id}`,
      headers: { 'X-CorrelationID': answer.correlationId, 'X-Platform-TenantId': request.tenantId, 'X-billerId': biller.code },
    }, trx);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'transfer_request.answer', target: request.id,
      sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { biller: biller.code, rtp_id: answer.rtpId, accepted: answer.accepted, payer_institution: payer.code },
    });
    return { responseCode: '00', responseDescription: `request to pay ${answer.rtpId} ${answer.accepted ? 'accepted' : 'rejected'}; biller ${biller.code} is told`, requestID: answer.requestId };
  });
  return { reply, replayed };
}
